// Peer meshes in one process, on 127.0.0.1 ephemeral ports, with real stick tables: no sleeps,
// every wait polls for a condition.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { eventually } from '../../../test/helpers/eventually.ts';
import { PEER_PROTOCOL, PeerCloseCode } from './frames.ts';
import { entry, introduce, startPeer, TABLE, TOKEN } from './test-support.ts';

const WAIT = { timeoutMs: 20_000, intervalMs: 10 };

function requests(peer: Awaited<ReturnType<typeof startPeer>>, key: string, n: number): void {
  const e = peer.tables.get(TABLE.name)!.track(key)!;
  for (let i = 0; i < n; i++) e.httpRequest();
}

describe('PeerMesh', () => {
  it('sends the full state on connect, then deltas; counters add up, the last server_id wins', async (t) => {
    const a = await startPeer(t, 'dp-a');
    // Written before b exists: only a full sync can bring it over.
    requests(a, '10.0.0.1', 3);
    a.tables.get(TABLE.name)!.track('10.0.0.1')!.setServerId(2);
    const b = await startPeer(t, 'dp-b');
    introduce([a, b]);

    await eventually(() => {
      assert.equal(entry(b, '10.0.0.1')?.read('http_req_cnt'), 3);
      assert.equal(entry(b, '10.0.0.1')?.serverId(), 2);
    }, WAIT);

    // Deltas both ways (once both links are past their full sync): the counts are summed, not overwritten.
    await eventually(() => {
      for (const p of [a, b]) assert.deepEqual(p.mesh.stats().peers.map((x) => [x.connected, x.synced]), [[true, true]]);
    }, WAIT);
    requests(a, '10.0.0.1', 4);
    requests(b, '10.0.0.1', 5);
    await eventually(() => {
      assert.equal(entry(a, '10.0.0.1')?.read('http_req_cnt'), 12);
      assert.equal(entry(b, '10.0.0.1')?.read('http_req_cnt'), 12);
      assert.equal(entry(a, '10.0.0.1')?.read('http_req_rate'), 12);
    }, WAIT);

    // b sticks the client to another server: everyone follows the latest write.
    b.tables.get(TABLE.name)!.track('10.0.0.1')!.setServerId(3);
    await eventually(() => assert.equal(entry(a, '10.0.0.1')?.serverId(), 3), WAIT);

    const stats = a.mesh.stats();
    assert.equal(stats.url, a.url);
    assert.deepEqual(
      stats.peers.map((p) => [p.node, p.url, p.connected, p.inbound, p.synced]),
      [['dp-b', b.url, true, true, true]],
    );
    assert.ok(stats.lag.count > 0, 'deltas were measured');
    assert.ok(stats.lag.p50! >= 0 && stats.lag.p99! >= stats.lag.p50! && stats.lag.max! >= stats.lag.p99!);
    assert.equal(typeof stats.peers[0]!.lastLagMs, 'number');
    assert.equal(stats.origins, 1, "b's one origin");
  });

  it('a restarted peer (new instance) learns the current state, and the old one stops counting connections', async (t) => {
    const a = await startPeer(t, 'dp-a');
    const b1 = await startPeer(t, 'dp-b');
    introduce([a, b1]);
    requests(a, '10.0.0.7', 2);
    const tracked = b1.tables.get(TABLE.name)!.track('10.0.0.7')!;
    tracked.trackStart(); // a connection b1 will never see end
    tracked.httpRequest();
    await eventually(() => {
      assert.equal(entry(a, '10.0.0.7')?.read('conn_cur'), 1);
      assert.equal(entry(a, '10.0.0.7')?.read('http_req_cnt'), 3);
    }, WAIT);

    // b dies; a new process with the same name comes up elsewhere.
    await b1.close();
    const b2 = await startPeer(t, 'dp-b');
    assert.notEqual(b2.instance, b1.instance);
    introduce([a, b2]);
    // It learns everything a holds, b1's writes included (they stay until they expire)...
    await eventually(() => assert.equal(entry(b2, '10.0.0.7')?.read('http_req_cnt'), 3), WAIT);
    // ...but b1's connections are gone, once the grace period is over, everywhere.
    await eventually(() => {
      assert.equal(entry(a, '10.0.0.7')?.read('conn_cur'), 0);
      assert.equal(entry(b2, '10.0.0.7')?.read('conn_cur'), 0);
    }, WAIT);
    assert.equal(entry(a, '10.0.0.7')?.read('http_req_cnt'), 3);
  });

  it('a peer that leaves the list is disconnected after the grace period, and its connections stop counting', async (t) => {
    const a = await startPeer(t, 'dp-a');
    const b = await startPeer(t, 'dp-b');
    introduce([a, b]);
    b.tables.get(TABLE.name)!.track('10.0.0.9')!.trackStart();
    await eventually(() => assert.equal(entry(a, '10.0.0.9')?.read('conn_cur'), 1), WAIT);
    await b.close();
    a.mesh.setPeers([]);
    await eventually(() => {
      assert.deepEqual(a.mesh.stats().peers, []);
      assert.equal(entry(a, '10.0.0.9')?.read('conn_cur'), 0);
    }, WAIT);
  });

  it('a peer back in the list within the grace period keeps its link and its connections', async (t) => {
    const a = await startPeer(t, 'dp-a', { removalGraceMs: 60_000 });
    const b = await startPeer(t, 'dp-b', { removalGraceMs: 60_000 });
    introduce([a, b]);
    b.tables.get(TABLE.name)!.track('10.0.0.9')!.trackStart();
    await eventually(() => assert.equal(entry(a, '10.0.0.9')?.read('conn_cur'), 1), WAIT);
    a.mesh.setPeers([]); // a controller restart: lists are empty for a moment
    b.mesh.setPeers([]);
    introduce([a, b]);
    b.tables.get(TABLE.name)!.track('10.0.0.9')!.trackStart();
    await eventually(() => assert.equal(entry(a, '10.0.0.9')?.read('conn_cur'), 2), WAIT);
    assert.equal(a.mesh.stats().peers[0]?.connected, true);
  });

  it('reconnects after the peer restarts on the same URL, and full-syncs again', async (t) => {
    const a = await startPeer(t, 'dp-a');
    const b1 = await startPeer(t, 'dp-b');
    const port = Number(new URL(b1.url).port);
    a.mesh.setPeers([{ node: 'dp-b', url: b1.url }]);
    requests(a, '10.0.0.2', 1);
    await eventually(() => assert.equal(entry(b1, '10.0.0.2')?.read('http_req_cnt'), 1), WAIT);
    await b1.close();
    await eventually(() => assert.notEqual(a.mesh.stats().peers[0]?.state, 'live'), WAIT);
    requests(a, '10.0.0.2', 1); // while b is away
    const b2 = await startPeer(t, 'dp-b', { listen: { host: '127.0.0.1', port } });
    await eventually(() => assert.equal(entry(b2, '10.0.0.2')?.read('http_req_cnt'), 2), WAIT);
    assert.equal(a.mesh.stats().peers[0]?.connected, true);
  });

  it('asks peers for everything again when a replicated table appears here', async (t) => {
    const a = await startPeer(t, 'dp-a');
    const b = await startPeer(t, 'dp-b', { tables: [] });
    introduce([a, b]);
    requests(a, '10.0.0.3', 2);
    await eventually(() => assert.equal(a.mesh.stats().peers[0]?.connected, true), WAIT);
    // b did not know the table: what a sent was dropped. The snapshot that adds it asks for it again.
    b.apply([TABLE]);
    await eventually(() => assert.equal(entry(b, '10.0.0.3')?.read('http_req_cnt'), 2), WAIT);
  });

  it('only replicated tables leave the data plane', async (t) => {
    const local = { ...TABLE, name: 'frontend:default/local', replicate: false };
    const a = await startPeer(t, 'dp-a', { tables: [TABLE, local] });
    const b = await startPeer(t, 'dp-b', { tables: [TABLE, local] });
    introduce([a, b]);
    a.tables.get(local.name)!.track('10.0.0.4')!.httpRequest();
    requests(a, '10.0.0.4', 1);
    await eventually(() => assert.equal(entry(b, '10.0.0.4')?.read('http_req_cnt'), 1), WAIT);
    assert.equal(b.tables.get(local.name)!.lookup('10.0.0.4'), null);
    await b.close();
    const c = await startPeer(t, 'dp-c', { tables: [TABLE, local] });
    introduce([a, c]);
    await eventually(() => assert.equal(entry(c, '10.0.0.4')?.read('http_req_cnt'), 1), WAIT);
    assert.equal(c.tables.get(local.name)!.lookup('10.0.0.4'), null, 'nor in a full sync');
  });

  it('three peers: everyone ends up with the sum, and a newcomer learns states of peers it never met', async (t) => {
    const a = await startPeer(t, 'dp-a');
    const b = await startPeer(t, 'dp-b');
    const c = await startPeer(t, 'dp-c');
    introduce([a, b, c]);
    requests(a, '10.0.0.5', 1);
    requests(b, '10.0.0.5', 2);
    requests(c, '10.0.0.5', 4);
    await eventually(() => {
      for (const p of [a, b, c]) assert.equal(entry(p, '10.0.0.5')?.read('http_req_cnt'), 7, p.node);
    }, WAIT);
    await c.close();
    // d only ever hears from a: a's full state carries c's states too.
    const d = await startPeer(t, 'dp-d');
    d.mesh.setPeers([]);
    a.mesh.setPeers([{ node: 'dp-b', url: b.url }, { node: 'dp-d', url: d.url }]);
    await eventually(() => assert.equal(entry(d, '10.0.0.5')?.read('http_req_cnt'), 7), WAIT);
  });

  it('a static list naming this data plane too: the link to itself stops', async (t) => {
    const b = await startPeer(t, 'dp-b');
    // The list names c's own URL: take a free port for it first.
    const self = await startPeer(t, 'dp-c');
    await self.close();
    const c = await startPeer(t, 'dp-c', { listen: { host: '127.0.0.1', port: Number(new URL(self.url).port) }, staticPeers: [self.url, b.url] });
    requests(c, '10.0.0.6', 1);
    await eventually(() => assert.equal(entry(b, '10.0.0.6')?.read('http_req_cnt'), 1), WAIT);
    await eventually(() => {
      const states = c.mesh.stats().peers.map((p) => [p.url, p.state]);
      assert.deepEqual(states.sort(), [[b.url, 'live'], [self.url, 'self']].sort());
    }, WAIT);
  });

  it('refuses a peer with a wrong token (401), on both ends', async (t) => {
    const a = await startPeer(t, 'dp-a');
    const b = await startPeer(t, 'dp-b', { token: 'another-token' });
    b.mesh.setPeers([{ node: 'dp-a', url: a.url }]);
    await eventually(() => assert.equal(b.mesh.stats().peers[0]?.lastError, 'the peer refused our token (401)'), WAIT);
    assert.equal(b.mesh.stats().peers[0]?.connected, false);
    const refused = await openRaw(a.url, 'wrong');
    assert.equal(refused.status, 401);
    const none = await openRaw(a.url, null);
    assert.equal(none.status, 401);
  });

  it('closes a connection on a bad frame, naming the fault, and keeps serving others', async (t) => {
    const a = await startPeer(t, 'dp-a');
    const cases: [unknown[], number, RegExp][] = [
      [['not json'], PeerCloseCode.BadHello, /^hello: not JSON/],
      [[{ type: 'hello', protocol: 2, node: 'x', instance: 'i' }], PeerCloseCode.BadHello, /^hello: protocol: /],
      [[hello('x'), 'garbage'], PeerCloseCode.BadFrame, /^not JSON/],
      [[hello('x'), { type: 'stick', update: { v: 2 } }], PeerCloseCode.BadFrame, /^update: v: /],
      [[hello('x'), { type: 'stick', update: { v: 1, origin: 'o', sentAt: 1, tables: [{ name: 'n', type: 'ip', columns: ['conn_cur'], origins: ['o'], rows: [['k', 0, 0, 0, -1]] }] } }], PeerCloseCode.BadFrame, /^update: tables\.0\.rows\.0\.4: expected a non-negative count/],
      [[hello('x'), { type: 'resync' }], PeerCloseCode.BadFrame, /^type: /],
    ];
    for (const [frames, code, reason] of cases) {
      const ws = await openRaw(a.url, TOKEN);
      assert.ok(ws.ws, `upgrade refused: ${ws.status}`);
      const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.ws!.on('close', (c, r) => resolve({ code: c, reason: r.toString() })));
      for (const f of frames) ws.ws.send(typeof f === 'string' ? f : JSON.stringify(f));
      const result = await closed;
      assert.equal(result.code, code, JSON.stringify(frames));
      assert.match(result.reason, reason);
    }
    // Its own process: told so.
    const self = await openRaw(a.url, TOKEN);
    const closed = new Promise<number>((resolve) => self.ws!.on('close', (c) => resolve(c)));
    self.ws!.send(JSON.stringify({ type: 'hello', protocol: PEER_PROTOCOL, node: 'dp-a', instance: a.instance }));
    assert.equal(await closed, PeerCloseCode.Self);

    // The mesh still works.
    const b = await startPeer(t, 'dp-b');
    b.mesh.setPeers([{ node: 'dp-a', url: a.url }]);
    requests(b, '10.0.0.8', 1);
    await eventually(() => assert.equal(entry(a, '10.0.0.8')?.read('http_req_cnt'), 1), WAIT);
  });
});

