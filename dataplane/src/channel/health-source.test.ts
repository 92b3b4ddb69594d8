// The Dataplane as the channel's health source: healthReport() and onHealthChange(), with real
// TCP health checks scheduled on a FakeClock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ir } from '@switchyard/api';
import { Dataplane } from '../runtime/dataplane.ts';
import { FakeClock, refusedPort, startServer } from '../health/test-support.ts';
import { silentLogger, tcpSnapshot } from '../../../test/helpers/snapshots.ts';

function withServers(servers: Partial<ir.Server>[], health: ir.HealthCheck | null): ir.Snapshot {
  const snapshot = tcpSnapshot(1);
  const cluster = snapshot.clusters[0]!;
  const template = cluster.servers[0]!;
  cluster.servers = servers.map((s, i) => ({ ...template, id: i + 1, ...s }));
  cluster.health = health;
  return snapshot;
}

const tcpCheck: ir.HealthCheck = {
  policy: 'default/tcp',
  intervalMs: 1000,
  fastIntervalMs: 1000,
  downIntervalMs: 1000,
  timeoutMs: 1000,
  rise: 1,
  fall: 1,
  port: null,
  probe: { kind: 'tcp', send: null, expect: null },
};

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('Dataplane health source', () => {
  it('reports every server of the served snapshot: up, down with the check result, maint', async (t) => {
    const dataplane = new Dataplane({ logger: silentLogger(), clock: new FakeClock(), random: () => 0 });
    t.after(() => dataplane.close());
    assert.deepEqual(dataplane.healthReport(), [], 'nothing before the first snapshot');
    const result = await dataplane.apply(withServers([{ name: 'a', port: 1 }, { name: 'b', port: 2, disabled: true }], null));
    assert.ok(result.ok);
    assert.deepEqual(dataplane.healthReport(), [
      { cluster: 'default/web', server: 'a', state: 'up', reason: '' },
      { cluster: 'default/web', server: 'b', state: 'maint', reason: '' },
    ]);
  });

  it('fires onHealthChange on check transitions and admin changes, also for servers of a later snapshot', async (t) => {
    const clock = new FakeClock();
    const dataplane = new Dataplane({ logger: silentLogger(), clock, random: () => 0 });
    t.after(() => dataplane.close());
    const live = await startServer(() => {});
    t.after(() => live.close());
    const dead = await refusedPort();
    let changes = 0;
    const off = dataplane.onHealthChange(() => changes++);

    assert.ok((await dataplane.apply(withServers([{ name: 'live', port: live.port }, { name: 'dead', port: dead }], tcpCheck))).ok);
    assert.equal(changes, 0, 'applying is not a change by itself');
    clock.advance(999); // the first checks run within one interval
    await until(() => dataplane.healthReport()[0]!.reason !== '' && dataplane.healthReport()[1]!.state === 'down');
    const report = dataplane.healthReport();
    assert.deepEqual(report[0], { cluster: 'default/web', server: 'live', state: 'up', reason: 'L4OK: Layer4 check passed' });
    assert.equal(report[1]!.state, 'down');
    assert.match(report[1]!.reason, /^L4CON: Layer4 connection problem/);
    assert.equal(changes, 1, 'one transition: dead went down');

    const liveState = dataplane.servers().find((s) => s.name === 'live')!;
    liveState.setAdmin('maint');
    assert.equal(changes, 2);
    assert.equal(dataplane.healthReport()[0]!.state, 'maint');
    liveState.setAdmin('maint');
    assert.equal(changes, 2, 'no change, no call');

    // A new snapshot with a new server: its transitions are reported too.
    const dead2 = await refusedPort();
    assert.ok((await dataplane.apply(withServers([{ name: 'live', port: live.port }, { name: 'other', port: dead2 }], tcpCheck))).ok);
    clock.advance(999);
    await until(() => dataplane.healthReport()[1]!.state === 'down');
    assert.equal(changes, 3);

    off();
    dataplane.servers()[0]!.setAdmin('ready');
    assert.equal(changes, 3, 'unsubscribed');
  });
});
