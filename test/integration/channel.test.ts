/**
 * The control channel end to end in one process: the controller's SnapshotCache and ChannelServer
 * on a real port, real data planes (Dataplane + SnapshotApplier + ControlChannelClient) connected
 * over websockets, real fake upstreams behind them and real HTTP traffic through them.
 *
 * Two data planes in one process cannot both bind 127.0.0.1:PORT as two pods would; each gets its
 * own loopback address instead (`OwnAddress` below: 127.0.0.1 in the snapshot binds 127.0.0.N),
 * which stands in for a pod's IP. Everything else is the real path.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { ir } from '@switchyard/api';
import { SnapshotCache, objectKey, translate, type DataplaneStatus, type HealthEvent, type NackEvent, type VersionedSnapshot } from '@switchyard/controller';
import { ChannelServer } from '@switchyard/controller/channel-server';
import { Dataplane, SnapshotApplier, createLogger, type ApplyResult, type ClientEvent, type SnapshotTarget } from '@switchyard/dataplane';
import { ControlChannelClient } from '@switchyard/dataplane/channel';
import { WebSocket } from 'ws';
import { eventually } from '../helpers/eventually.ts';
import { backend, freePort, healthPolicy, httpServers, listener, server, type Manifest } from '../helpers/manifests.ts';

const TOKEN = 'channel-integration-token';

function logger(): ReturnType<typeof createLogger> {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

/** Translates manifests as the controller does; throws if any object has errors. */
function compile(docs: Manifest[]): { snapshot: ir.Snapshot; contents: [string, number | null][] } {
  const { snapshot, results } = translate({ objects: docs.map((d, i) => ({ object: d, source: `test#${i}` })) });
  const problems = results.flatMap((r) => r.errors.map((e) => `${r.kind}/${r.name}: ${e.path}: ${e.message}`));
  if (problems.length > 0) throw new Error(`manifests do not compile:\n${problems.join('\n')}`);
  return { snapshot, contents: results.map((r) => [objectKey(r.kind, r.namespace, r.name), r.generation]) };
}

interface Controller {
  server: ChannelServer;
  cache: SnapshotCache;
  port: number;
  url: string;
  publish(docs: Manifest[]): VersionedSnapshot;
  /** The status of one data plane, failing if it is not connected. */
  status(node: string): DataplaneStatus;
}

async function startController(t: TestContext, options: { port?: number; cache?: SnapshotCache; replica?: string } = {}): Promise<Controller> {
  const cache = options.cache ?? new SnapshotCache();
  const server = new ChannelServer({ cache, replica: options.replica ?? 'controller-0', token: () => TOKEN, logger: logger() });
  const address = await server.listen('127.0.0.1', options.port ?? 0);
  t.after(() => server.close());
  return {
    server,
    cache,
    port: address.port,
    url: `ws://127.0.0.1:${address.port}`,
    publish(docs) {
      const { snapshot, contents } = compile(docs);
      const published = cache.publish(snapshot, contents);
      assert.ok(published, 'the snapshot did not change');
      return published;
    },
    status(node) {
      const s = server.list().find((x) => x.node === node);
      assert.ok(s, `${node} is not connected (connected: ${server.list().map((x) => x.node).join(', ') || 'none'})`);
      return s;
    },
  };
}

/** Listeners the snapshot puts on 127.0.0.1 bind this data plane's own loopback address. */
class OwnAddress implements SnapshotTarget {
  readonly dataplane: Dataplane;
  readonly address: string;
  constructor(dataplane: Dataplane, address: string) {
    this.dataplane = dataplane;
    this.address = address;
  }
  apply(snapshot: ir.Snapshot): Promise<ApplyResult> {
    const listeners = snapshot.listeners.map((l) => (l.address === '127.0.0.1' ? { ...l, address: this.address } : l));
    return this.dataplane.apply({ ...snapshot, listeners });
  }
}

interface Node {
  name: string;
  address: string;
  dataplane: Dataplane;
  client: ControlChannelClient;
  events: ClientEvent[];
  /** Which upstream answers GET / on the Frontend bound to `port` (its x-server header), or `status-N`. */
  servedBy(port: number): Promise<string>;
}

