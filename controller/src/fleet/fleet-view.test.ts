import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ir } from '@switchyard/api';
import { WebSocket } from 'ws';
import { ChannelServer } from '../channel/channel-server.ts';
import { SnapshotCache } from '../channel/snapshot-cache.ts';
import type { DataplaneStatus } from '../channel/fleet.ts';
import type { VersionedSnapshot } from '../channel/versioned-snapshot.ts';
import { HttpError } from './api-errors.ts';
import { formatMicroTime } from '../kube-time.ts';
import { FleetReporter } from './fleet-reporter.ts';
import { FleetView } from './fleet-view.ts';
import type { FleetLease } from './lease-client.ts';
import { encodeReport } from './report.ts';
import { FakeLeaseClient } from './testing/fake-lease-client.ts';
import { dataplane, FakeLocalFleet } from './testing/fake-local-fleet.ts';
import { ManualClock, settle } from '../testing/manual-clock.ts';
import { silentLogger } from '../../../test/helpers/snapshots.ts';

function reportLease(replica: string, dps: DataplaneStatus[], renewMs: number, extra: Partial<FleetLease> = {}): FleetLease {
  return {
    name: `switchyard-fleet-${replica}`,
    labels: { 'switchyard.dev/fleet-report': 'true' },
    annotations: { 'switchyard.dev/dataplanes': encodeReport(dps) },
    holderIdentity: replica,
    leaseDurationSeconds: 15,
    renewTime: formatMicroTime(renewMs),
    ...extra,
  };
}

function setup(options: { local?: DataplaneStatus[]; snapshots?: Map<string, VersionedSnapshot> } = {}) {
  const client = new FakeLeaseClient();
  const clock = new ManualClock();
  const local = new FakeLocalFleet(options.local ?? []);
  const warnings: string[] = [];
  const view = new FleetView({
    client,
    clock,
    local: { replica: 'r1', fleet: local },
    ...(options.snapshots ? { snapshots: options.snapshots } : {}),
    backoffMs: 1000,
    logger: { warn: (_o, msg) => warnings.push(msg) },
  });
  let changes = 0;
  view.onChange(() => changes++);
  const nodes = () => view.list().map((d) => `${d.node}@${d.replica}:${d.ackedVersion}`);
  return { client, clock, local, view, warnings, nodes, changes: () => changes };
}

