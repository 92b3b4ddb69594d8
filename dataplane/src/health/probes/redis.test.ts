import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisProbe } from './redis.ts';
import { onRequest, refusedPort, startServer } from '../test-support.ts';

const host = '127.0.0.1';
const redis = { kind: 'redis' } as const;

async function redisServer(reply: string | null) {
  const received: string[] = [];
  const server = await startServer((socket) =>
    onRequest(
      socket,
      (buf) => buf.includes('\r\n'),
      (buf) => {
        received.push(buf.toString());
        if (reply !== null) socket.write(reply);
      },
    ),
  );
  return Object.assign(server, { received });
}

test('+PONG: L7OK, and the server got PING', async () => {
  const server = await redisServer('+PONG\r\n');
  try {
    const r = await redisProbe({ host, port: server.port }, redis, 1000);
    assert.equal(r.status, 'L7OK');
    assert.equal(r.detail, 'Layer7 check passed, info: "Redis server is ok"');
    assert.deepEqual(server.received, ['PING\r\n']);
  } finally {
    await server.close();
  }
});

test('an error reply is L7STS with the reply line', async () => {
  const server = await redisServer('-LOADING Redis is loading the dataset in memory\r\n');
  try {
    const r = await redisProbe({ host, port: server.port }, redis, 1000);
    assert.equal(r.status, 'L7STS');
    assert.equal(r.detail, 'Layer7 wrong status, info: "-LOADING Redis is loading the dataset in memory"');
  } finally {
    await server.close();
  }
});

test('no reply: L7TOUT; close without reply: L7RSP; refused: L4CON', async () => {
  const silent = await redisServer(null);
  const closing = await startServer((socket) => socket.end());
  const port = await refusedPort();
  try {
    assert.equal((await redisProbe({ host, port: silent.port }, redis, 200)).status, 'L7TOUT');
    assert.equal((await redisProbe({ host, port: closing.port }, redis, 1000)).status, 'L7RSP');
    assert.equal((await redisProbe({ host, port }, redis, 1000)).status, 'L4CON');
  } finally {
    await silent.close();
    await closing.close();
  }
});
