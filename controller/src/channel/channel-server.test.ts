// The channel server over real sockets, with raw websocket clients standing in for data planes.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { CloseCode, PROTOCOL_VERSION } from '@switchyard/api';
import { WebSocket } from 'ws';
import { ChannelServer, checkBearer, type ChannelServerOptions } from './channel-server.ts';
import { SnapshotCache } from './snapshot-cache.ts';
import type { DataplaneStatus } from './fleet.ts';
import type { AckEvent, HealthEvent, NackEvent } from './stream.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { silentLogger, tcpSnapshot } from '../../../test/helpers/snapshots.ts';

const TOKEN = 's3cret-token';

interface Peer {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the next message of this type (or one already received and not yet taken). */
  next(type: string): Promise<Record<string, unknown>>;
  send(message: Record<string, unknown>): void;
}

async function startServer(t: TestContext, options: Partial<ChannelServerOptions> = {}): Promise<{ server: ChannelServer; cache: SnapshotCache; url: string; port: number }> {
  const cache = options.cache ?? new SnapshotCache();
  const server = new ChannelServer({ cache, replica: 'controller-0', token: () => TOKEN, logger: silentLogger(), ...options });
  const address = await server.listen('127.0.0.1', 0);
  t.after(() => server.close());
  return { server, cache, url: `ws://127.0.0.1:${address.port}`, port: address.port };
}