let nextAddress = 2;

function startNode(t: TestContext, name: string, urls: string[], token = TOKEN): Node {
  const address = `127.0.0.${nextAddress++}`;
  const dataplane = new Dataplane({ logger: logger() });
  const applier = new SnapshotApplier({ dataplane: new OwnAddress(dataplane, address), logger: logger() });
  const client = new ControlChannelClient({
    urls,
    token,
    node: name,
    applier,
    health: dataplane,
    logger: logger(),
    backoff: { initialMs: 20, maxMs: 200 },
    healthCoalesceMs: 50,
  });
  const events: ClientEvent[] = [];
  client.onEvent((e) => events.push(e));
  client.start();
  t.after(async () => {
    await client.stop();
    await dataplane.close();
  });
  return {
    name,
    address,
    dataplane,
    client,
    events,
    async servedBy(port) {
      const res = await new Promise<{ status: number; server: string }>((resolve, reject) => {
        const socket = net.connect(port, address);
        socket.on('error', reject);
        socket.write(`GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`);
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (c: string) => (text += c));
        socket.on('end', () => {
          const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0);
          resolve({ status, server: /\r\nx-server: ([^\r]+)/i.exec(text)?.[1] ?? '' });
        });
      });
      return res.status === 200 ? res.server : `status-${res.status}`;
    },
  };
}

test('two data planes: traffic flows after the push, a second snapshot reprograms both, the fleet shows their ACKs', async (t) => {
  const [alpha, beta] = await httpServers(t, ['alpha', 'beta']);
  const port = await freePort();
  const controller = await startController(t);
  const a = startNode(t, 'dp-a', [controller.url]);
  const b = startNode(t, 'dp-b', [controller.url]);
  await eventually(() => assert.equal(controller.server.connectedCount, 2));
  // Connected, but nothing to serve yet: no push before the first snapshot.
  assert.equal(a.dataplane.snapshot, null);
  assert.deepEqual(controller.server.list().map((s) => [s.node, s.ackedVersion]), [['dp-a', null], ['dp-b', null]]);

  const v1 = controller.publish([backend('web', { servers: [server(alpha!)] }), listener('www', port, 'web')]);
  await eventually(() => {
    for (const node of ['dp-a', 'dp-b']) assert.equal(controller.status(node).ackedVersion, v1.version);
  });
  assert.equal(await a.servedBy(port), 'alpha');
  assert.equal(await b.servedBy(port), 'alpha');
  assert.equal(a.client.state.ackedVersion, v1.version);
  assert.equal(a.client.state.replica, 'controller-0');

  const v2 = controller.publish([backend('web', { servers: [server(beta!)] }), listener('www', port, 'web')]);
  await eventually(() => {
    for (const node of ['dp-a', 'dp-b']) assert.equal(controller.status(node).ackedVersion, v2.version);
  });
  assert.equal(await a.servedBy(port), 'beta');
  assert.equal(await b.servedBy(port), 'beta');
  // Health reports followed the ACKs: the one server of v2, up.
  await eventually(() => assert.deepEqual(controller.status('dp-a').health, [{ cluster: 'default/web', server: 'beta', state: 'up', reason: '' }]));
});

