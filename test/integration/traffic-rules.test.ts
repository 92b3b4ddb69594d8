/**
 * ACLs, conditions, http-request/http-response/tcp-request rules and use_backend through the real
 * translator and the real proxy, over real sockets: the configurations of SPEC section 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { get, raw } from '../helpers/http-client.ts';
import { backend, frontend, freePort, httpServers, server, startProxy, tcpServers, type Manifest, type Spec } from '../helpers/manifests.ts';
import type { FakeHttpServer } from '../helpers/fake-upstream.ts';
import { wallClock } from '../../dataplane/src/stick/wall-clock.ts';

/** One Backend per fake server, named after it. */
function backends(servers: FakeHttpServer[]): Manifest[] {
  return servers.map((s) => backend(s.name, { servers: [server(s)] }));
}

async function proxy(t: Parameters<typeof startProxy>[0], docs: Manifest[], spec: Spec) {
  const port = await freePort();
  const harness = await startProxy(t, [...docs, frontend('edge', { binds: [{ address: '127.0.0.1', port }], ...spec })]);
  return harness.port('edge');
}

/**
 * The index of the rate window (of `periodMs`, on the data plane's stick-table clock) a burst of up
 * to `budgetMs` starting now fits in, waiting past the next window boundary when it is nearer.
 *
 * Our rate windows start at multiples of the period (dataplane/src/stick/freq-counter.ts), where
 * HAProxy starts a fresh counter's window at its first event. Both read a rate as the current
 * window's count plus the previous one's weighed by the part still in the sliding period, so each
 * request before a boundary counts less than one after it: 101 requests straddling a boundary read
 * 100 at the 101st (table.test.ts), and a limit of 100 lets it pass. Inside one window, rates count
 * every request, as HAProxy's first window of a fresh entry does.
 */
async function rateWindowFor(periodMs: number, budgetMs: number): Promise<number> {
  // The data plane's threads read the same wall clock, to a few ms.
  const margin = 50;
  const left = periodMs - (wallClock.now() % periodMs);
  if (left < budgetMs + margin) await new Promise((resolve) => setTimeout(resolve, left + margin));
  return Math.floor(wallClock.now() / periodMs);
}

test('api/admin routing: named ACLs, implicit AND with negation, use_backend order, then the default', async (t) => {
  const servers = await httpServers(t, ['api', 'admin', 'web']);
  const port = await proxy(t, backends(servers), {
    acls: [
      { name: 'is_api', criterion: 'path_beg -i /api /v2' },
      { name: 'is_admin', criterion: 'path_beg /api/admin' },
      { name: 'is_admin', criterion: 'hdr(x-role) -i admin' },
    ],
    useBackends: [
      { backend: 'admin', if: 'is_admin' },
      { backend: 'api', if: 'is_api !is_admin' },
    ],
    defaultBackend: { name: 'web' },
  });
  const servedBy = async (path: string, headers: Record<string, string> = {}) => String((await get(port, path, { headers })).headers['x-server']);
  assert.equal(await servedBy('/api/users'), 'api');
  assert.equal(await servedBy('/API/users'), 'api', '-i matches case-insensitively');
  assert.equal(await servedBy('/v2/x'), 'api', 'several patterns are ORed');
  assert.equal(await servedBy('/api/admin/keys'), 'admin');
  assert.equal(await servedBy('/api/users', { 'x-role': 'ADMIN' }), 'admin', 'a second acl line with the same name is ORed');
  assert.equal(await servedBy('/index.html'), 'web');
});

test('|| alternatives, anonymous ACLs and unless', async (t) => {
  const servers = await httpServers(t, ['api', 'web']);
  const port = await proxy(t, backends(servers), {
    acls: [{ name: 'is_api', criterion: 'path_beg /api' }],
    useBackends: [{ backend: 'api', if: 'is_api || { hdr(host) -i api.example.com }' }],
    httpRequest: [{ action: 'deny', status: 403, unless: '{ method GET HEAD POST }' }],
    defaultBackend: { name: 'web' },
  });
  assert.equal((await get(port, '/api')).headers['x-server'], 'api');
  assert.equal((await get(port, '/', { headers: { host: 'API.example.com' } })).headers['x-server'], 'api');
  assert.equal((await get(port, '/', { headers: { host: 'www.example.com' } })).headers['x-server'], 'web');
  assert.equal((await get(port, '/', { method: 'DELETE' })).status, 403);
  assert.equal(servers[1]!.requests.filter((r) => r.method === 'DELETE').length, 0, 'a denied request never reaches a server');
});

test('redirect scheme https unless ssl_fc, keeping host, path and query', async (t) => {
  const servers = await httpServers(t, ['web']);
  const port = await proxy(t, backends(servers), {
    httpRequest: [{ action: 'redirect', scheme: 'https', code: 301, unless: '{ ssl_fc }' }],
    defaultBackend: { name: 'web' },
  });
  const res = await get(port, '/shop/cart?item=3', { headers: { host: 'shop.example.com' } });
  assert.equal(res.status, 301);
  assert.equal(res.headers.location, 'https://shop.example.com/shop/cart?item=3');
  assert.equal(servers[0]!.requests.length, 0);
});