describe('FleetView', () => {
  it('merges its own live data planes with the valid reports of other replicas, ignoring its own Lease', async () => {
    const { client, clock, view, nodes } = setup({ local: [dataplane('dp-a', { replica: 'r1', ackedVersion: 'v1' })] });
    client.put(reportLease('r2', [dataplane('dp-b', { ackedVersion: 'v1' }), dataplane('dp-c')], clock.now()));
    client.put(reportLease('r1', [dataplane('dp-stale', { ackedVersion: 'v0' })], clock.now()));
    client.put({ ...reportLease('other', [dataplane('dp-x')], clock.now()), labels: {} });
    assert.equal(view.synced, false);
    view.start();
    await settle();
    assert.equal(view.synced, true);
    assert.deepEqual(nodes(), ['dp-a@r1:v1', 'dp-b@r2:v1', 'dp-c@r2:null']);
    assert.deepEqual(view.replicas(), ['r1', 'r2']);
    await view.stop();
  });

  it('follows the watch: new, changed and deleted reports, notifying on each change but not on a bare renewal', async () => {
    const { client, clock, view, nodes, changes } = setup();
    view.start();
    await settle();
    const c0 = changes();
    client.put(reportLease('r2', [dataplane('dp-b', { ackedVersion: 'v1' })], clock.now()));
    await settle();
    assert.deepEqual(nodes(), ['dp-b@r2:v1']);
    assert.equal(changes(), c0 + 1);
    await clock.advance(5000);
    client.put(reportLease('r2', [dataplane('dp-b', { ackedVersion: 'v1' })], clock.now()));
    await settle();
    assert.equal(changes(), c0 + 1, 'renewal only');
    client.put(reportLease('r2', [dataplane('dp-b', { ackedVersion: 'v2' })], clock.now()));
    await settle();
    assert.deepEqual(nodes(), ['dp-b@r2:v2']);
    assert.equal(changes(), c0 + 2);
    await client.delete('switchyard-fleet-r2');
    await settle();
    assert.deepEqual(nodes(), []);
    assert.equal(changes(), c0 + 3);
    await view.stop();
  });

  it('drops a report not renewed within its leaseDurationSeconds (judged on the local clock), and takes it back when renewed', async () => {
    const { client, clock, view, nodes, changes } = setup();
    client.put(reportLease('r2', [dataplane('dp-b')], clock.now(), { leaseDurationSeconds: 6 }));
    view.start();
    await settle();
    assert.deepEqual(nodes(), ['dp-b@r2:null']);
    const c0 = changes();
    await clock.advance(6000);
    assert.deepEqual(nodes(), ['dp-b@r2:null'], 'still valid at exactly the duration');
    await clock.advance(1);
    assert.deepEqual(nodes(), []);
    assert.equal(changes(), c0 + 1, 'expiry notifies without any API event');
    // A renewal with a renewTime from a clock far behind still counts: the view saw it change.
    client.put(reportLease('r2', [dataplane('dp-b')], clock.now() - 3_600_000, { leaseDurationSeconds: 6 }));
    await settle();
    assert.deepEqual(nodes(), ['dp-b@r2:null']);
    assert.equal(changes(), c0 + 2);
    await view.stop();
  });

  it('a report first seen long after its renewTime (a replica that died before this view started) is dropped at once', async () => {
    const { client, clock, view, nodes } = setup();
    client.put(reportLease('dead', [dataplane('dp-z')], clock.now() - 60_000));
    client.put(reportLease('ahead', [dataplane('dp-y')], clock.now() + 60_000)); // clock skew: counts from now
    view.start();
    await settle();
    assert.deepEqual(nodes(), ['dp-y@ahead:null']);
    await clock.advance(15_001);
    assert.deepEqual(nodes(), []);
    await view.stop();
  });

  it('a node reported twice is taken from the entry updated last (it moved between replicas)', async () => {
    const { client, clock, view, local } = setup({ local: [dataplane('dp-a', { replica: 'r1', ackedVersion: 'old', updatedAt: 100 })] });
    client.put(reportLease('r2', [dataplane('dp-a', { ackedVersion: 'new', updatedAt: 200 })], clock.now()));
    client.put(reportLease('r3', [dataplane('dp-a', { ackedVersion: 'older', updatedAt: 50 })], clock.now()));
    view.start();
    await settle();
    assert.deepEqual(
      view.list().map((d) => [d.node, d.replica, d.ackedVersion]),
      [['dp-a', 'r2', 'new']],
    );
    local.set([dataplane('dp-a', { replica: 'r1', ackedVersion: 'newest', updatedAt: 300 })]);
    assert.equal(view.list()[0]!.replica, 'r1');
    await view.stop();
  });

  it('notifies on local fleet changes', async () => {
    const { view, local, changes } = setup();
    view.start();
    await settle();
    const c0 = changes();
    local.set([dataplane('dp-a')]);
    assert.equal(changes(), c0 + 1);
    await view.stop();
    local.set([]);
    assert.equal(changes(), c0 + 1, 'not after stop');
  });

  it('expands compact health with the snapshot of the acked version', async () => {
    const cluster = { name: 'default/web', servers: [{ name: 'a' }, { name: 'b' }] } as unknown as ir.Cluster;
    const snapshots = new Map<string, VersionedSnapshot>();
    const { client, clock, view } = setup({ snapshots });
    client.put(
      reportLease(
        'r2',
        [dataplane('dp-b', { ackedVersion: 'v1', health: [{ cluster: 'default/web', server: 'b', state: 'down', reason: 'L4CON' }, { cluster: 'default/web', server: 'a', state: 'up', reason: '' }] })],
        clock.now(),
      ),
    );
    view.start();
    await settle();
    assert.deepEqual(view.list()[0]!.health.map((h) => `${h.server}:${h.state}`), ['b:down'], 'version unknown: only what is not up');
    snapshots.set('v1', { version: 'v1', snapshot: { listeners: [], clusters: [cluster], stickTables: [] }, contents: new Map() });
    assert.deepEqual(view.list()[0]!.health.map((h) => `${h.server}:${h.state}`), ['a:up', 'b:down'], 'retried once the cache has it');
    await view.stop();
  });

  it('an unreadable report is ignored with a warning', async () => {
    const { client, clock, view, nodes, warnings } = setup();
    client.put({ ...reportLease('r2', [], clock.now()), annotations: { 'switchyard.dev/dataplanes': 'nope' } });
    view.start();
    await settle();
    assert.deepEqual(nodes(), []);
    assert.match(warnings.join(), /unreadable fleet report/);
    await view.stop();
  });

  it('a watch the server ends is resumed from the last version without a relist', async () => {
    const { client, clock, view, nodes } = setup();
    view.start();
    await settle();
    client.put(reportLease('r2', [dataplane('dp-b')], clock.now()));
    await settle();
    client.endWatches();
    client.put(reportLease('r3', [dataplane('dp-c')], clock.now()));
    await settle();
    assert.deepEqual(nodes(), ['dp-b@r2:null', 'dp-c@r3:null'], 'at once, and nothing missed');
    assert.deepEqual(
      client.calls.filter((c) => c === 'list' || c === 'watch'),
      ['list', 'watch', 'watch'],
    );
    await view.stop();
  });

  it('a watch that ends without delivering anything is resumed after a growing pause', async () => {
    const { client, clock, view } = setup();
    view.start();
    await settle();
    const watches = () => client.calls.filter((c) => c === 'watch').length;
    client.endWatches();
    await settle();
    assert.equal(watches(), 1);
    await clock.advance(1000);
    assert.equal(watches(), 2);
    client.endWatches();
    await settle();
    await clock.advance(1999);
    assert.equal(watches(), 2);
    await clock.advance(1);
    assert.equal(watches(), 3);
    assert.deepEqual(client.calls.filter((c) => c === 'list'), ['list']);
    await view.stop();
  });

  it('410 Gone relists at once; other failures back off, then relist; reports deleted meanwhile go away', async () => {
    const { client, clock, view, nodes, warnings } = setup();
    client.put(reportLease('r2', [dataplane('dp-b')], clock.now()));
    client.put(reportLease('r3', [dataplane('dp-c')], clock.now()));
    view.start();
    await settle();
    assert.deepEqual(nodes(), ['dp-b@r2:null', 'dp-c@r3:null']);

    // Gone: the view must relist (and catches a deletion it missed).
    client.fail('watch', new HttpError(410, 'too old resource version'));
    client.endWatches(); // a quiet watch ends: the view pauses before watching again
    client.leases.delete('switchyard-fleet-r3');
    await settle();
    await clock.advance(1000);
    assert.deepEqual(nodes(), ['dp-b@r2:null']);
    assert.deepEqual(client.calls.filter((c) => c === 'list' || c === 'watch'), ['list', 'watch', 'watch', 'list', 'watch']);

    // A broken connection: back off 1 s, then list again; the list fails too: back off 2 s.
    client.fail('list', new Error('ECONNREFUSED'));
    client.endWatches(new Error('ECONNRESET'));
    await settle();
    assert.equal(client.calls.filter((c) => c === 'list').length, 2);
    assert.equal(warnings.length, 1);
    await clock.advance(999);
    assert.equal(client.calls.filter((c) => c === 'list').length, 2);
    await clock.advance(1);
    assert.equal(client.calls.filter((c) => c === 'list').length, 3);
    assert.equal(warnings.length, 2);
    client.put(reportLease('r4', [dataplane('dp-d')], clock.now()));
    await clock.advance(2000);
    assert.equal(client.calls.filter((c) => c === 'list').length, 4);
    assert.deepEqual(nodes(), ['dp-b@r2:null', 'dp-d@r4:null']);
    assert.equal(view.synced, true);
    await view.stop();
    assert.equal(client.activeWatches, 0);
  });

  it('a 410 ERROR event on the stream relists too', async () => {
    const { client, view, clock, nodes } = setup();
    view.start();
    await settle();
    client.endWatches();
    client.compact();
    client.put(reportLease('r2', [dataplane('dp-b')], clock.now()));
    client.compact();
    await settle();
    await clock.advance(1000);
    assert.deepEqual(nodes(), ['dp-b@r2:null']);
    assert.deepEqual(client.calls.filter((c) => c === 'list'), ['list', 'list']);
    await view.stop();
  });

  it('stops with its AbortSignal and leaves no watch or timer', async () => {
    const { client, clock, view } = setup();
    client.put(reportLease('r2', [dataplane('dp-b')], clock.now()));
    const ac = new AbortController();
    view.start(ac.signal);
    await settle();
    assert.equal(client.activeWatches, 1);
    ac.abort();
    await settle();
    assert.equal(client.activeWatches, 0);
    assert.equal(clock.pending, 0);
    assert.deepEqual(view.list(), []);
  });
});