test('a snapshot a data plane cannot apply is NACKed with the error and the last good one keeps serving', async (t) => {
  const [alpha, beta] = await httpServers(t, ['alpha', 'beta']);
  const port = await freePort();
  const controller = await startController(t);
  const nacks: NackEvent[] = [];
  controller.server.onNack((e) => nacks.push(e));
  const a = startNode(t, 'dp-a', [controller.url]);
  const v1 = controller.publish([backend('web', { servers: [server(alpha!)] }), listener('www', port, 'web')]);
  await eventually(() => assert.equal(controller.status('dp-a').ackedVersion, v1.version));

  // A second Frontend on a port something else holds on this data plane's address.
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, a.address, resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const taken = (squatter.address() as net.AddressInfo).port;
  const v2 = controller.publish([backend('web', { servers: [server(beta!)] }), listener('www', port, 'web'), listener('more', taken, 'web')]);
  await eventually(() => assert.equal(controller.status('dp-a').nack?.version, v2.version));
  const status = controller.status('dp-a');
  assert.match(status.nack!.error, new RegExp(`^listener default/more#0 on ${a.address.replaceAll('.', '\\.')}:${taken}: .*EADDRINUSE`));
  assert.equal(status.ackedVersion, v1.version, 'still on v1');
  assert.deepEqual(nacks.map((n) => [n.node, n.version]), [['dp-a', v2.version]]);
  // Not half-applied: the backend change that came with it did not happen.
  assert.equal(await a.servedBy(port), 'alpha');

  // A schema-invalid snapshot (published straight into the cache, as a broken controller would).
  const broken = structuredClone(v1.snapshot) as ir.Snapshot;
  (broken.clusters[0]!.servers[0] as { port: unknown }).port = 'eighty';
  const v3 = controller.cache.publish(broken, [])!;
  await eventually(() => assert.equal(controller.status('dp-a').nack?.version, v3.version));
  assert.equal(controller.status('dp-a').nack!.error, 'invalid snapshot: clusters[0].servers[0].port: Invalid input: expected number, received string');
  assert.equal(await a.servedBy(port), 'alpha');

  // A good snapshot clears the NACK.
  const v4 = controller.publish([backend('web', { servers: [server(beta!)] }), listener('www', port, 'web')]);
  await eventually(() => assert.equal(controller.status('dp-a').ackedVersion, v4.version));
  assert.equal(controller.status('dp-a').nack, null);
  assert.equal(await a.servedBy(port), 'beta');
});

