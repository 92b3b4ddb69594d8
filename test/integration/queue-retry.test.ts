/**
 * Per-server maxConnections with the proxy-side queue and its timeout, and retries/redispatch on
 * connection failure, in HTTP and TCP mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/eventually.ts';
import { closedPort } from '../helpers/fake-upstream.ts';
import { get } from '../helpers/http-client.ts';
import { backend, freePort, httpServers, listener, server, startProxy, tally, tcpServers } from '../helpers/manifests.ts';
import { queueLength, serverState } from '../helpers/runtime-peek.ts';
import { tcpConnect } from '../helpers/tcp-client.ts';

test('maxConnections 1: five concurrent requests wait in the queue and are all served one at a time', async (t) => {
  const [one] = await httpServers(t, ['one'], { delayMs: 150 });
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('web', { timeouts: { queue: '3s' }, servers: [server(one!, { maxConnections: 1 })] }),
    listener('web', port, 'web'),
  ]);
  const results = await Promise.all(Array.from({ length: 5 }, () => get(harness.port('web'), '/')));
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.equal(one!.requests.length, 5);
  assert.equal(one!.maxInFlight, 1);
});

test('queue timeout: requests that wait longer than timeouts.queue get 503 and never reach the server', async (t) => {
  const [one] = await httpServers(t, ['one'], { delayMs: 1000 });
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('web', { timeouts: { queue: '200ms' }, servers: [server(one!, { maxConnections: 1 })] }),
    listener('web', port, 'web'),
  ]);
  const results = await Promise.all(Array.from({ length: 3 }, () => get(harness.port('web'), '/')));
  assert.deepEqual(results.map((r) => r.status).sort(), [200, 503, 503]);
  assert.equal(one!.requests.length, 1);
  assert.equal(one!.maxInFlight, 1);
  // The slot and the queue are empty again: the next request is served.
  one!.delayMs = 0;
  assert.equal((await get(harness.port('web'), '/')).status, 200);
});

test('maxConnections is shared by two servers: ten concurrent requests never exceed 2 per server', async (t) => {
  const servers = await httpServers(t, ['a', 'b'], { delayMs: 100 });
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('web', { balance: 'leastconn', timeouts: { queue: '5s' }, servers: servers.map((s) => server(s, { maxConnections: 2 })) }),
    listener('web', port, 'web'),
  ]);
  const results = await Promise.all(Array.from({ length: 10 }, () => get(harness.port('web'), '/')));
  assert.deepEqual(results.map((r) => r.status), Array(10).fill(200));
  assert.equal(servers[0]!.maxInFlight, 2);
  assert.equal(servers[1]!.maxInFlight, 2);
  assert.equal(servers[0]!.requests.length + servers[1]!.requests.length, 10);
});

test('a client that gives up while queued leaves the queue: its request never reaches the server', async (t) => {
  const [one] = await httpServers(t, ['one'], { delayMs: 300 });
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('web', { timeouts: { queue: '5s' }, servers: [server(one!, { maxConnections: 1 })] }),
    listener('web', port, 'web'),
  ]);
  const first = get(harness.port('web'), '/first');
  await eventually(() => assert.equal(one!.inFlight, 1));
  const quitter = await tcpConnect(harness.port('web'));
  quitter.write('GET /quitter HTTP/1.1\r\nHost: x\r\n\r\n');
  await eventually(() => assert.equal(queueLength(harness, 'default/web'), 1, 'the second request is not queued'));
  quitter.close();
  await eventually(() => assert.equal(queueLength(harness, 'default/web'), 0, 'the abandoned request is still queued'));
  assert.equal((await first).status, 200);
  assert.equal((await get(harness.port('web'), '/last')).status, 200);
  assert.deepEqual(one!.requests.map((r) => r.url), ['/first', '/last']);
});

test('retries 3 + redispatch: a POST body is replayed intact to the live server', async (t) => {
  const [good] = await httpServers(t, ['good']);
  const dead = { name: 'dead', port: await closedPort() };
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('web', { balance: 'roundrobin', retries: 3, redispatch: true, servers: [server(dead), server(good!)] }),
    listener('web', port, 'web'),
  ]);
  const body = 'payload-' + 'p'.repeat(5000);
  for (let i = 0; i < 4; i++) {
    const res = await get(harness.port('web'), `/post/${i}`, { method: 'POST', body, headers: { 'content-length': String(body.length) } });
    assert.equal(res.status, 200);
  }
  assert.equal(good!.requests.length, 4);
  for (const r of good!.requests) assert.equal(r.body, body);
  assert.ok(serverState(harness, 'dead').redispatches > 0);
});

test('retries 3 + redispatch: a dead server never causes a failed request', async (t) => {
  const [good] = await httpServers(t, ['good']);
  const dead = { name: 'dead', port: await closedPort() };
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('web', { balance: 'roundrobin', retries: 3, redispatch: true, servers: [server(dead), server(good!)] }),
    listener('web', port, 'web'),
  ]);
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await get(harness.port('web'), '/');
    statuses.push(res.status);
    assert.equal(res.status, 200, `request ${i}: ${res.status}`);
    assert.equal(res.headers['x-server'], 'good');
  }
  assert.equal(good!.requests.length, 20);
  const state = serverState(harness, 'dead');
  assert.ok(state.redispatches >= 5, `requests on the dead server were redispatched (${state.redispatches})`);
  // HAProxy's retries 3 with redispatch: the first attempt and two retries on the same server,
  // the last retry on another one.
  assert.equal(state.connectErrors, 3 * state.redispatches);
});

test('retries 1 without redispatch: requests that land on the dead server get 503 after two attempts', async (t) => {
  const [good] = await httpServers(t, ['good']);
  const dead = { name: 'dead', port: await closedPort() };
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('web', { balance: 'roundrobin', retries: 1, redispatch: false, servers: [server(dead), server(good!)] }),
    listener('web', port, 'web'),
  ]);
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push((await get(harness.port('web'), '/')).status);
  const counts = tally(statuses.map(String));
  assert.ok((counts['503'] ?? 0) > 0 && (counts['200'] ?? 0) > 0, JSON.stringify(counts));
  assert.equal((counts['503'] ?? 0) + (counts['200'] ?? 0), 20, JSON.stringify(counts));
  assert.equal(good!.requests.length, counts['200']);
  const state = serverState(harness, 'dead');
  assert.equal(state.connectErrors, 2 * counts['503']!, 'one attempt plus one retry per failed request');
  assert.equal(state.redispatches, 0);
});

test('TCP mode, retries 3 + redispatch: every connection reaches the live server', async (t) => {
  const [good] = await tcpServers(t, ['good']);
  const dead = { name: 'dead', port: await closedPort() };
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('tcp', { mode: 'tcp', balance: 'roundrobin', retries: 3, redispatch: true, servers: [server(dead), server(good!)] }),
    listener('tcp', port, 'tcp', { mode: 'tcp' }),
  ]);
  const greetings: string[] = [];
  for (let i = 0; i < 6; i++) {
    const client = await tcpConnect(harness.port('tcp'));
    try {
      const data = await client.waitFor((d) => d.includes('\n') || client.ended, 3000).catch(() => client.data);
      greetings.push(data === '' ? '(closed)' : data.trim());
    } finally {
      client.close();
    }
  }
  assert.deepEqual(greetings, Array(6).fill('good'));
  const state = serverState(harness, 'dead');
  assert.ok(state.redispatches >= 3, `connections on the dead server were redispatched (${state.redispatches})`);
  assert.equal(state.connectErrors, 3 * state.redispatches, 'three attempts on the dead server before each redispatch');
  assert.equal(serverState(harness, 'good').connectErrors, 0, 'the live server was never counted as failing');
});
