import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { CLIENT_CAPABILITIES, mysqlProbe } from './mysql.ts';
import { eventually, refusedPort, startServer } from '../test-support.ts';

const host = '127.0.0.1';

function packet(seq: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = seq;
  return Buffer.concat([header, payload]);
}

/** Protocol v10 greeting of a MySQL 8 server. */
function greeting(version = '8.0.36'): Buffer {
  const salt1 = Buffer.from('abcdefgh');
  const salt2 = Buffer.from('ijklmnopqrst\0');
  const payload = Buffer.concat([
    Buffer.from([10]),
    Buffer.from(`${version}\0`),
    Buffer.from([1, 0, 0, 0]), // thread id
    salt1,
    Buffer.from([0]),
    Buffer.from([0xff, 0xf7]), // capabilities (lower)
    Buffer.from([0xff]), // charset
    Buffer.from([2, 0]), // status
    Buffer.from([0xff, 0xdf]), // capabilities (upper)
    Buffer.from([21]), // auth data length
    Buffer.alloc(10),
    salt2,
    Buffer.from('mysql_native_password\0'),
  ]);
  return packet(0, payload);
}

function errPacket(seq: number, code: number, message: string, sqlState: string | null): Buffer {
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(code, 1);
  return packet(seq, Buffer.concat([head, Buffer.from(sqlState ? `#${sqlState}${message}` : message)]));
}

interface Login {
  seq: number;
  capabilities: number;
  charset: number;
  user: string;
  authLength: number;
}

/** Minimal MySQL server: greeting, then reads the handshake response and answers with reply(). */
async function mysqlServer(reply: (login: Login) => Buffer | null, options: { greeting?: Buffer } = {}) {
  const logins: Login[] = [];
  const counters = { quits: 0 };
  const server = await startServer((socket: net.Socket) => {
    socket.write(options.greeting ?? greeting());
    let buf = Buffer.alloc(0);
    let stage = 0;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUIntLE(0, 3)) {
        const len = buf.readUIntLE(0, 3);
        const seq = buf[3];
        const p = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (stage === 0) {
          stage = 1;
          const userEnd = p.indexOf(0, 32);
          const login = {
            seq,
            capabilities: p.readUInt32LE(0),
            charset: p[8],
            user: p.toString('utf8', 32, userEnd),
            authLength: p[userEnd + 1],
          };
          logins.push(login);
          const answer = reply(login);
          if (answer) socket.write(answer);
        } else if (p.length === 1 && p[0] === 0x01) {
          counters.quits++;
          socket.end();
        }
      }
    });
  });
  return Object.assign(server, { logins, counters });
}

const okPacket = packet(2, Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]));

test('greeting, HandshakeResponse41 for the user without password, OK: L7OK with the version, then COM_QUIT', async () => {
  const server = await mysqlServer(() => okPacket);
  try {
    const r = await mysqlProbe({ host, port: server.port }, { kind: 'mysql', user: 'haproxy_check' }, 1000);
    assert.equal(r.status, 'L7OK');
    assert.equal(r.detail, 'Layer7 check passed, info: "8.0.36"');
    assert.equal(server.logins.length, 1);
    const [login] = server.logins;
    assert.equal(login.seq, 1);
    assert.equal(login.user, 'haproxy_check');
    assert.equal(login.authLength, 0);
    assert.equal(login.charset, 0x21);
    assert.equal(login.capabilities, CLIENT_CAPABILITIES);
    assert.ok(login.capabilities & 0x200, 'CLIENT_PROTOCOL_41');
    assert.equal(await eventually(() => server.counters.quits === 1), true, 'COM_QUIT not received');
  } finally {
    await server.close();
  }
});

test('error packet after login: L7STS with the MySQL error number and message', async () => {
  const server = await mysqlServer((login) => errPacket(2, 1045, `Access denied for user '${login.user}'@'127.0.0.1'`, '28000'));
  try {
    const r = await mysqlProbe({ host, port: server.port }, { kind: 'mysql', user: 'nobody' }, 1000);
    assert.equal(r.status, 'L7STS');
    assert.equal(r.code, 1045);
    assert.equal(r.detail, `Layer7 wrong status, code: 1045, info: "Access denied for user 'nobody'@'127.0.0.1'"`);
  } finally {
    await server.close();
  }
});

test('error packet instead of a greeting: L7STS', async () => {
  const server = await mysqlServer(() => null, {
    greeting: errPacket(0, 1130, "Host '127.0.0.1' is not allowed to connect to this MySQL server", null),
  });
  try {
    const r = await mysqlProbe({ host, port: server.port }, { kind: 'mysql', user: 'u' }, 1000);
    assert.equal(r.status, 'L7STS');
    assert.equal(r.code, 1130);
    assert.match(r.detail, /is not allowed to connect/);
  } finally {
    await server.close();
  }
});

test('no answer to the login: L7TOUT; truncated greeting then close: L7RSP; refused: L4CON', async () => {
  const silent = await mysqlServer(() => null);
  const truncated = await startServer((socket) => socket.end(greeting().subarray(0, 10)));
  const port = await refusedPort();
  try {
    assert.equal((await mysqlProbe({ host, port: silent.port }, { kind: 'mysql', user: 'u' }, 200)).status, 'L7TOUT');
    assert.equal((await mysqlProbe({ host, port: truncated.port }, { kind: 'mysql', user: 'u' }, 1000)).status, 'L7RSP');
    assert.equal((await mysqlProbe({ host, port }, { kind: 'mysql', user: 'u' }, 1000)).status, 'L4CON');
  } finally {
    await silent.close();
    await truncated.close();
  }
});

test('a greeting with another protocol version is L7RSP', async () => {
  const server = await mysqlServer(() => okPacket, { greeting: packet(0, Buffer.from([9, 0x35, 0])) });
  try {
    const r = await mysqlProbe({ host, port: server.port }, { kind: 'mysql', user: 'u' }, 1000);
    assert.equal(r.status, 'L7RSP');
    assert.match(r.detail, /protocol version 9/);
  } finally {
    await server.close();
  }
});
