/**
 * HTTP/1.1 on the wire through the proxy, with raw sockets: early rejection of hostile or broken
 * requests (they never reach a backend), bodies, pipelining, HTTP/1.0, keep-alive and upstream
 * connection reuse, X-Forwarded-For, server timeouts and garbage, and the Upgrade tunnel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { TestContext } from 'node:test';
import type { Harness } from '../helpers/dataplane-harness.ts';
import type { FakeHttpServer } from '../helpers/fake-upstream.ts';
import { eventually } from '../helpers/eventually.ts';
import { get, raw } from '../helpers/http-client.ts';
import { backend, freePort, httpServers, listener, server, startProxy, type Spec } from '../helpers/manifests.ts';
import { tcpConnect } from '../helpers/tcp-client.ts';

/** The Backend `web` over one upstream, and the Frontend `web` with `frontendSpec`. */
async function proxyTo(t: TestContext, upstream: { name: string; port: number }, frontendSpec: Spec = {}, backendSpec: Spec = {}): Promise<{ harness: Harness; port: number }> {
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('web', { servers: [server(upstream)], ...backendSpec }),
    listener('web', port, 'web', { timeouts: { client: '5s', httpRequest: '2s' }, ...frontendSpec }),
  ]);
  return { harness, port: harness.port('web') };
}

/** The status code of the first response in a raw reply, or 0. */
function statusOf(reply: string): number {
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(reply);
  return m ? Number(m[1]) : 0;
}

/** A raw TCP server for upstream misbehaviour; `onData` decides what each connection gets. */
async function rawUpstream(t: TestContext, name: string, onData: (socket: net.Socket, data: Buffer) => void): Promise<{ name: string; port: number; connections: number }> {
  const sockets = new Set<net.Socket>();
  const state = { name, port: 0, connections: 0 };
  const srv = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (data) => onData(socket, data));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  state.port = (srv.address() as net.AddressInfo).port;
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  return state;
}

/** A Node HTTP upstream that counts its connections and answers each request with its URL. */
async function countingUpstream(t: TestContext, name: string, handler?: http.RequestListener): Promise<{ name: string; port: number; connections: number; server: http.Server }> {
  const sockets = new Set<net.Socket>();
  const srv = http.createServer(
    handler ??
      ((req, res) => {
        req.resume();
        req.on('end', () => {
          res.setHeader('x-server', name);
          res.end(`url=${req.url}\n`);
        });
      }),
  );
  srv.keepAliveTimeout = 60_000;
  const state = { name, port: 0, connections: 0, server: srv };
  srv.on('connection', (socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  state.port = (srv.address() as net.AddressInfo).port;
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => srv.close(() => resolve()));
  });
  return state;
}

function upstreamRequests(harness: Harness): number {
  return harness.dataplane.servers().reduce((n, s) => n + s.totalRequests, 0);
}

// ---- early rejections -----------------------------------------------------------------------

