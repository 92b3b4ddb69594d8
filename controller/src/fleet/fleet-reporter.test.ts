import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from './api-errors.ts';
import { FleetReporter } from './fleet-reporter.ts';
import { decodeReport } from './report.ts';
import { FakeLeaseClient } from './testing/fake-lease-client.ts';
import { dataplane, FakeLocalFleet } from './testing/fake-local-fleet.ts';
import { ManualClock, settle } from '../testing/manual-clock.ts';

function setup(options: { intervalMs?: number } = {}) {
  const client = new FakeLeaseClient();
  const fleet = new FakeLocalFleet([dataplane('dp-a', { ackedVersion: 'v1' })]);
  const clock = new ManualClock();
  const warnings: string[] = [];
  const reporter = new FleetReporter({
    client,
    replica: 'ctrl-0',
    fleet,
    clock,
    intervalMs: options.intervalMs ?? 5000,
    debounceMs: 150,
    logger: { warn: (_o, msg) => warnings.push(msg) },
  });
  const lease = () => client.leases.get('switchyard-fleet-ctrl-0');
  const nodes = () => {
    const r = decodeReport(lease()?.annotations?.['switchyard.dev/dataplanes']);
    assert.ok(r.ok);
    return r.dataplanes.map((d) => `${d.node}@${d.acked}`);
  };
  return { client, fleet, clock, reporter, lease, nodes, warnings };
}

describe('FleetReporter', () => {
  it('writes its Lease at once: label, holder, MicroTime renewTime, validity, the compact report', async () => {
    const { reporter, lease, nodes, clock } = setup();
    reporter.start();
    await reporter.idle();
    const l = lease();
    assert.ok(l);
    assert.deepEqual(l.labels, { 'switchyard.dev/fleet-report': 'true', 'app.kubernetes.io/part-of': 'switchyard' });
    assert.equal(l.holderIdentity, 'ctrl-0');
    assert.equal(l.leaseDurationSeconds, 15);
    assert.equal(l.renewTime, new Date(clock.now()).toISOString().replace('Z', '000Z'));
    assert.match(l.renewTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.deepEqual(nodes(), ['dp-a@v1']);
    await reporter.stop();
  });

  it('coalesces a burst of fleet changes into one write after the debounce', async () => {
    const { reporter, fleet, clock, client, nodes } = setup();
    reporter.start();
    await reporter.idle();
    const before = reporter.writes;
    for (let i = 2; i <= 5; i++) fleet.set([dataplane('dp-a', { ackedVersion: `v${i}` })]);
    await clock.advance(100);
    assert.equal(reporter.writes, before, 'not before the debounce');
    await clock.advance(50);
    await reporter.idle();
    assert.equal(reporter.writes, before + 1);
    assert.deepEqual(nodes(), ['dp-a@v5']);
    assert.equal(client.calls.filter((c) => c === 'get').length, 1, 'the resourceVersion it wrote is reused: no read per write');
    await reporter.stop();
  });

  it('renews every interval without changes, moving renewTime', async () => {
    const { reporter, clock, lease } = setup({ intervalMs: 2000 });
    reporter.start();
    await reporter.idle();
    const first = lease()!.renewTime;
    await clock.advance(1999);
    assert.equal(lease()!.renewTime, first);
    await clock.advance(1);
    await reporter.idle();
    assert.notEqual(lease()!.renewTime, first);
    assert.equal(Date.parse(lease()!.renewTime!), clock.now());
    await reporter.stop();
  });

  it('a change arriving during a write is written right after it', async () => {
    const { reporter, fleet, clock, nodes } = setup();
    reporter.start(); // first write in flight
    fleet.set([dataplane('dp-b', { ackedVersion: 'v7' })]);
    await clock.advance(150);
    await reporter.idle();
    assert.deepEqual(nodes(), ['dp-b@v7']);
    await reporter.stop();
  });

  it('on 409 (another writer) reads the Lease again and replaces it', async () => {
    const { reporter, fleet, clock, client, nodes } = setup();
    reporter.start();
    await reporter.idle();
    client.put({ ...client.leases.get('switchyard-fleet-ctrl-0')!, annotations: { 'switchyard.dev/dataplanes': '{}' } });
    fleet.set([dataplane('dp-a', { ackedVersion: 'v2' })]);
    await clock.advance(150);
    await reporter.idle();
    assert.deepEqual(nodes(), ['dp-a@v2']);
    assert.deepEqual(client.calls.slice(-3), ['replace', 'get', 'replace']);
    await reporter.stop();
  });

  it('recreates a Lease deleted under it', async () => {
    const { reporter, clock, client, lease } = setup();
    reporter.start();
    await reporter.idle();
    client.leases.delete('switchyard-fleet-ctrl-0');
    await clock.advance(5000);
    await reporter.idle();
    assert.ok(lease());
    assert.deepEqual(client.calls.slice(-3), ['replace', 'get', 'create']);
    await reporter.stop();
  });

  it('a failed write is logged and retried at the next renewal', async () => {
    const { reporter, clock, client, lease, warnings } = setup();
    client.fail('get', new HttpError(500, 'etcd unavailable'));
    reporter.start();
    await reporter.idle();
    assert.equal(lease(), undefined);
    assert.deepEqual(warnings, ['fleet report: write failed; retrying at the next change or renewal']);
    await clock.advance(5000);
    await reporter.idle();
    assert.ok(lease());
    await reporter.stop();
  });

  it('gives up after bounded conflicts and tries again later', async () => {
    const { reporter, client, warnings, clock, lease } = setup();
    for (let i = 0; i < 4; i++) client.fail('create', new HttpError(409, 'exists'));
    reporter.start();
    await reporter.idle();
    assert.equal(client.calls.filter((c) => c === 'create').length, 4);
    assert.equal(warnings.length, 1);
    await clock.advance(5000);
    await reporter.idle();
    assert.ok(lease());
    await reporter.stop();
  });

  it('stop deletes the Lease, unsubscribes and leaves no timer', async () => {
    const { reporter, fleet, clock, lease } = setup();
    reporter.start();
    await reporter.idle();
    assert.equal(fleet.listeners, 1);
    await reporter.stop();
    assert.equal(lease(), undefined);
    assert.equal(fleet.listeners, 0);
    assert.equal(clock.pending, 0);
    fleet.set([]);
    await settle();
    assert.equal(lease(), undefined);
  });

  it('refuses a validity that is not longer than the interval', () => {
    assert.throws(
      () => new FleetReporter({ client: new FakeLeaseClient(), replica: 'x', fleet: new FakeLocalFleet(), intervalMs: 5000, staleAfterMs: 5000 }),
      /staleAfterMs > intervalMs/,
    );
  });
});
