import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { buildHttpRequest, decodeChunked, httpProbe, statusAccepted } from './http.ts';
import type { HttpProbe } from './http.ts';
import { eventually, onRequest, refusedPort, startServer } from '../test-support.ts';
import type { FakeServer } from '../test-support.ts';

const host = '127.0.0.1';

function probe(overrides: Partial<Omit<HttpProbe, 'expect'>> & { expect?: Partial<HttpProbe['expect']> } = {}): HttpProbe {
  const { expect, ...rest } = overrides;
  return {
    kind: 'http',
    method: 'GET',
    path: '/healthz',
    version: 'HTTP/1.1',
    host: null,
    headers: [],
    ...rest,
    expect: { status: null, statusRange: null, bodyContains: null, header: null, ...expect },
  };
}

/** A server that answers each request (once its head has arrived) with raw bytes. */
async function httpServer(answer: (request: string, socket: net.Socket) => void): Promise<FakeServer & { requests: string[] }> {
  const requests: string[] = [];
  const server = await startServer((socket) =>
    onRequest(
      socket,
      (buf) => buf.includes('\r\n\r\n'),
      (buf) => {
        const request = buf.toString('latin1');
        requests.push(request);
        answer(request, socket);
      },
    ),
  );
  return Object.assign(server, { requests });
}

function response(status: string, headers: string[], body = ''): string {
  return [`HTTP/1.1 ${status}`, ...headers, '', body].join('\r\n');
}