function connect(t: TestContext, url: string, options: { token?: string | null; autoPong?: boolean } = {}): Promise<Peer> {
  const token = options.token === undefined ? TOKEN : options.token;
  const ws = new WebSocket(url, { headers: token === null ? {} : { authorization: `Bearer ${token}` }, autoPong: options.autoPong ?? true });
  t.after(() => ws.terminate());
  const messages: Record<string, unknown>[] = [];
  const taken = new Set<Record<string, unknown>>();
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const peer: Peer = {
    ws,
    messages,
    closed,
    next(type) {
      return new Promise((resolve) => {
        const look = (): void => {
          const m = messages.find((x) => x.type === type && !taken.has(x));
          if (m) {
            taken.add(m);
            resolve(m);
          } else waiters.push(look);
        };
        look();
      });
    },
    send(message) {
      ws.send(JSON.stringify(message));
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function hello(node: string, lastVersion: string | null = null): Record<string, unknown> {
  return { type: 'hello', protocol: PROTOCOL_VERSION, node, lastVersion };
}

/** Lets socket I/O run until `check` holds; the tests never sleep for a fixed time. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('ChannelServer', () => {
  it('serves a data plane connecting to ws://HOST:PORT without a path: welcome, push, ack; LocalFleet and hooks follow', async (t) => {
    const { server, cache, url } = await startServer(t);
    const changes: number[] = [];
    server.onChange(() => changes.push(server.connectedCount));
    const acks: AckEvent[] = [];
    const nacks: NackEvent[] = [];
    const health: HealthEvent[] = [];
    server.onAck((e) => acks.push(e));
    server.onNack((e) => nacks.push(e));
    server.onHealth((e) => health.push(e));

    const peer = await connect(t, url);
    peer.send(hello('dp-1'));
    assert.deepEqual(await peer.next('welcome'), { type: 'welcome', replica: 'controller-0', heartbeatMs: 10_000 });
    await until(() => server.connectedCount === 1);
    assert.deepEqual(server.list().map((s) => [s.node, s.replica, s.ackedVersion]), [['dp-1', 'controller-0', null]]);

    const v1 = cache.publish(tcpSnapshot(1), [['Backend/default/web', 1]])!;
    const push = await peer.next('push');
    assert.equal(push.version, v1.version);
    assert.deepEqual(push.snapshot, JSON.parse(JSON.stringify(v1.snapshot)));
    peer.send({ type: 'ack', version: v1.version, nonce: push.nonce });
    await until(() => acks.length === 1);
    assert.equal(acks[0]!.node, 'dp-1');
    assert.equal(acks[0]!.version, v1.version);
    assert.ok(acks[0]!.latencyMs >= 0);
    assert.equal(server.list()[0]!.ackedVersion, v1.version);

    const v2 = cache.publish(tcpSnapshot(2), [])!;
    const push2 = await peer.next('push');
    peer.send({ type: 'nack', version: v2.version, nonce: push2.nonce, error: 'boom' });
    await until(() => nacks.length === 1);
    assert.deepEqual(nacks, [{ node: 'dp-1', version: v2.version, error: 'boom' }]);
    assert.deepEqual(server.list()[0]!.nack, { version: v2.version, error: 'boom' });
    assert.equal(server.list()[0]!.ackedVersion, v1.version);

    const servers = [{ cluster: 'default/web', server: 's1', state: 'up', reason: '' }];
    peer.send({ type: 'health', servers });
    await until(() => health.length === 1);
    assert.deepEqual(server.list()[0]!.health, servers);

    peer.ws.close(1000);
    await until(() => server.connectedCount === 0);
    assert.deepEqual(server.list(), []);
    // connect, ack, nack, health, disconnect
    assert.deepEqual(changes, [1, 1, 1, 1, 0]);
  });

  it('reaches the channel on any path', async (t) => {
    const { url } = await startServer(t);
    const peer = await connect(t, `${url}/some/path?x=1`);
    peer.send(hello('dp-1'));
    assert.equal((await peer.next('welcome')).type, 'welcome');
  });

  it('refuses with HTTP 401, before upgrading, a client without the token, with a wrong one, or when no token is configured', async (t) => {
    const { url } = await startServer(t);
    await assert.rejects(connect(t, url, { token: null }), /HTTP 401/);
    await assert.rejects(connect(t, url, { token: 'wrong' }), /HTTP 401/);
    const none = await startServer(t, { token: () => null });
    await assert.rejects(connect(t, none.url), /HTTP 401/);
    // Plain HTTP gets told to upgrade.
    const res = await fetch(url.replace('ws:', 'http:'));
    assert.equal(res.status, 426);
  });

  it('reads the token for each connection, so a rotated one applies at once', async (t) => {
    let token = 'first';
    const { url } = await startServer(t, { token: () => token });
    await connect(t, url, { token: 'first' });
    token = 'second';
    await assert.rejects(connect(t, url, { token: 'first' }), /HTTP 401/);
    await connect(t, url, { token: 'second' });
  });

  it('closes with 4000 a connection that does not say hello in time', async (t) => {
    const clock = new ManualClock();
    const { url } = await startServer(t, { clock, helloTimeoutMs: 3000 });
    const peer = await connect(t, url);
    await until(() => clock.pending >= 2); // the heartbeat and the hello deadline
    clock.advanceSync(3000);
    assert.deepEqual(await peer.closed, { code: CloseCode.BadHello, reason: 'no hello within 3000ms' });
  });

  it('closes with 4001 naming the field when a message is invalid', async (t) => {
    const { server, url } = await startServer(t);
    const peer = await connect(t, url);
    peer.send(hello('dp-1'));
    await peer.next('welcome');
    peer.send({ type: 'health', servers: [{ cluster: 'c', server: 's', state: 'up' }] });
    assert.deepEqual(await peer.closed, { code: CloseCode.BadMessage, reason: 'servers[0].reason: Invalid input: expected string, received undefined' });
    await until(() => server.connectedCount === 0);

    const binary = await connect(t, url);
    binary.send(hello('dp-2'));
    await binary.next('welcome');
    binary.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await binary.closed).code, CloseCode.BadMessage);
  });

  it('replaces an older stream of the same node (4002) and keeps the newer in the fleet', async (t) => {
    const { server, url } = await startServer(t);
    const older = await connect(t, url);
    older.send(hello('dp-1'));
    await older.next('welcome');
    const newer = await connect(t, url);
    newer.send(hello('dp-1'));
    await newer.next('welcome');
    assert.equal((await older.closed).code, CloseCode.Replaced);
    assert.equal(server.connectedCount, 1);
    // The older one's close did not remove the newer from the fleet.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(server.list().map((s) => s.node), ['dp-1']);
    assert.equal(newer.ws.readyState, WebSocket.OPEN);
  });

  it('terminates a data plane that stops answering pings (two missed pongs), keeps one that answers', async (t) => {
    const clock = new ManualClock();
    const { server, url } = await startServer(t, { clock, heartbeatMs: 1000 });
    const deaf = await connect(t, url, { autoPong: false });
    const alive = await connect(t, url, { autoPong: false });
    let pings = 0;
    deaf.ws.on('ping', () => pings++);
    // The alive peer answers each ping, then sends a health report behind its pong: once the
    // server has the report, it has the pong too (one TCP stream, in order).
    let alivePongs = 0;
    alive.ws.on('ping', () => {
      alive.ws.pong();
      alivePongs++;
      alive.send({ type: 'health', servers: [{ cluster: 'c', server: 's', state: 'up', reason: `pong ${alivePongs}` }] });
    });
    const aliveSaw = (n: number): boolean => server.list().find((s) => s.node === 'alive')?.health[0]?.reason === `pong ${n}`;
    deaf.send(hello('deaf'));
    alive.send(hello('alive'));
    await until(() => server.connectedCount === 2);

    clock.advanceSync(1000);
    await until(() => pings === 1 && aliveSaw(1));
    clock.advanceSync(1000);
    await until(() => pings === 2 && aliveSaw(2));
    assert.equal(deaf.ws.readyState, WebSocket.OPEN, 'two missed pongs are tolerated');
    clock.advanceSync(1000);
    const { code } = await deaf.closed;
    assert.equal(code, 1006, 'terminated, not closed politely');
    await until(() => server.connectedCount === 1);
    assert.deepEqual(server.list().map((s) => s.node), ['alive']);
  });

  it('close() ends every stream with 1001 and stops listening', async (t) => {
    const { server, url, port } = await startServer(t);
    const peer = await connect(t, url);
    peer.send(hello('dp-1'));
    await peer.next('welcome');
    await server.close();
    assert.equal((await peer.closed).code, CloseCode.GoingAway);
    await assert.rejects(connect(t, `ws://127.0.0.1:${port}`));
  });

  it('attaches to an existing HTTP server instead of listening itself', async (t) => {
    const httpServer = http.createServer((_req, res) => res.end('admin'));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => httpServer.close(() => resolve())));
    const cache = new SnapshotCache();
    const server = new ChannelServer({ cache, replica: 'r', token: () => TOKEN, logger: silentLogger() });
    server.attach(httpServer);
    t.after(() => server.close());
    const { port } = server.address() as AddressInfo;
    assert.equal(port, (httpServer.address() as AddressInfo).port);
    const peer = await connect(t, `ws://127.0.0.1:${port}/channel`);
    peer.send(hello('dp-1'));
    assert.equal((await peer.next('welcome')).replica, 'r');
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'admin');
    await server.close();
    assert.equal((await peer.closed).code, CloseCode.GoingAway);
    assert.equal(httpServer.listening, true, 'an attached server is not closed');
  });
});

describe('ChannelServer peers (stick-table replication)', () => {
  function helloWithPeer(node: string, url: string | null): Record<string, unknown> {
    return { ...hello(node), peer: url === null ? null : { url } };
  }

  /** The peers lists a data plane received, in order. */
  function lists(peer: Peer): unknown[] {
    return peer.messages.filter((m) => m.type === 'peers').map((m) => m.peers);
  }

  it('sends each data plane that asked the others with a peer URL, on connect and whenever that changes', async (t) => {
    const { server, url } = await startServer(t, { peersHoldoffMs: 0 });
    const a = await connect(t, url);
    a.send(helloWithPeer('dp-a', 'ws://10.0.0.1:7946/'));
    assert.deepEqual((await a.next('peers')).peers, [], 'alone: an empty list at once');

    const b = await connect(t, url);
    b.send(helloWithPeer('dp-b', 'ws://10.0.0.2:7946/'));
    assert.deepEqual((await b.next('peers')).peers, [{ node: 'dp-a', url: 'ws://10.0.0.1:7946/' }]);
    assert.deepEqual((await a.next('peers')).peers, [{ node: 'dp-b', url: 'ws://10.0.0.2:7946/' }]);

    // Without a peer server: gets lists, is not listed. A data plane that did not ask gets nothing.
    const c = await connect(t, url);
    c.send(helloWithPeer('dp-c', null));
    assert.deepEqual((await c.next('peers')).peers, [
      { node: 'dp-a', url: 'ws://10.0.0.1:7946/' },
      { node: 'dp-b', url: 'ws://10.0.0.2:7946/' },
    ]);
    const old = await connect(t, url);
    old.send(hello('dp-old'));
    await old.next('welcome');
    await until(() => server.connectedCount === 4);
    assert.deepEqual(server.peers(), [
      { node: 'dp-a', url: 'ws://10.0.0.1:7946/' },
      { node: 'dp-b', url: 'ws://10.0.0.2:7946/' },
    ]);
    assert.equal(server.list().find((s) => s.node === 'dp-a')?.peerUrl, 'ws://10.0.0.1:7946/');

    // b leaves: a and c hear of it; acks and health reports in between send nothing.
    a.send({ type: 'health', servers: [] });
    b.ws.close(1000);
    await until(() => lists(a).length === 3);
    assert.deepEqual(lists(a), [[], [{ node: 'dp-b', url: 'ws://10.0.0.2:7946/' }], []]);
    await until(() => lists(c).length === 2);
    assert.deepEqual(lists(c)[1], [{ node: 'dp-a', url: 'ws://10.0.0.1:7946/' }]);
    assert.deepEqual(old.messages.map((m) => m.type), ['welcome'], 'never a peers message');
  });

  it('takes the list from a fleet directory (other replicas\' data planes) when given one', async (t) => {
    const { server, url } = await startServer(t, { peersHoldoffMs: 0 });
    let remote: DataplaneStatus[] = [];
    const listeners = new Set<() => void>();
    server.usePeerDirectory({
      list: () => [...server.list(), ...remote],
      onChange: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    });
    const a = await connect(t, url);
    a.send(helloWithPeer('dp-a', 'ws://10.0.0.1:7946/'));
    assert.deepEqual((await a.next('peers')).peers, []);
    remote = [{ node: 'dp-z', replica: 'controller-1', ackedVersion: null, nack: null, health: [], updatedAt: 1, peerUrl: 'ws://10.0.0.26:7946/' }];
    for (const l of listeners) l();
    assert.deepEqual((await a.next('peers')).peers, [{ node: 'dp-z', url: 'ws://10.0.0.26:7946/' }]);
  });

  it('refuses a hello whose peer URL is not ws:// or wss://', async (t) => {
    const { url } = await startServer(t);
    const a = await connect(t, url);
    a.send(helloWithPeer('dp-a', 'http://10.0.0.1:7946/'));
    const closed = await a.closed;
    assert.equal(closed.code, CloseCode.BadHello);
    assert.match(closed.reason, /^hello: peer\.url: must be a ws:\/\/ or wss:\/\/ URL/);
  });
});

describe('checkBearer', () => {
  it('accepts only the exact token, and says why not without echoing it', () => {
    assert.equal(checkBearer('Bearer abc', 'abc'), null);
    assert.equal(checkBearer('bearer   abc ', 'abc'), null);
    assert.equal(checkBearer('Bearer abcd', 'abc'), 'wrong token');
    assert.equal(checkBearer('Bearer ab', 'abc'), 'wrong token');
    assert.equal(checkBearer('Basic abc', 'abc'), 'Authorization is not a bearer token');
    assert.equal(checkBearer(undefined, 'abc'), 'no Authorization header');
    assert.equal(checkBearer('Bearer abc', null), 'no token configured');
    assert.equal(checkBearer('Bearer ', ''), 'no token configured');
  });
});