function hello(node: string): Record<string, unknown> {
  return { type: 'hello', protocol: PEER_PROTOCOL, node, instance: `${node}-instance` };
}

/** A raw websocket to a peer server: the socket when upgraded, else the HTTP status. */
function openRaw(url: string, token: string | null): Promise<{ ws: WebSocket | null; status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    ws.once('open', () => resolve({ ws, status: 101 }));
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      resolve({ ws: null, status: res.statusCode ?? 0 });
    });
    ws.once('error', reject);
  });
}

describe('PeerLink backpressure', () => {
  it('drops the connection to a peer that stops reading once the buffer is over the bound, then reconnects', async (t) => {
    // A peer server that says hello and then never reads again.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    t.after(async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    });
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.once('message', () => {
        ws.send(JSON.stringify({ type: 'hello', protocol: PEER_PROTOCOL, node: 'dp-slow', instance: `slow-${connections}` }));
        ws.pause();
      });
    });
    const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
    const big = { ...TABLE, size: 1_000_000 };
    const a = await startPeer(t, 'dp-a', { tables: [big], maxBufferedBytes: 256 * 1024, heartbeatMs: 60_000 });
    a.mesh.setPeers([{ node: 'dp-slow', url }]);
    await eventually(() => assert.equal(a.mesh.stats().peers[0]?.state, 'live'), WAIT);
    const table = a.tables.get(big.name)!;
    let n = 0;
    await eventually(async () => {
      // Changes keep coming (fresh keys: every delta is big) until the link gives up.
      for (let i = 0; i < 5000; i++, n++) table.track(`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`)!.httpRequest();
      await new Promise((resolve) => setImmediate(resolve));
      assert.match(a.mesh.stats().peers[0]?.lastError ?? '', /^too slow: \d+ bytes buffered$/);
    }, WAIT);
    await eventually(() => assert.ok(connections >= 2, 'it reconnects'), WAIT);
  });
});