test('200 passes by default: L7OK with code and reason; request is well formed', async () => {
  const server = await httpServer((_req, s) => s.end(response('200 OK', ['Content-Length: 2'], 'ok')));
  try {
    const p = probe({ headers: [{ name: 'X-Check', value: 'yes' }] });
    const r = await httpProbe({ host, port: server.port }, p, 1000);
    assert.equal(r.status, 'L7OK');
    assert.equal(r.ok, true);
    assert.equal(r.code, 200);
    assert.equal(r.detail, 'Layer7 check passed, code: 200, info: "OK"');
    const [request] = server.requests;
    assert.equal(
      request,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\nUser-Agent: Switchyard-Check/1\r\nX-Check: yes\r\n\r\n`,
    );
  } finally {
    await server.close();
  }
});

test('probe.host and method/version are used; an extra Host-named header replaces the default', async () => {
  const server = await httpServer((_req, s) => s.end(response('204 No Content', [])));
  try {
    let r = await httpProbe({ host, port: server.port }, probe({ method: 'HEAD', version: 'HTTP/1.0', host: 'app.example' }), 1000);
    assert.equal(r.status, 'L7OK');
    assert.match(server.requests[0], /^HEAD \/healthz HTTP\/1\.0\r\nHost: app\.example\r\n/);
    r = await httpProbe({ host, port: server.port }, probe({ headers: [{ name: 'host', value: 'other.example' }] }), 1000);
    assert.equal(r.status, 'L7OK');
    assert.equal(server.requests[1].match(/^host:/gim)?.length, 1);
    assert.match(server.requests[1], /\r\nhost: other\.example\r\n/);
  } finally {
    await server.close();
  }
});

test('3xx passes by default, 500 is L7STS with the code and reason', async () => {
  let status = '302 Found';
  const server = await httpServer((_req, s) => s.end(response(status, ['Location: /x', 'Content-Length: 0'])));
  try {
    let r = await httpProbe({ host, port: server.port }, probe(), 1000);
    assert.equal(r.status, 'L7OK');
    assert.equal(r.code, 302);
    status = '500 Internal Server Error';
    r = await httpProbe({ host, port: server.port }, probe(), 1000);
    assert.equal(r.status, 'L7STS');
    assert.equal(r.ok, false);
    assert.equal(r.code, 500);
    assert.equal(r.detail, 'Layer7 wrong status, code: 500, info: "Internal Server Error"');
  } finally {
    await server.close();
  }
});

test('status list and statusRange', async () => {
  let status = '404 Not Found';
  const server = await httpServer((_req, s) => s.end(response(status, ['Content-Length: 0'])));
  try {
    const target = { host, port: server.port };
    let r = await httpProbe(target, probe({ expect: { status: [200, 404] } }), 1000);
    assert.equal(r.status, 'L7OK', '404 is listed');
    r = await httpProbe(target, probe({ expect: { statusRange: [200, 299] } }), 1000);
    assert.equal(r.status, 'L7STS');
    assert.equal(r.code, 404);
    r = await httpProbe(target, probe({ expect: { statusRange: [400, 499] } }), 1000);
    assert.equal(r.status, 'L7OK', '404 in range');
    status = '200 OK';
    r = await httpProbe(target, probe({ expect: { status: [204] } }), 1000);
    assert.equal(r.status, 'L7STS', '200 is not listed');
    r = await httpProbe(target, probe({ expect: { status: [200], statusRange: [300, 399] } }), 1000);
    assert.equal(r.status, 'L7STS', 'both conditions must pass');
  } finally {
    await server.close();
  }
});

test('statusAccepted defaults to 2xx and 3xx', () => {
  const none = { status: null, statusRange: null, bodyContains: null, header: null };
  assert.equal(statusAccepted(199, none), false);
  assert.equal(statusAccepted(200, none), true);
  assert.equal(statusAccepted(399, none), true);
  assert.equal(statusAccepted(400, none), false);
});

test('bodyContains: found (Content-Length), missing (L7RSP with code)', async () => {
  let body = '{"status":"ready"}';
  const server = await httpServer((_req, s) => s.end(response('200 OK', [`Content-Length: ${body.length}`], body)));
  try {
    let r = await httpProbe({ host, port: server.port }, probe({ expect: { bodyContains: '"ready"' } }), 1000);
    assert.equal(r.status, 'L7OK');
    body = '{"status":"starting"}';
    r = await httpProbe({ host, port: server.port }, probe({ expect: { bodyContains: '"ready"' } }), 1000);
    assert.equal(r.status, 'L7RSP');
    assert.equal(r.code, 200);
    assert.equal(r.detail, 'Layer7 invalid response, code: 200, info: "body does not contain \'\\"ready\\"\'"');
  } finally {
    await server.close();
  }
});

test('bodyContains across chunk boundaries of a chunked body, and in a read-until-close body', async () => {
  let mode: 'chunked' | 'close' = 'chunked';
  const server = await httpServer((_req, s) => {
    if (mode === 'chunked') {
      s.write(response('200 OK', ['Transfer-Encoding: chunked'], ''));
      s.write('4\r\nall \r\n');
      setTimeout(() => s.end('6;ext=1\r\ngood\r\n\r\n0\r\n\r\n'), 10);
    } else {
      s.write(response('200 OK', [], 'all '));
      setTimeout(() => s.end('good'), 10);
    }
  });
  try {
    let r = await httpProbe({ host, port: server.port }, probe({ expect: { bodyContains: 'all good' } }), 1000);
    assert.equal(r.status, 'L7OK', r.detail);
    mode = 'close';
    r = await httpProbe({ host, port: server.port }, probe({ expect: { bodyContains: 'all good' } }), 1000);
    assert.equal(r.status, 'L7OK', r.detail);
    r = await httpProbe({ host, port: server.port }, probe({ expect: { bodyContains: 'not there' } }), 1000);
    assert.equal(r.status, 'L7RSP');
  } finally {
    await server.close();
  }
});

test('bodyContains: a body that never ends is L7TOUT', async () => {
  const server = await httpServer((_req, s) => s.write(response('200 OK', ['Content-Length: 100'], 'partial')));
  try {
    const r = await httpProbe({ host, port: server.port }, probe({ expect: { bodyContains: 'done' } }), 200);
    assert.equal(r.status, 'L7TOUT');
  } finally {
    await server.close();
  }
});

test('header expectation: match, missing header, wrong value', async () => {
  const server = await httpServer((_req, s) => s.end(response('200 OK', ['Content-Length: 0', 'X-Ready: yes, warm'])));
  try {
    const target = { host, port: server.port };
    let r = await httpProbe(target, probe({ expect: { header: { name: 'x-ready', contains: 'warm' } } }), 1000);
    assert.equal(r.status, 'L7OK');
    r = await httpProbe(target, probe({ expect: { header: { name: 'X-Ready', contains: 'cold' } } }), 1000);
    assert.equal(r.status, 'L7RSP');
    assert.equal(r.code, 200);
    assert.match(r.detail, /header 'X-Ready' does not contain 'cold'/);
    r = await httpProbe(target, probe({ expect: { header: { name: 'X-Missing', contains: '' } } }), 1000);
    assert.equal(r.status, 'L7RSP');
    assert.match(r.detail, /header 'X-Missing' not found/);
  } finally {
    await server.close();
  }
});

test('interim 100 Continue is skipped', async () => {
  const server = await httpServer((_req, s) => s.end('HTTP/1.1 100 Continue\r\n\r\n' + response('200 OK', ['Content-Length: 0'])));
  try {
    const r = await httpProbe({ host, port: server.port }, probe(), 1000);
    assert.equal(r.status, 'L7OK');
    assert.equal(r.code, 200);
  } finally {
    await server.close();
  }
});

test('server accepts but never answers: L7TOUT', async () => {
  const server = await startServer(() => {});
  try {
    const r = await httpProbe({ host, port: server.port }, probe(), 200);
    assert.equal(r.status, 'L7TOUT');
    assert.equal(r.code, null);
  } finally {
    await server.close();
  }
});

test('refused port: L4CON', async () => {
  const port = await refusedPort();
  const r = await httpProbe({ host, port }, probe(), 1000);
  assert.equal(r.status, 'L4CON');
});

test('not HTTP, or cut short: L7RSP without waiting for the timeout', async () => {
  let reply = 'SSH-2.0-OpenSSH_9.6\r\n';
  let keepOpen = true;
  const server = await httpServer((_req, s) => (keepOpen ? s.write(reply) : s.end(reply)));
  try {
    let r = await httpProbe({ host, port: server.port }, probe(), 5000);
    assert.equal(r.status, 'L7RSP');
    assert.match(r.detail, /invalid status line 'SSH-2\.0-OpenSSH_9\.6'/);
    keepOpen = false;
    reply = 'HTTP/1.1 200 OK\r\nContent-Le';
    r = await httpProbe({ host, port: server.port }, probe(), 5000);
    assert.equal(r.status, 'L7RSP');
    reply = '';
    r = await httpProbe({ host, port: server.port }, probe(), 5000);
    assert.equal(r.status, 'L7RSP');
    assert.match(r.detail, /closed without a reply/);
  } finally {
    await server.close();
  }
});

test('header injection in the configured request is refused before connecting: SOCKERR', async () => {
  const server = await startServer(() => {});
  try {
    const r = await httpProbe({ host, port: server.port }, probe({ headers: [{ name: 'X-A', value: 'a\r\nX-B: b' }] }), 1000);
    assert.equal(r.status, 'SOCKERR');
    assert.match(r.detail, /invalid value for header 'X-A'/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(server.accepted, 0);
  } finally {
    await server.close();
  }
});

test('the probe closes its socket after a pass', async () => {
  let closed = false;
  const server = await httpServer((_req, s) => {
    s.on('close', () => (closed = true));
    s.write(response('200 OK', ['Content-Length: 0'])); // keeps its side open
  });
  try {
    const r = await httpProbe({ host, port: server.port }, probe(), 1000);
    assert.equal(r.status, 'L7OK');
    assert.equal(await eventually(() => closed), true);
  } finally {
    await server.close();
  }
});

test('decodeChunked stops at the limit and reports completion', () => {
  const raw = Buffer.from('3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
  assert.deepEqual(decodeChunked(raw, 100), { body: Buffer.from('abcde'), complete: true });
  assert.equal(decodeChunked(raw, 3).body.toString(), 'abc');
  assert.equal(decodeChunked(Buffer.from('3\r\nab'), 100).complete, false);
  assert.throws(() => decodeChunked(Buffer.from('zz\r\n'), 100), /invalid chunk size/);
});

test('buildHttpRequest defaults Host to the target, bracketing IPv6 and omitting port 80', () => {
  const text = (target: { host: string; port: number }) => buildHttpRequest(target, probe()).toString();
  assert.match(text({ host: '::1', port: 8080 }), /\r\nHost: \[::1\]:8080\r\n/);
  assert.match(text({ host: '10.0.0.1', port: 80 }), /\r\nHost: 10\.0\.0\.1\r\n/);
});

test("against node:http's server: chunked streaming body, keep-alive ignored thanks to Connection: close", async () => {
  const { createServer } = await import('node:http');
  const seen: { host?: string; connection?: string; ua?: string }[] = [];
  const server = createServer((req, res) => {
    seen.push({ host: req.headers.host, connection: req.headers.connection, ua: req.headers['user-agent'] });
    res.setHeader('X-Ready', 'yes');
    res.write('{"db":"up",');
    setTimeout(() => res.end('"cache":"up"}'), 10);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const r = await httpProbe(
      { host, port },
      probe({ expect: { bodyContains: '"cache":"up"', header: { name: 'x-ready', contains: 'yes' } } }),
      1000,
    );
    assert.equal(r.status, 'L7OK', r.detail);
    assert.equal(r.code, 200);
    assert.deepEqual(seen, [{ host: `127.0.0.1:${port}`, connection: 'close', ua: 'Switchyard-Check/1' }]);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