test('redirect location and prefix with the codes asked for', async (t) => {
  const servers = await httpServers(t, ['web']);
  const port = await proxy(t, backends(servers), {
    httpRequest: [
      { action: 'redirect', location: 'https://example.com/moved', code: 302, if: '{ path /old }' },
      { action: 'redirect', prefix: 'https://new.example.com', code: 308, if: '{ path_beg /legacy }' },
    ],
    defaultBackend: { name: 'web' },
  });
  const moved = await get(port, '/old');
  assert.equal(moved.status, 302);
  assert.equal(moved.headers.location, 'https://example.com/moved');
  const prefixed = await get(port, '/legacy/a?b=1');
  assert.equal(prefixed.status, 308);
  assert.equal(prefixed.headers.location, 'https://new.example.com/legacy/a?b=1');
  assert.equal((await get(port, '/other')).status, 200);
});

test('header rewrites: set-header with %[src], add-header, del-header, set-path, and response headers', async (t) => {
  const servers = await httpServers(t, ['web']);
  const port = await proxy(t, backends(servers), {
    httpRequest: [
      { action: 'set-header', name: 'X-Client-IP', value: '%[src]' },
      { action: 'add-header', name: 'X-Via', value: 'switchyard %[req.ver]' },
      { action: 'del-header', name: 'X-Secret' },
      { action: 'set-header', name: 'X-Host-Lower', value: '%[hdr(host),lower]' },
      { action: 'set-path', value: '/v2%[path]', if: '{ path_beg /api }' },
    ],
    httpResponse: [
      { action: 'set-header', name: 'Strict-Transport-Security', value: 'max-age=63072000' },
      { action: 'del-header', name: 'x-powered-by' },
      { action: 'add-header', name: 'X-Served-Path', value: '%[path]' },
    ],
    defaultBackend: { name: 'web' },
  });
  const res = await get(port, '/api/items?x=1', { headers: { 'x-client-ip': 'spoofed', 'x-secret': 's3cr3t', host: 'WWW.Example.COM' } });
  assert.equal(res.status, 200);
  const seen = servers[0]!.requests[0]!;
  assert.equal(seen.url, '/v2/api/items?x=1');
  assert.equal(seen.headers['x-client-ip'], '127.0.0.1', 'set-header replaces what the client sent');
  assert.equal(seen.headers['x-via'], 'switchyard 1.1');
  assert.equal(seen.headers['x-secret'], undefined);
  assert.equal(seen.headers['x-host-lower'], 'www.example.com');
  assert.equal(res.headers['strict-transport-security'], 'max-age=63072000');
  assert.equal(res.headers['x-served-path'], '/v2/api/items');
});

test('IP allow-list: clients outside the networks are denied, inside are served', async (t) => {
  const servers = await httpServers(t, ['web']);
  const denyPort = await proxy(t, backends(servers), {
    httpRequest: [{ action: 'deny', status: 403, if: '!{ src 10.0.0.0/8 192.168.0.0/16 }' }],
    defaultBackend: { name: 'web' },
  });
  const denied = await get(denyPort, '/');
  assert.equal(denied.status, 403);
  assert.equal(servers[0]!.requests.length, 0);

  const allowServers = await httpServers(t, ['web']);
  const allowPort = await proxy(t, backends(allowServers), {
    acls: [{ name: 'trusted', criterion: 'src 10.0.0.0/8 127.0.0.0/8 ::1' }],
    httpRequest: [{ action: 'deny', status: 403, unless: 'trusted' }],
    defaultBackend: { name: 'web' },
  });
  assert.equal((await get(allowPort, '/')).status, 200);
});

test('WebSocket detection by header routes the upgrade to the ws backend, which tunnels frames both ways', async (t) => {
  const [web] = await httpServers(t, ['web']);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo:${String(data)}`)));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate(); // close() waits for open connections
        wss.close(() => resolve());
      }),
  );
  const wsPort = (wss.address() as net.AddressInfo).port;
  const port = await proxy(t, [backend('web', { servers: [server(web!)] }), backend('ws', { servers: [{ name: 'ws1', address: '127.0.0.1', port: wsPort }], timeouts: { tunnel: '1h' } })], {
    acls: [{ name: 'is_websocket', criterion: 'hdr(upgrade) -i websocket' }],
    useBackends: [{ backend: 'ws', if: 'is_websocket' }],
    defaultBackend: { name: 'web' },
  });
  const client = new WebSocket(`ws://127.0.0.1:${port}/chat`);
  t.after(() => client.terminate());
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  const reply = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))));
  client.send('hello');
  assert.equal(await reply, 'echo:hello');
  assert.equal((await get(port, '/chat')).headers['x-server'], 'web', 'plain requests to the same path go to web');
});