test('a data plane without the token, or with a wrong one, is refused with 401 and never joins the fleet', async (t) => {
  const controller = await startController(t);
  controller.publish([backend('web', { servers: [] }), listener('www', await freePort(), 'web')]);

  // Raw upgrade requests: the status comes back before any websocket exists.
  for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${TOKEN}` }]) {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(controller.url, { headers });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error(`accepted with ${JSON.stringify(headers)}`)));
      ws.on('error', () => undefined);
    });
    assert.equal(status, 401, JSON.stringify(headers));
  }

  // A real data plane with the wrong token keeps retrying and stays out.
  const intruder = startNode(t, 'intruder', [controller.url], 'wrong-token');
  await eventually(() => assert.ok(intruder.events.filter((e) => e.type === 'disconnected').length >= 3));
  assert.equal(controller.server.connectedCount, 0);
  assert.equal(intruder.dataplane.snapshot, null);
  assert.ok(!intruder.events.some((e) => e.type === 'connected'));
});

test('controller stopped: traffic keeps flowing; restarted on the same port: the data plane reconnects and ACKs', async (t) => {
  const [alpha, beta] = await httpServers(t, ['alpha', 'beta']);
  const port = await freePort();
  const first = await startController(t);
  const a = startNode(t, 'dp-a', [first.url]);
  const v1 = first.publish([backend('web', { servers: [server(alpha!)] }), listener('www', port, 'web')]);
  await eventually(() => assert.equal(first.status('dp-a').ackedVersion, v1.version));

  await first.server.close();
  await eventually(() => assert.equal(a.client.state.connected, false));
  // Several failed attempts while it is away, and traffic all along.
  await eventually(() => assert.ok(a.client.state.failures >= 2, `failures: ${a.client.state.failures}`));
  for (let i = 0; i < 5; i++) assert.equal(await a.servedBy(port), 'alpha');

  // A new controller process on the same port, which has computed the same world: the data plane
  // announces v1 in its hello and counts as ACKed without a push.
  const cache = new SnapshotCache();
  assert.equal(cache.publish(v1.snapshot, v1.contents)!.version, v1.version, 'versions are content hashes');
  const second = await startController(t, { port: first.port, cache, replica: 'controller-1' });
  await eventually(() => assert.equal(second.status('dp-a').ackedVersion, v1.version));
  assert.equal(a.client.state.replica, 'controller-1');
  assert.equal(a.events.filter((e) => e.type === 'answered').length, 1, 'no second push for v1');

  // And it takes new snapshots from the new controller.
  const v2 = second.publish([backend('web', { servers: [server(beta!)] }), listener('www', port, 'web')]);
  await eventually(() => assert.equal(second.status('dp-a').ackedVersion, v2.version));
  assert.equal(await a.servedBy(port), 'beta');
});

test('a data plane fails over to another controller URL when its controller goes away', async (t) => {
  const [alpha] = await httpServers(t, ['alpha']);
  const port = await freePort();
  const docs = [backend('web', { servers: [server(alpha!)] }), listener('www', port, 'web')];
  const c0 = await startController(t, { replica: 'controller-0' });
  const c1 = await startController(t, { replica: 'controller-1' });
  const v1 = c0.publish(docs);
  c1.publish(docs);
  const a = startNode(t, 'dp-a', [c0.url, c1.url]);
  await eventually(() => assert.equal(a.client.state.connected, true));
  const [from, to] = a.client.state.replica === 'controller-0' ? [c0, c1] : [c1, c0];
  await eventually(() => assert.equal(from.status('dp-a').ackedVersion, v1.version));
  await from.server.close();
  await eventually(() => assert.equal(to.status('dp-a').ackedVersion, v1.version));
  assert.equal(await a.servedBy(port), 'alpha');
});

test('health reports reach the controller when an upstream dies and when it comes back', async (t) => {
  const [alpha, beta] = await httpServers(t, ['alpha', 'beta']);
  const port = await freePort();
  const controller = await startController(t);
  const reports: HealthEvent[] = [];
  controller.server.onHealth((e) => reports.push(e));
  const a = startNode(t, 'dp-a', [controller.url]);
  const check = healthPolicy('hc', { interval: '100ms', timeout: '500ms', rise: 1, fall: 1, http: { path: '/healthz', expect: { status: [200] } } });
  controller.publish([check, backend('web', { healthPolicyRef: { name: 'hc' }, servers: [server(alpha!), server(beta!)] }), listener('www', port, 'web')]);
  const stateOf = (name: string): string | undefined => controller.status('dp-a').health.find((s) => s.server === name)?.state;
  await eventually(() => assert.deepEqual([stateOf('alpha'), stateOf('beta')], ['up', 'up']));

  beta!.healthStatus = 503;
  await eventually(() => assert.equal(stateOf('beta'), 'down'));
  const down = controller.status('dp-a').health.find((s) => s.server === 'beta')!;
  assert.match(down.reason, /^L7STS: Layer7 wrong status, code: 503/);
  assert.equal(stateOf('alpha'), 'up');
  assert.ok(reports.some((r) => r.node === 'dp-a' && r.servers.some((s) => s.server === 'beta' && s.state === 'down')));
  // The data plane acts on it too.
  for (let i = 0; i < 3; i++) assert.equal(await a.servedBy(port), 'alpha');

  beta!.healthStatus = 200;
  await eventually(() => assert.equal(stateOf('beta'), 'up'));
});

test('data planes get only the newest snapshot after a burst of publishes (replacement, not a queue)', async (t) => {
  const servers = await httpServers(t, ['s0', 's1', 's2', 's3', 's4', 's5']);
  const port = await freePort();
  const controller = await startController(t);
  const a = startNode(t, 'dp-a', [controller.url]);
  await eventually(() => assert.equal(controller.server.connectedCount, 1));
  let last: VersionedSnapshot | null = null;
  for (const s of servers) last = controller.publish([backend('web', { servers: [server(s)] }), listener('www', port, 'web')]);
  await eventually(() => assert.equal(controller.status('dp-a').ackedVersion, last!.version));
  const answered = a.events.filter((e) => e.type === 'answered').length;
  // The first push went out at once; everything published while it was outstanding collapsed into one.
  assert.equal(answered, 2, `${answered} pushes for ${servers.length} publishes`);
  assert.equal(await a.servedBy(port), 's5');
});