const smuggling: [string, string][] = [
  ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding with Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n'],
  ['two different Content-Length headers', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'],
  ['a Transfer-Encoding other than chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
  ['white space before the colon', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello'],
  ['an obs-folded header', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n'],
  ['an HTTP/1.1 request without Host', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n'],
];

for (const [what, payload] of smuggling) {
  test(`request smuggling defence: ${what} gets 400 and reaches no backend`, async (t) => {
    const [up] = await httpServers(t, ['up']);
    const { harness, port } = await proxyTo(t, up!);
    const reply = await raw(port, payload);
    assert.equal(statusOf(reply), 400, reply);
    assert.match(reply, /connection: close/i);
    assert.equal(up!.requests.length, 0);
    assert.equal(upstreamRequests(harness), 0);
  });
}

const malformed: [string, string][] = [
  ['no HTTP version', 'GET /\r\nHost: x\r\n\r\n'],
  ['garbage instead of a request line', 'HELLO\r\n\r\n'],
  ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['an unknown HTTP version', 'GET / HTTP/3.7\r\nHost: x\r\n\r\n'],
  ['a control character in the target', 'GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n'],
];

for (const [what, payload] of malformed) {
  test(`malformed request line (${what}) gets 400 and reaches no backend`, async (t) => {
    const [up] = await httpServers(t, ['up']);
    const { harness, port } = await proxyTo(t, up!);
    const reply = await raw(port, payload);
    assert.equal(statusOf(reply), 400, reply);
    assert.equal(upstreamRequests(harness), 0);
  });
}

test('20 KiB of headers gets 431 and reaches no backend', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { harness, port } = await proxyTo(t, up!);
  const reply = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
  assert.equal(statusOf(reply), 431, reply.slice(0, 200));
  assert.equal(upstreamRequests(harness), 0);
});

test('20 KiB of headers sent in small pieces gets 431 too', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { harness, port } = await proxyTo(t, up!);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET / HTTP/1.1\r\nHost: x\r\n');
  for (let i = 0; i < 20 && !client.ended; i++) client.write(`X-H${i}: ${'b'.repeat(1020)}\r\n`);
  const reply = await client.waitEnd();
  assert.equal(statusOf(reply), 431, reply.slice(0, 200));
  assert.equal(upstreamRequests(harness), 0);
});

test('a client that sends half a head and stalls gets 408 after timeouts.httpRequest', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { harness, port } = await proxyTo(t, up!, { timeouts: { client: '5s', httpRequest: '300ms' } });
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET / HTTP/1.1\r\nHost: x\r\n');
  const reply = await client.waitEnd(5000);
  assert.equal(statusOf(reply), 408, reply);
  assert.equal(upstreamRequests(harness), 0);
});

test('a client that trickles its head byte by byte still gets 408: the whole head must arrive in time', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { harness, port } = await proxyTo(t, up!, { timeouts: { client: '5s', httpRequest: '300ms' } });
  const client = await tcpConnect(port);
  t.after(() => client.close());
  const head = `GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ${'z'.repeat(200)}\r\n\r\n`;
  let i = 0;
  // One byte every 20ms, far below the idle timeout, for much longer than 300ms in total.
  const timer = setInterval(() => {
    if (client.ended || i >= head.length) return clearInterval(timer);
    client.write(head[i++]!);
  }, 20);
  t.after(() => clearInterval(timer));
  const reply = await client.waitEnd(8000);
  clearInterval(timer);
  assert.equal(statusOf(reply), 408, reply);
  assert.ok(i < head.length, 'the head was complete before the proxy gave up');
  assert.equal(upstreamRequests(harness), 0);
});

// ---- bodies, pipelining, versions ------------------------------------------------------------

test('a POST body with Content-Length arrives intact', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!);
  const body = 'name=switchyard&mode=http&' + 'x'.repeat(1000);
  const res = await get(port, '/form', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) } });
  assert.equal(res.status, 200);
  assert.equal(up!.requests.length, 1);
  assert.equal(up!.requests[0]!.method, 'POST');
  assert.equal(up!.requests[0]!.body, body);
  assert.equal(up!.requests[0]!.headers['content-length'], String(body.length));
});

test('a 2 MiB POST body streams through intact', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!);
  let body = '';
  for (let i = 0; body.length < 2 * 1024 * 1024; i++) body += `${i.toString(36)};`;
  const res = await get(port, '/upload', { method: 'POST', body, headers: { 'content-length': String(body.length) } });
  assert.equal(res.status, 200);
  assert.equal(up!.requests[0]!.body.length, body.length);
  assert.equal(up!.requests[0]!.body, body);
});

test('a chunked POST body arrives intact, chunk by chunk over several writes', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
  client.write('5\r\nhello\r\n');
  client.write('7\r\n, world\r\n');
  client.write('1;ext=1\r\n!\r\n');
  client.write('0\r\n\r\n');
  const reply = await client.waitFor('up\n');
  assert.equal(statusOf(reply), 200, reply);
  assert.equal(up!.requests.length, 1);
  assert.equal(up!.requests[0]!.body, 'hello, world!');
  assert.equal(up!.requests[0]!.headers['transfer-encoding'], 'chunked');
});