describe('FleetReporter -> Leases -> FleetView, two replicas', () => {
  it('the leader sees the data planes of the other replica, and forgets them when it stops or dies', async () => {
    const client = new FakeLeaseClient();
    const clock = new ManualClock();
    const fleet1 = new FakeLocalFleet([dataplane('dp-a', { replica: 'r1', ackedVersion: 'v1' })]);
    const fleet2 = new FakeLocalFleet([dataplane('dp-b', { replica: 'r2', ackedVersion: 'v1' })]);
    const r1 = new FleetReporter({ client, clock, replica: 'r1', fleet: fleet1 });
    const r2 = new FleetReporter({ client, clock, replica: 'r2', fleet: fleet2 });
    const view = new FleetView({ client, clock, local: { replica: 'r1', fleet: fleet1 } });
    r1.start();
    r2.start();
    view.start();
    await settle();
    const nodes = () => view.list().map((d) => `${d.node}@${d.replica}:${d.ackedVersion}`);
    assert.deepEqual(nodes(), ['dp-a@r1:v1', 'dp-b@r2:v1']);

    fleet2.set([dataplane('dp-b', { replica: 'r2', ackedVersion: 'v2', nack: null })]);
    await clock.advance(150);
    await r2.idle();
    await settle();
    assert.deepEqual(nodes(), ['dp-a@r1:v1', 'dp-b@r2:v2']);

    // r2 keeps renewing: still there long after the validity.
    await clock.advance(60_000);
    assert.deepEqual(nodes(), ['dp-a@r1:v1', 'dp-b@r2:v2']);

    // r2 stops cleanly: its Lease goes, and its data planes with it.
    await r2.stop();
    await settle();
    assert.deepEqual(nodes(), ['dp-a@r1:v1']);
    await r1.stop();
    await view.stop();
  });
});

