import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tcpProbe, unescapeCheckString } from './tcp.ts';
import type { TcpProbe } from './tcp.ts';
import { eventually, onRequest, refusedPort, startBlackhole, startServer } from '../test-support.ts';

const host = '127.0.0.1';
const connectOnly: TcpProbe = { kind: 'tcp', send: null, expect: null };

test('connect only: L4OK', async () => {
  const server = await startServer(() => {});
  try {
    const r = await tcpProbe({ host, port: server.port }, connectOnly, 1000);
    assert.equal(r.status, 'L4OK');
    assert.equal(r.ok, true);
    assert.equal(r.code, null);
    assert.equal(r.detail, 'Layer4 check passed');
    assert.ok(r.durationMs >= 0);
  } finally {
    await server.close();
  }
});

test('refused port: L4CON with the system reason', async () => {
  const port = await refusedPort();
  const r = await tcpProbe({ host, port }, connectOnly, 1000);
  assert.equal(r.status, 'L4CON');
  assert.equal(r.ok, false);
  assert.match(r.detail, /^Layer4 connection problem, info: "Connection refused"$/);
});

test('connect that never completes: L4TOUT', async () => {
  const blackhole = await startBlackhole();
  try {
    const r = await tcpProbe({ host, port: blackhole.port }, connectOnly, 200);
    assert.equal(r.status, 'L4TOUT');
    assert.equal(r.ok, false);
    assert.match(r.detail, /^Layer4 timeout/);
  } finally {
    await blackhole.close();
  }
});

test('send with escapes, then expect found in the reply: L7OK', async () => {
  let received = '';
  const server = await startServer((socket) =>
    onRequest(
      socket,
      (buf) => buf.includes('\r\n'),
      (buf) => {
        received = buf.toString();
        socket.write('+OK ');
        setTimeout(() => socket.write('server ready\r\n'), 10);
      },
    ),
  );
  try {
    const r = await tcpProbe({ host, port: server.port }, { kind: 'tcp', send: 'HELLO\\tx\\r\\n', expect: 'ready\\r\\n' }, 1000);
    assert.equal(r.status, 'L7OK', r.detail);
    assert.equal(r.ok, true);
    assert.equal(received, 'HELLO\tx\r\n');
  } finally {
    await server.close();
  }
});

test('expect on a banner without send', async () => {
  const server = await startServer((socket) => socket.write('220 smtp.example ESMTP\r\n'));
  try {
    const r = await tcpProbe({ host, port: server.port }, { kind: 'tcp', send: null, expect: '220 ' }, 1000);
    assert.equal(r.status, 'L7OK');
  } finally {
    await server.close();
  }
});

test('server accepts but never answers: L7TOUT, and the socket is closed', async () => {
  let serverSawClose = false;
  const server = await startServer((socket) => {
    socket.resume(); // consume the request so the client's FIN is seen
    socket.on('close', () => (serverSawClose = true));
  });
  try {
    const r = await tcpProbe({ host, port: server.port }, { kind: 'tcp', send: 'PING\\r\\n', expect: 'PONG' }, 200);
    assert.equal(r.status, 'L7TOUT');
    assert.equal(r.detail, 'Layer7 timeout');
    assert.equal(await eventually(() => serverSawClose), true, 'probe socket was not closed');
  } finally {
    await server.close();
  }
});

test('server closes without the expected string: L7RSP', async () => {
  const server = await startServer((socket) => socket.end('-ERR nope\r\n'));
  try {
    const r = await tcpProbe({ host, port: server.port }, { kind: 'tcp', send: null, expect: '+OK' }, 1000);
    assert.equal(r.status, 'L7RSP');
    assert.match(r.detail, /expected string '\+OK' not found/);
  } finally {
    await server.close();
  }
});

test('send without expect: data flushed, L4OK', async () => {
  let received = '';
  const server = await startServer((socket) => socket.on('data', (d: Buffer) => (received += d.toString())));
  try {
    const r = await tcpProbe({ host, port: server.port }, { kind: 'tcp', send: 'QUIT\\n', expect: null }, 1000);
    assert.equal(r.status, 'L4OK');
    assert.equal(await eventually(() => received === 'QUIT\n'), true, `server got ${JSON.stringify(received)}`);
  } finally {
    await server.close();
  }
});

test('unescapeCheckString interprets \\r \\n \\t \\\\ only', () => {
  assert.equal(unescapeCheckString('a\\r\\n\\tb\\\\c'), 'a\r\n\tb\\c');
  assert.equal(unescapeCheckString('\\x41\\'), '\\x41\\');
  assert.equal(unescapeCheckString('\\\\n'), '\\n');
});