test('two pipelined requests in one write are both answered, in order', async (t) => {
  const up = await countingUpstream(t, 'up', (req, res) => {
    req.resume();
    // The first answer is the slow one: order must still be kept.
    setTimeout(() => res.end(`url=${req.url}\n`), req.url === '/one' ? 100 : 0);
  });
  const { port } = await proxyTo(t, up);
  const reply = await raw(port, 'GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const statuses = [...reply.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 200], reply);
  const one = reply.indexOf('url=/one');
  const two = reply.indexOf('url=/two');
  assert.ok(one >= 0 && two > one, reply);
});

test('an HTTP/1.0 request gets its response and the connection is closed', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET /old HTTP/1.0\r\n\r\n');
  const reply = await client.waitEnd();
  assert.equal(statusOf(reply), 200, reply);
  assert.ok(reply.endsWith('\r\n\r\nup\n'), reply);
  assert.equal(up!.requests[0]!.url, '/old');
});

test('an HTTP/1.0 client gets a streamed (chunked upstream) response without chunk framing', async (t) => {
  const up = await countingUpstream(t, 'up', (req, res) => {
    req.resume();
    res.write('part1-');
    setTimeout(() => res.end('part2'), 10);
  });
  const { port } = await proxyTo(t, up);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET / HTTP/1.0\r\n\r\n');
  const reply = await client.waitEnd();
  assert.equal(statusOf(reply), 200, reply);
  assert.ok(reply.endsWith('\r\n\r\npart1-part2'), reply);
});

test('an HTTP/1.0 client asking for keep-alive keeps its connection for a second request', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  // With a Host header the proxy speaks HTTP/1.1 to the server (as HAProxy does), so the server
  // side frames its response and both sides stay open.
  client.write('GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  const first = await client.waitFor('up\n');
  assert.match(first, /connection: keep-alive/i);
  assert.equal(client.ended, false);
  client.write('GET /b HTTP/1.0\r\nHost: x\r\n\r\n');
  const all = await client.waitEnd();
  assert.equal((all.match(/HTTP\/1\.1 200/g) ?? []).length, 2, all);
  assert.deepEqual(up!.requests.map((r) => r.url), ['/a', '/b']);
});

test('Expect: 100-continue: the interim response reaches the client, then the body reaches the server', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('PUT /data HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  const interim = await client.waitFor('\r\n\r\n');
  assert.match(interim, /^HTTP\/1\.1 100 /);
  client.write('hello');
  const reply = await client.waitFor('up\n');
  assert.match(reply, /HTTP\/1\.1 200 /);
  assert.equal(up!.requests[0]!.body, 'hello');
});

test('HEAD, 204 and 304 responses carry no body and the connection goes on', async (t) => {
  const up = await countingUpstream(t, 'up', (req, res) => {
    req.resume();
    if (req.url === '/empty') res.statusCode = 204;
    if (req.url === '/cached') res.statusCode = 304;
    res.setHeader('content-length', req.url === '/empty' || req.url === '/cached' ? '0' : '11');
    res.end(req.method === 'HEAD' || res.statusCode !== 200 ? undefined : 'hello world');
  });
  const { port } = await proxyTo(t, up);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor((d) => d.includes('\r\n\r\n'));
  client.write('GET /empty HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor((d) => (d.match(/\r\n\r\n/g) ?? []).length >= 2);
  client.write('GET /cached HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor((d) => (d.match(/\r\n\r\n/g) ?? []).length >= 3);
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const all = await client.waitFor('hello world');
  assert.deepEqual([...all.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])), [200, 204, 304, 200]);
  assert.ok(all.endsWith('\r\n\r\nhello world'), all);
  assert.equal(up.connections, 1);
});

test('a chunked response passes through to an HTTP/1.1 client and the connection is reused', async (t) => {
  const up = await countingUpstream(t, 'up', (req, res) => {
    req.resume();
    res.write('first,');
    setTimeout(() => res.end('second'), 10);
  });
  const { port } = await proxyTo(t, up);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
  const first = await client.waitFor('0\r\n\r\n');
  assert.match(first, /transfer-encoding: chunked/i);
  assert.match(first, /\r\n6\r\nfirst,\r\n6\r\nsecond\r\n0\r\n\r\n$/);
  client.write('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor((d) => (d.match(/0\r\n\r\n/g) ?? []).length >= 2);
  assert.equal(up.connections, 1);
});

test('a client that disconnects while its request is being served releases the server slot', async (t) => {
  const [slow] = await httpServers(t, ['slow'], { delayMs: 200 });
  const { harness, port } = await proxyTo(t, slow!);
  const client = await tcpConnect(port);
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await eventually(() => assert.equal(slow!.inFlight, 1));
  client.close();
  await eventually(() => assert.equal(harness.dataplane.servers()[0]!.active, 0));
  assert.equal((await get(port, '/')).status, 200);
});

test('an idle keep-alive client connection is closed after timeouts.httpKeepAlive', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!, { timeouts: { client: '5s', httpRequest: '2s', httpKeepAlive: '200ms' } });
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor('up\n');
  const all = await client.waitEnd(5000);
  assert.equal((all.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'no 408 or other response for an idle connection');
});