describe('FleetView as the channel server peer directory', () => {
  it("tells this replica's data planes about the data planes of other replicas (their peer URLs travel in the reports)", async (t) => {
    const client = new FakeLeaseClient();
    const clock = new ManualClock();
    const channel = new ChannelServer({ cache: new SnapshotCache(), replica: 'r1', token: () => 'tok', logger: silentLogger(), peersHoldoffMs: 0 });
    const address = await channel.listen('127.0.0.1', 0);
    t.after(() => channel.close());
    const view = new FleetView({ client, clock, local: { replica: 'r1', fleet: channel } });
    channel.usePeerDirectory(view);
    view.start();
    t.after(() => view.stop());

    const ws = new WebSocket(`ws://127.0.0.1:${address.port}`, { headers: { authorization: 'Bearer tok' } });
    t.after(() => ws.terminate());
    const lists: unknown[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; peers?: unknown };
      if (m.type === 'peers') lists.push(m.peers);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, node: 'dp-a', lastVersion: null, peer: { url: 'ws://10.0.0.1:7946/' } }));
    const until = async (check: () => boolean): Promise<void> => {
      while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    await until(() => lists.length === 1);
    assert.deepEqual(lists[0], []);

    client.put(reportLease('r2', [dataplane('dp-b', { peerUrl: 'ws://10.0.0.2:7946/' }), dataplane('dp-c')], clock.now()));
    await until(() => lists.length === 2);
    assert.deepEqual(lists[1], [{ node: 'dp-b', url: 'ws://10.0.0.2:7946/' }]);

    // r2 stops renewing: its data planes leave the list (they reconnect to a live replica).
    await clock.advance(16_000);
    await until(() => lists.length === 3);
    assert.deepEqual(lists[2], []);
  });
});
