/**
 * Stick-table replication between real `switchyard dataplane` processes that find each other
 * through the control channel (a ChannelServer living in the test): each says where its peer
 * server is in its hello, the controller sends everyone the list of the others, and they connect.
 *
 * Until the request path writes stick tables, the writes come from a data plane living in this
 * process (the same Dataplane, applier, channel client and peer mesh as the CLI wires, one thread)
 * and the reads from another one; the processes in between are real. What is shown:
 * - two processes (one with two worker threads) discover each other and connect both ways;
 * - a write reaches both;
 * - a restarted process (new instance, new port) learns the current table from the other's full
 *   state, and is then the only one holding it: a newcomer learns it from that process alone.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { ir } from '@switchyard/api';
import { SnapshotCache } from '@switchyard/controller';
import { ChannelServer } from '@switchyard/controller/channel-server';
import { Dataplane, SnapshotApplier, createLogger, type PeerMeshStats } from '@switchyard/dataplane';
import { ControlChannelClient } from '@switchyard/dataplane/channel';
import { PeerMesh } from '@switchyard/dataplane/peers';
import { spawnCli, tempDir, type CliProcess } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';

const TOKEN = 'stick-replication-token';
/** Generous: processes start (Node, type stripping) and back off between attempts. */
const WAIT = { timeoutMs: 60_000, intervalMs: 50 };

const TABLE: ir.StickTable = {
  name: 'frontend:default/web',
  type: 'ip',
  keyLength: 32,
  size: 1000,
  expireMs: null,
  store: [{ type: 'conn_cur' }, { type: 'http_req_cnt' }, { type: 'http_req_rate', periodMs: 10_000 }, { type: 'server_id' }],
  replicate: true,
};