// ---- keep-alive and connection reuse -----------------------------------------------------------

test('keep-alive: requests on one client connection reuse one server connection', async (t) => {
  const up = await countingUpstream(t, 'up');
  const { port } = await proxyTo(t, up);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor('url=/1\n');
  client.write('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor('url=/2\n');
  client.write('GET /3 HTTP/1.1\r\nHost: x\r\n\r\n');
  const all = await client.waitFor('url=/3\n');
  assert.equal((all.match(/HTTP\/1\.1 200/g) ?? []).length, 3);
  assert.equal(client.ended, false, 'the client connection stays open');
  assert.equal(up.connections, 1, 'the proxy opened more than one server connection');
});

test('httpReuse never: every request gets its own server connection', async (t) => {
  const up = await countingUpstream(t, 'up');
  const { port } = await proxyTo(t, up, {}, { httpReuse: 'never' });
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor('url=/1\n');
  client.write('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor('url=/2\n');
  assert.equal(up.connections, 2);
});

test('hop-by-hop headers from the client are not forwarded', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!);
  const reply = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close, X-Secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Keep: yes\r\n\r\n');
  assert.equal(statusOf(reply), 200, reply);
  const headers = up!.requests[0]!.headers;
  assert.equal(headers['x-keep'], 'yes');
  assert.equal(headers['keep-alive'], undefined);
  assert.equal(headers.te, undefined);
});

test('Frontend maxConnections 1: a second client waits, unserved, until the first connection ends', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!, { maxConnections: 1 });
  const first = await tcpConnect(port);
  t.after(() => first.close());
  first.write('GET /a1 HTTP/1.1\r\nHost: x\r\n\r\n');
  await first.waitFor('up\n');
  const second = await tcpConnect(port);
  t.after(() => second.close());
  second.write('GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  // The first client keeps being served meanwhile...
  first.write('GET /a2 HTTP/1.1\r\nHost: x\r\n\r\n');
  await first.waitFor((d) => (d.match(/up\n/g) ?? []).length === 2);
  // ...and the second one has had nothing.
  assert.equal(second.data, '');
  assert.deepEqual(up!.requests.map((r) => r.url), ['/a1', '/a2']);
  first.close();
  const reply = await second.waitEnd();
  assert.equal(statusOf(reply), 200, reply);
  assert.deepEqual(up!.requests.map((r) => r.url), ['/a1', '/a2', '/b']);
});

// ---- X-Forwarded-For -----------------------------------------------------------------------------

test('X-Forwarded-For is added when the Frontend sets forwardFor', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!, { forwardFor: {} });
  assert.equal((await get(port, '/')).status, 200);
  assert.equal(up!.requests[0]!.headers['x-forwarded-for'], '127.0.0.1');
});

test('X-Forwarded-Proto and X-Forwarded-Port accompany X-Forwarded-For (SPEC section 2)', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!, { forwardFor: {} });
  assert.equal((await get(port, '/')).status, 200);
  const headers = up!.requests[0]!.headers;
  assert.equal(headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(headers['x-forwarded-proto'], 'http');
  assert.equal(headers['x-forwarded-port'], String(port));
});

test('X-Forwarded-For is added when the Backend sets forwardFor', async (t) => {
  const [up] = await httpServers(t, ['up']);
  const { port } = await proxyTo(t, up!, {}, { forwardFor: { header: 'X-Client-IP' } });
  assert.equal((await get(port, '/')).status, 200);
  assert.equal(up!.requests[0]!.headers['x-client-ip'], '127.0.0.1');
  assert.equal(up!.requests[0]!.headers['x-forwarded-for'], undefined);
});

