import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { pgsqlProbe } from './pgsql.ts';
import { refusedPort, startServer } from '../test-support.ts';

const host = '127.0.0.1';

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function authRequest(code: number, extra = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(4);
  body.writeInt32BE(code, 0);
  return message('R', Buffer.concat([body, extra]));
}

function errorResponse(fields: Record<string, string>): Buffer {
  const parts = Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`));
  return message('E', Buffer.concat([...parts, Buffer.from([0])]));
}

interface Startup {
  protocol: number;
  params: Record<string, string>;
}

/** Minimal PostgreSQL server: parses the StartupMessage and answers with reply(). */
async function pgServer(reply: ((startup: Startup) => Buffer) | null) {
  const startups: Startup[] = [];
  const server = await startServer((socket: net.Socket) => {
    let buf = Buffer.alloc(0);
    let done = false;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (done || buf.length < 4 || buf.length < buf.readInt32BE(0)) return;
      done = true;
      const len = buf.readInt32BE(0);
      const fields = buf.toString('utf8', 8, len).split('\0');
      const params: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length && fields[i] !== ''; i += 2) params[fields[i]] = fields[i + 1];
      const startup = { protocol: buf.readInt32BE(4), params };
      startups.push(startup);
      if (reply) socket.write(reply(startup));
    });
  });
  return Object.assign(server, { startups });
}

test('an authentication request is L7OK; StartupMessage carries protocol 3.0, user and database', async () => {
  const server = await pgServer(() => authRequest(5, Buffer.from([1, 2, 3, 4])));
  try {
    const r = await pgsqlProbe({ host, port: server.port }, { kind: 'pgsql', user: 'checker' }, 1000);
    assert.equal(r.status, 'L7OK');
    assert.equal(r.detail, 'Layer7 check passed, info: "PostgreSQL server is ok (MD5Password)"');
    assert.deepEqual(server.startups, [{ protocol: 196608, params: { user: 'checker', database: 'checker' } }]);
  } finally {
    await server.close();
  }
});

test('SASL (SCRAM) and AuthenticationOk count as alive too', async () => {
  let code = 10;
  const server = await pgServer(() => authRequest(code, code === 10 ? Buffer.from('SCRAM-SHA-256\0\0') : Buffer.alloc(0)));
  try {
    assert.equal((await pgsqlProbe({ host, port: server.port }, { kind: 'pgsql', user: 'u' }, 1000)).status, 'L7OK');
    code = 0;
    assert.equal((await pgsqlProbe({ host, port: server.port }, { kind: 'pgsql', user: 'u' }, 1000)).status, 'L7OK');
  } finally {
    await server.close();
  }
});

test('ErrorResponse is L7STS with the server message', async () => {
  const server = await pgServer(() =>
    errorResponse({ S: 'FATAL', V: 'FATAL', C: '57P03', M: 'the database system is starting up' }),
  );
  try {
    const r = await pgsqlProbe({ host, port: server.port }, { kind: 'pgsql', user: 'u' }, 1000);
    assert.equal(r.status, 'L7STS');
    assert.equal(r.detail, 'Layer7 wrong status, info: "FATAL: the database system is starting up"');
  } finally {
    await server.close();
  }
});

test('something else: L7RSP; silence: L7TOUT; refused: L4CON', async () => {
  const http = await pgServer(() => Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
  const silent = await pgServer(null);
  const port = await refusedPort();
  try {
    const r = await pgsqlProbe({ host, port: http.port }, { kind: 'pgsql', user: 'u' }, 1000);
    assert.equal(r.status, 'L7RSP');
    assert.equal((await pgsqlProbe({ host, port: silent.port }, { kind: 'pgsql', user: 'u' }, 200)).status, 'L7TOUT');
    assert.equal((await pgsqlProbe({ host, port }, { kind: 'pgsql', user: 'u' }, 1000)).status, 'L4CON');
  } finally {
    await http.close();
    await silent.close();
  }
});
