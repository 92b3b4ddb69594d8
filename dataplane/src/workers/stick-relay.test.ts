// Stick tables across worker threads, through the real threads and messages: each worker writes
// (stick-test-probe.ts, preloaded), the main thread relays, and peers of the pod see the sum.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { ir } from '@switchyard/api';
import { eventually } from '../../../test/helpers/eventually.ts';
import { PeerMesh } from '../peers/peer-mesh.ts';
import { entry, startPeer, TABLE, testLogger, TOKEN } from '../peers/test-support.ts';
import { Dataplane } from '../runtime/dataplane.ts';

const WAIT = { timeoutMs: 30_000, intervalMs: 20 };
const PROBE = new URL('./stick-test-probe.ts', import.meta.url).href;
const LOCAL: ir.StickTable = { ...TABLE, name: 'frontend:default/local', replicate: false };

function snapshot(tables: ir.StickTable[]): ir.Snapshot {
  return { listeners: [], clusters: [], stickTables: tables };
}

async function withWorkers(t: TestContext, table: ir.StickTable, workers = 2): Promise<Dataplane> {
  process.env.SWITCHYARD_TEST_STICK_PROBE = table.name;
  const dp = new Dataplane({ logger: testLogger(), workers, workerExecArgv: ['--import', PROBE], node: 'dp-w', stickFlushMs: 5 });
  delete process.env.SWITCHYARD_TEST_STICK_PROBE;
  t.after(() => dp.close());
  return dp;
}

/** What worker `index` saw as the total of 10.0.0.1, read from its probe entry in `tables`. */
function seen(lookup: (key: string) => { serverId(): number } | null, index: number): number | undefined {
  return lookup(`10.9.0.${index}`)?.serverId();
}

describe('stick tables with worker threads', () => {
  it("every worker sees the others' writes; the main thread holds them all", async (t) => {
    for (const table of [TABLE, LOCAL]) {
      const dp = await withWorkers(t, table);
      assert.deepEqual(await dp.apply(snapshot([table])), { ok: true });
      const main = (key: string): ReturnType<NonNullable<ReturnType<Dataplane['stickTables']['get']>>['lookup']> => dp.stickTables.get(table.name)?.lookup(key) ?? null;
      // Worker 0 counted 1 request, worker 1 counted 2: both see 3, whether the table is replicated or not.
      await eventually(() => {
        assert.equal(main('10.0.0.1')?.read('http_req_cnt'), 3, table.name);
        assert.equal(seen(main, 0), 3);
        assert.equal(seen(main, 1), 3);
      }, WAIT);
    }
  });

  it('a pod with workers and a one-thread peer: writes cross both ways, a newcomer gets the full state', async (t) => {
    const dp = await withWorkers(t, TABLE);
    const mesh = new PeerMesh({
      node: dp.node,
      instance: dp.instance,
      replica: dp.replica,
      token: TOKEN,
      logger: testLogger(),
      listen: { host: '127.0.0.1', port: 0 },
      backoff: { initialMs: 20, maxMs: 200 },
    });
    await mesh.start();
    t.after(() => mesh.close());
    const peer = await startPeer(t, 'dp-p');
    mesh.setPeers([{ node: peer.node, url: peer.url }]);
    peer.mesh.setPeers([{ node: dp.node, url: mesh.url! }]);
    assert.deepEqual(await dp.apply(snapshot([TABLE])), { ok: true });

    // The peer's 4 requests reach both workers (through the main thread); the workers' 3 reach the peer.
    const e = peer.tables.get(TABLE.name)!.track('10.0.0.1')!;
    for (let i = 0; i < 4; i++) e.httpRequest();
    const atPeer = (key: string): { serverId(): number } | null => entry(peer, key);
    await eventually(() => {
      assert.equal(entry(peer, '10.0.0.1')?.read('http_req_cnt'), 7);
      assert.equal(seen(atPeer, 0), 7, 'worker 0 sees the peer too');
      assert.equal(seen(atPeer, 1), 7, 'worker 1 sees the peer too');
    }, WAIT);

    // A new peer learns everything from the pod's main thread, every worker's states included.
    const late = await startPeer(t, 'dp-q');
    mesh.setPeers([
      { node: peer.node, url: peer.url },
      { node: late.node, url: late.url },
    ]);
    await eventually(() => {
      assert.equal(entry(late, '10.0.0.1')?.read('http_req_cnt'), 7);
      assert.equal(entry(late, '10.9.0.1')?.serverId(), 7);
    }, WAIT);
    assert.ok(peer.mesh.stats().lag.count > 0, "the workers' changes reached the peer as measured deltas");
  });
});