test('X-Forwarded-For is not added without forwardFor, nor for a source in `except`', async (t) => {
  const servers: FakeHttpServer[] = await httpServers(t, ['plain', 'exempt']);
  const plain = await proxyTo(t, servers[0]!);
  assert.equal((await get(plain.port, '/')).status, 200);
  assert.equal(servers[0]!.requests[0]!.headers['x-forwarded-for'], undefined);
  const exempt = await proxyTo(t, servers[1]!, { forwardFor: { except: '127.0.0.0/8' } });
  assert.equal((await get(exempt.port, '/')).status, 200);
  assert.equal(servers[1]!.requests[0]!.headers['x-forwarded-for'], undefined);
});

// ---- server misbehaviour -----------------------------------------------------------------------

test('a server that does not answer within timeouts.server gets the client a 504', async (t) => {
  const silent = await rawUpstream(t, 'silent', () => undefined);
  const { harness, port } = await proxyTo(t, silent, {}, { timeouts: { connect: '1s', server: '300ms' } });
  const res = await get(port, '/');
  assert.equal(res.status, 504);
  assert.equal(silent.connections, 1);
  assert.equal(harness.dataplane.servers()[0]!.active, 0, 'the server slot was released');
});

test('a server answering garbage gets the client a 502', async (t) => {
  const garbage = await rawUpstream(t, 'garbage', (socket) => socket.write('this is not http\r\n\r\n'));
  const { port } = await proxyTo(t, garbage);
  const res = await get(port, '/');
  assert.equal(res.status, 502);
  assert.match(res.body, /502 Bad Gateway/);
});

test('a server closing without an answer gets the client a 502', async (t) => {
  const rude = await rawUpstream(t, 'rude', (socket) => socket.end());
  const { port } = await proxyTo(t, rude);
  const res = await get(port, '/');
  assert.equal(res.status, 502);
});

test('a server whose response head is too large gets the client a 502', async (t) => {
  const big = await rawUpstream(t, 'big', (socket) => socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${'h'.repeat(20 * 1024)}\r\nContent-Length: 0\r\n\r\n`));
  const { port } = await proxyTo(t, big);
  // Raw, because a real client would choke on the head: the proxy must answer 502 itself.
  const reply = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(statusOf(reply), 502, `${reply.slice(0, 60)}... (${reply.length} bytes)`);
  assert.ok(!reply.includes('X-Big'), 'the oversized head reached the client');
});

// ---- Upgrade -----------------------------------------------------------------------------------

test('an Upgrade request is tunnelled: 101 then bytes flow both ways', async (t) => {
  const up = await countingUpstream(t, 'ws', (_req, res) => res.end('not an upgrade\n'));
  const seenHeaders: http.IncomingHttpHeaders[] = [];
  up.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    seenHeaders.push(req.headers);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nserver-hello\n');
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  const { port } = await proxyTo(t, up, { timeouts: { client: '5s', httpRequest: '2s', tunnel: '5s' } });
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  const head = await client.waitFor('server-hello\n');
  assert.equal(statusOf(head), 101, head);
  assert.equal(seenHeaders[0]!.upgrade, 'websocket');
  assert.match(String(seenHeaders[0]!.connection), /upgrade/i);
  client.write('ping-1\n');
  await client.waitFor('server-hello\nping-1\n');
  client.write(Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f])); // binary-safe
  const all = await client.waitFor((d) => d.endsWith('\x81\x05hello'));
  assert.ok(all.endsWith('server-hello\nping-1\n\x81\x05hello'));
  assert.equal(client.ended, false, 'the tunnel stays open');
});

test('an idle Upgrade tunnel is closed after timeouts.tunnel', async (t) => {
  const up = await countingUpstream(t, 'ws', (_req, res) => res.end('not an upgrade\n'));
  up.server.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  const { port } = await proxyTo(t, up, { timeouts: { client: '5s', httpRequest: '2s', tunnel: '300ms' } });
  const client = await tcpConnect(port);
  t.after(() => client.close());
  client.write('GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  await client.waitFor('\r\n\r\n');
  client.write('still here\n');
  await client.waitFor('still here\n');
  await client.waitEnd(5000);
  assert.match(client.data, /^HTTP\/1\.1 101 /);
});