test('return with status, body and content type; allow stops rule processing', async (t) => {
  const servers = await httpServers(t, ['web']);
  const port = await proxy(t, backends(servers), {
    httpRequest: [
      { action: 'allow', if: '{ path /open }' },
      { action: 'return', status: 200, body: '{"ok":true}', contentType: 'application/json', if: '{ path /health }' },
      { action: 'deny', status: 404 },
    ],
    defaultBackend: { name: 'web' },
  });
  const health = await get(port, '/health');
  assert.equal(health.status, 200);
  assert.equal(health.headers['content-type'], 'application/json');
  assert.equal(health.body, '{"ok":true}');
  assert.equal((await get(port, '/open')).headers['x-server'], 'web');
  assert.equal((await get(port, '/elsewhere')).status, 404);
});

test('url_param, hdr_beg, int matchers and the dst_port fetch', async (t) => {
  const servers = await httpServers(t, ['beta', 'web']);
  const port = await proxy(t, backends(servers), {
    useBackends: [{ backend: 'beta', if: '{ url_param(channel) -m str beta } || { hdr_beg(host) -i beta. }' }],
    httpRequest: [{ action: 'deny', status: 400, if: '{ req.hdr_cnt(x-dup) gt 1 }' }],
    defaultBackend: { name: 'web' },
  });
  assert.equal((await get(port, '/p?x=1&channel=beta')).headers['x-server'], 'beta');
  assert.equal((await get(port, '/p', { headers: { host: 'Beta.example.com' } })).headers['x-server'], 'beta');
  assert.equal((await get(port, '/p?channel=stable')).headers['x-server'], 'web');
  const dup = await raw(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Dup: 1\r\nX-Dup: 2\r\nConnection: close\r\n\r\n`);
  assert.match(dup, /^HTTP\/1\.1 400 /);
});

test('rate limit: track-sc0 src and deny 429 past 100 requests per 10 s, per client, on one keep-alive connection and on new ones', async (t) => {
  const servers = await httpServers(t, ['web']);
  const port = await proxy(t, backends(servers), {
    stickTable: { type: 'ip', size: '100k', expire: '30s', store: ['http_req_rate(10s)'] },
    httpRequest: [
      { action: 'track-sc0', key: 'src' },
      { action: 'deny', status: 429, if: '{ sc_http_req_rate(0) gt 100 }' },
    ],
    defaultBackend: { name: 'web' },
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  // All 102 requests in one 10 s window: see rateWindowFor. They take well under a second.
  const budgetMs = 3_000;
  const window = await rateWindowFor(10_000, budgetMs);
  const started = performance.now();
  const statuses: number[] = [];
  for (let i = 0; i < 100; i++) statuses.push((await get(port, '/', { agent })).status);
  const next = (await get(port, '/', { agent })).status;
  const fresh = (await get(port, '/')).status;
  const elapsed = Math.round(performance.now() - started);
  assert.deepEqual(new Set(statuses), new Set([200]), 'the first 100 requests pass');
  assert.equal(Math.floor(wallClock.now() / 10_000), window, `the requests took ${elapsed} ms, past the ${budgetMs} ms budget and into the next rate window`);
  assert.equal(next, 429, 'the 101st within the window is denied');
  assert.equal(fresh, 429, 'a new connection from the same client is limited too');
  assert.equal(servers[0]!.requests.length, 100);
});

test('tcp-request rules in tcp mode: reject by source, and use_backend by destination port', async (t) => {
  const [a, b] = await tcpServers(t, ['a', 'b']);
  const port = await freePort();
  const port2 = await freePort();
  const harness = await startProxy(t, [
    backend('a', { mode: 'tcp', servers: [server(a!)] }),
    backend('b', { mode: 'tcp', servers: [server(b!)] }),
    frontend('tcp-edge', {
      mode: 'tcp',
      binds: [{ address: '127.0.0.1', port }, { address: '127.0.0.1', port: port2 }],
      useBackends: [{ backend: 'b', if: `{ dst_port ${port2} }` }],
      defaultBackend: { name: 'a' },
    }),
    frontend('tcp-closed', {
      mode: 'tcp',
      binds: [{ address: '127.0.0.1', port: await freePort() }],
      tcpRequest: [{ action: 'reject', unless: '{ src 10.0.0.0/8 }' }],
      defaultBackend: { name: 'a' },
    }),
  ]);
  const greet = (p: number) => raw(p, '', 1000);
  assert.match(await greet(port), /^a\n/);
  assert.match(await greet(port2), /^b\n/);
  const before = a!.connections;
  assert.equal(await greet(harness.port('tcp-closed')), '', 'rejected: closed without a byte');
  assert.equal(a!.connections, before, 'a rejected connection never reaches a server');
});