function logger(): ReturnType<typeof createLogger> {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

async function tokenFile(t: TestContext): Promise<string> {
  const dir = await tempDir('switchyard-stick-replication-');
  t.after(dir.remove);
  const file = join(dir.path, 'token');
  await writeFile(file, `${TOKEN}\n`);
  return file;
}

async function startController(t: TestContext): Promise<{ server: ChannelServer; url: string }> {
  const cache = new SnapshotCache();
  const server = new ChannelServer({ cache, replica: 'test-controller', token: () => TOKEN, logger: logger() });
  const address = await server.listen('127.0.0.1', 0);
  t.after(() => server.close());
  const published = cache.publish({ listeners: [], clusters: [], stickTables: [TABLE] }, []);
  assert.ok(published);
  return { server, url: `ws://127.0.0.1:${address.port}` };
}

function startProcess(t: TestContext, controller: string, file: string, name: string, workers: number): CliProcess {
  const sy = spawnCli([
    'dataplane',
    '--controller',
    controller,
    '--token-file',
    file,
    '--name',
    name,
    '--workers',
    String(workers),
    '--peer-listen',
    '127.0.0.1:0',
    '--log-level',
    'debug',
  ]);
  t.after(() => sy.kill());
  return sy;
}

function describe(...processes: CliProcess[]): string {
  return processes.map((sy, i) => `\n--- process ${i} stdout ---\n${sy.stdout().slice(-20_000)}\n--- stderr ---\n${sy.stderr()}`).join('');
}

/** A data plane's peer URL, as its hello told the controller. */
function peerUrl(server: ChannelServer, node: string): string {
  const url = server.peers().find((p) => p.node === node)?.url;
  assert.ok(url, `${node} has no peer URL at the controller (peers: ${JSON.stringify(server.peers())})`);
  return url;
}

/** A process's mesh stats, from its peer server (`GET /stats`, bearer token). */
async function stats(url: string): Promise<PeerMeshStats> {
  const res = await fetch(`${url.replace(/^ws/, 'http')}stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as PeerMeshStats;
}

function peer(s: PeerMeshStats, node: string): PeerMeshStats['peers'][number] {
  const p = s.peers.find((x) => x.node === node);
  assert.ok(p, `no peer ${node} in ${JSON.stringify(s.peers)}`);
  return p;
}

/** A one-thread data plane in this process, wired as `switchyard dataplane --peer-listen` wires it. */
interface InProcess {
  dataplane: Dataplane;
  mesh: PeerMesh;
  close(): Promise<void>;
}

async function startInProcess(t: TestContext, controller: string, node: string): Promise<InProcess> {
  const log = logger();
  const dataplane = new Dataplane({ logger: log, node });
  const mesh = new PeerMesh({ node, instance: dataplane.instance, replica: dataplane.replica, token: TOKEN, logger: log, listen: { host: '127.0.0.1', port: 0 } });
  await mesh.start();
  const client = new ControlChannelClient({
    urls: [controller],
    token: TOKEN,
    node,
    applier: new SnapshotApplier({ dataplane, logger: log }),
    health: dataplane,
    logger: log,
    peer: { url: mesh.url! },
  });
  client.onEvent((e) => {
    if (e.type === 'peers') mesh.setPeers(e.peers);
  });
  client.start();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await client.stop();
    await mesh.close();
    await dataplane.close();
  };
  t.after(close);
  return { dataplane, mesh, close };
}

test('replicated stick tables: discovery through the controller, writes reach every process, a restarted process learns the table', async (t) => {
  const controller = await startController(t);
  const file = await tokenFile(t);
  const a = startProcess(t, controller.url, file, 'dp-a', 2);
  const b = startProcess(t, controller.url, file, 'dp-b', 1);

  // Both programmed and listed with their peer servers; then connected to each other, both ways.
  await eventually(() => assert.deepEqual(controller.server.peers().map((p) => p.node), ['dp-a', 'dp-b'], describe(a, b)), WAIT);
  const urlA = peerUrl(controller.server, 'dp-a');
  const urlB = peerUrl(controller.server, 'dp-b');
  await eventually(async () => {
    const sa = await stats(urlA);
    const sb = await stats(urlB);
    assert.equal(sa.url, urlA);
    assert.deepEqual([peer(sa, 'dp-b').connected, peer(sa, 'dp-b').inbound, peer(sa, 'dp-b').synced], [true, true, true], describe(a, b));
    assert.deepEqual([peer(sb, 'dp-a').connected, peer(sb, 'dp-a').inbound, peer(sb, 'dp-a').synced], [true, true, true], describe(a, b));
  }, WAIT);
  const refused = await fetch(`${urlA.replace(/^ws/, 'http')}stats`, { headers: { authorization: 'Bearer wrong' } });
  assert.equal(refused.status, 401);

  // A writer joins the fleet: once its links are up, its writes travel as deltas to both processes.
  const w = await startInProcess(t, controller.url, 'dp-w');
  await eventually(() => {
    const links = w.mesh.stats().peers.filter((p) => p.connected).map((p) => p.node);
    assert.deepEqual(links.sort(), ['dp-a', 'dp-b']);
    assert.ok(w.dataplane.stickTables.get(TABLE.name), 'the snapshot is applied');
  }, WAIT);
  // A process that applies its snapshot (and so gets the replicated table) after the writer joined
  // asks it for its full state again: writes made before that sync ends arrive inside the full
  // state, not as deltas, and no lag is measured for them. So the writes wait for both processes to
  // hold the table and to be synced with the writer (a CI run once wrote before a's two workers were up).
  await eventually(async () => {
    for (const sy of [a, b]) assert.ok(sy.logs().some((l) => l.msg === 'snapshot applied'), describe(a, b));
    for (const url of [urlA, urlB]) assert.equal(peer(await stats(url), 'dp-w').synced, true, describe(a, b));
  }, WAIT);
  const written = w.dataplane.stickTables.get(TABLE.name)!.track('10.0.0.1')!;
  for (let i = 0; i < 3; i++) written.httpRequest();
  written.setServerId(2);
  await eventually(async () => {
    for (const url of [urlA, urlB]) assert.equal(typeof peer(await stats(url), 'dp-w').lastLagMs, 'number', describe(a, b));
  }, WAIT);
  const lagA = (await stats(urlA)).lag;
  assert.ok(lagA.count >= 1 && lagA.max !== null);

  // b restarts: a new process (new instance, new port) with the same name learns the table from a.
  await b.kill();
  const b2 = startProcess(t, controller.url, file, 'dp-b', 1);
  const urlB2 = await eventually(() => {
    const url = peerUrl(controller.server, 'dp-b');
    assert.notEqual(url, urlB, describe(b2));
    return url;
  }, WAIT);
  await eventually(async () => {
    assert.equal(peer(await stats(urlA), 'dp-b').connected, true, describe(a, b2));
    const s = await stats(urlB2);
    assert.equal(peer(s, 'dp-a').synced, true, describe(a, b2));
    assert.ok(s.origins >= 1, `b2 holds other processes' states: ${JSON.stringify(s)}`);
  }, WAIT);

  // The writer and a leave: b2 alone holds what the writer wrote. A newcomer learns it from b2.
  await w.close();
  assert.deepEqual(await a.stop('SIGTERM'), { code: 0, signal: null }, describe(a));
  const r = await startInProcess(t, controller.url, 'dp-r');
  await eventually(() => {
    const e = r.dataplane.stickTables.get(TABLE.name)?.lookup('10.0.0.1');
    assert.equal(e?.read('http_req_cnt'), 3, describe(b2));
    assert.equal(e?.serverId(), 2);
  }, WAIT);
  const inbound = r.mesh.stats().peers.filter((p) => p.inbound).map((p) => p.node);
  assert.deepEqual(inbound, ['dp-b'], 'only b2 could have told it');
  assert.ok(b2.logs().some((l) => l.msg === 'stick-table peer server listening'), describe(b2));
});
