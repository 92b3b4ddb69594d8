/**
 * Configuration changes applied while traffic flows: nothing in flight is dropped, keep-alive
 * connections pick up the new configuration, removed listeners stop accepting and drain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { eventually } from '../helpers/eventually.ts';
import { get, servedBy } from '../helpers/http-client.ts';
import { startLoad } from '../helpers/load.ts';
import { backend, freePort, healthPolicy, httpServers, listener, server, startProxy, tally, yaml, type Manifest, type Spec } from '../helpers/manifests.ts';
import { queueLength } from '../helpers/runtime-peek.ts';
import { connectRefused, tcpConnect } from '../helpers/tcp-client.ts';
import type { FakeHttpServer } from '../helpers/fake-upstream.ts';

test('ten configuration changes under continuous load: no failed request, and traffic follows the last one', async (t) => {
  // A little server time, so that requests are in flight whenever a configuration is applied.
  const all = await httpServers(t, ['s1', 's2', 's3', 's4'], { delayMs: 10 });
  const [s1, s2, s3, s4] = all as [FakeHttpServer, FakeHttpServer, FakeHttpServer, FakeHttpServer];
  const port = await freePort();
  const front = listener('web', port, 'web');
  const web = (spec: Spec, servers: Spec[]): Manifest => backend('web', { ...spec, servers });
  const configs: Manifest[] = [
    web({ balance: 'roundrobin' }, [server(s1, { weight: 3 }), server(s2), server(s3)]),
    web({ balance: 'roundrobin' }, [server(s1), server(s2), server(s3), server(s4)]),
    web({ balance: 'roundrobin' }, [server(s2), server(s3), server(s4)]),
    web({ balance: 'leastconn' }, [server(s2), server(s3), server(s4, { weight: 2 })]),
    web({ balance: 'random' }, [server(s1), server(s3), server(s4)]),
    web({ balance: 'static-rr' }, [server(s1, { weight: 2 }), server(s2)]),
    web({ balance: 'first' }, [server(s3, { maxConnections: 2 }), server(s4)]),
    web({ balance: 'source' }, [server(s1), server(s2), server(s3), server(s4)]),
    web({ balance: 'uri', hashType: 'consistent' }, [server(s1), server(s2), server(s3)]),
    web({ balance: 'roundrobin' }, [server(s3), server(s4)]),
  ];
  const harness = await startProxy(t, [web({ balance: 'roundrobin' }, [server(s1), server(s2), server(s3)]), front]);
  const load = startLoad(harness.port('web'), { workers: 4, path: (i) => `/r/${i % 17}` });
  try {
    await load.more(20);
    for (const [i, config] of configs.entries()) {
      await harness.apply(yaml(config, front));
      load.phase = `config-${i}`;
      await load.more(20);
    }
    load.phase = 'final';
    const final = (await load.more(40)).filter((r) => r.phase === 'final');
    assert.ok(final.length > 0);
    assert.deepEqual([...new Set(final.map((r) => r.server))].sort(), ['s3', 's4'], 'the final configuration has s3 and s4 only');
  } finally {
    await load.stop();
  }
  assert.deepEqual(load.failures(), [], 'requests failed during the reloads');
  for (let i = 0; i < configs.length; i++) assert.ok(load.results.some((r) => r.phase === `config-${i}`), `config ${i} served traffic`);
  // Quiet now: the last configuration is an exact alternation of s3 and s4.
  assert.deepEqual(tally(await servedBy(harness.port('web'), 20)), { s3: 10, s4: 10 });
});

test('a slow request in flight completes with 200 when its server is removed from the configuration', async (t) => {
  const [slow] = await httpServers(t, ['slow'], { delayMs: 500 });
  const [fast] = await httpServers(t, ['fast']);
  const port = await freePort();
  const front = listener('web', port, 'web');
  const harness = await startProxy(t, [backend('web', { servers: [server(slow!)] }), front]);
  const pending = get(harness.port('web'), '/slow');
  await eventually(() => assert.equal(slow!.inFlight, 1));
  await harness.apply(yaml(backend('web', { balance: 'leastconn', servers: [server(fast!)] }), front));
  // New requests follow the new configuration at once...
  assert.equal((await get(harness.port('web'), '/')).headers['x-server'], 'fast');
  // ...while the request already on the removed server finishes normally.
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.body, 'slow\n');
  assert.equal(slow!.requests.length, 1);
});

test('requests waiting in the queue are handed to the new configuration and served', async (t) => {
  const [a] = await httpServers(t, ['a'], { delayMs: 300 });
  const [b] = await httpServers(t, ['b']);
  const port = await freePort();
  const front = listener('web', port, 'web');
  const harness = await startProxy(t, [backend('web', { timeouts: { queue: '5s' }, servers: [server(a!, { maxConnections: 1 })] }), front]);
  const pending = Promise.all(Array.from({ length: 3 }, () => get(harness.port('web'), '/')));
  await eventually(() => {
    assert.equal(a!.inFlight, 1);
    assert.equal(queueLength(harness, 'default/web'), 2);
  });
  await harness.apply(yaml(backend('web', { timeouts: { queue: '5s' }, servers: [server(a!, { maxConnections: 1 }), server(b!)] }), front));
  const results = await pending;
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
  assert.equal(a!.maxInFlight, 1);
  assert.equal(a!.requests.length + b!.requests.length, 3);
});

test('a keep-alive client connection picks up the new configuration at its next request', async (t) => {
  const [a, b] = await httpServers(t, ['a', 'b']);
  const port = await freePort();
  const front = listener('web', port, 'web');
  const harness = await startProxy(t, [backend('web', { servers: [server(a!)] }), front]);
  const client = await tcpConnect(harness.port('web'));
  t.after(() => client.close());
  client.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
  await client.waitFor('a\n');
  await harness.apply(yaml(backend('web', { servers: [server(b!)] }), front));
  client.write('GET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  const all = await client.waitFor('b\n');
  assert.equal(client.ended, false);
  assert.deepEqual([...all.matchAll(/x-server: (\w+)/g)].map((m) => m[1]), ['a', 'b']);
  assert.equal(a!.requests.length, 1);
  assert.equal(b!.requests.length, 1);
});

test('a removed Frontend stops accepting connections while its in-flight request completes', async (t) => {
  const [slow] = await httpServers(t, ['slow'], { delayMs: 500 });
  const [other] = await httpServers(t, ['other']);
  const [webPort, oldPort] = [await freePort(), await freePort()];
  const docs = [backend('web', { servers: [server(other!)] }), listener('web', webPort, 'web'), backend('old', { servers: [server(slow!)] })];
  const harness = await startProxy(t, [...docs, listener('old', oldPort, 'old')]);
  const pending = get(harness.port('old'), '/');
  await eventually(() => assert.equal(slow!.inFlight, 1));
  await harness.apply(yaml(...docs));
  assert.throws(() => harness.port('old'), /no listener/);
  assert.equal(await connectRefused(oldPort), true, 'the removed port still accepts connections');
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.body, 'slow\n');
  assert.equal(res.headers.connection, 'close', 'a draining listener closes the connection after the response');
  // The Frontend that stayed kept serving.
  assert.equal((await get(harness.port('web'), '/')).headers['x-server'], 'other');
});

test('a removed Frontend closes its idle keep-alive connections', async (t) => {
  const [a] = await httpServers(t, ['a']);
  const port = await freePort();
  const harness = await startProxy(t, [backend('web', { servers: [server(a!)] }), listener('web', port, 'web')]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  let closed = false;
  await get(harness.port('web'), '/', { agent });
  const socket = await eventually(() => {
    const free = Object.values(agent.freeSockets).flat()[0];
    assert.ok(free, 'the client connection is kept alive');
    return free;
  });
  socket.on('close', () => (closed = true));
  await harness.apply(yaml(backend('web', { servers: [server(a!)] })));
  await eventually(() => assert.ok(closed, 'idle connection still open'));
});

test('an invalid configuration is refused and the previous one keeps serving', async (t) => {
  const [a] = await httpServers(t, ['a']);
  const port = await freePort();
  const docs = [backend('web', { servers: [server(a!)] }), listener('web', port, 'web')];
  const harness = await startProxy(t, docs);
  await assert.rejects(harness.apply(yaml(backend('web', { balance: 'hdr', servers: [server(a!)] }), docs[1]!)), /hashKey/);
  assert.equal((await get(harness.port('web'), '/')).headers['x-server'], 'a');
});

test('a server inserted before the existing ones gets its share after the reload (roundrobin)', async (t) => {
  const [a, b, c] = await httpServers(t, ['a', 'b', 'c']);
  const port = await freePort();
  const front = listener('web', port, 'web');
  const harness = await startProxy(t, [backend('web', { servers: [server(a!), server(b!)] }), front]);
  assert.deepEqual(tally(await servedBy(harness.port('web'), 4)), { a: 2, b: 2 });
  await harness.apply(yaml(backend('web', { servers: [server(c!), server(a!), server(b!)] }), front));
  assert.deepEqual(tally(await servedBy(harness.port('web'), 9)), { a: 3, b: 3, c: 3 });
});

test('after servers are added in front of existing ones, balance uri still spreads paths over every server', async (t) => {
  const servers = await httpServers(t, ['a', 'b', 'c', 'd']);
  const [a, b, c, d] = servers as [FakeHttpServer, FakeHttpServer, FakeHttpServer, FakeHttpServer];
  const port = await freePort();
  const front = listener('web', port, 'web');
  const harness = await startProxy(t, [backend('web', { balance: 'uri', servers: [server(c), server(d)] }), front]);
  await harness.apply(yaml(backend('web', { balance: 'uri', servers: [server(a), server(b), server(c), server(d)] }), front));
  const seen = new Set<string>();
  for (let i = 0; i < 60; i++) seen.add((await servedBy(harness.port('web'), 1, `/k/${i}`))[0]!);
  assert.deepEqual([...seen].sort(), ['a', 'b', 'c', 'd'], '60 paths over four servers');
});

test('a server marked DOWN by its check stays out of rotation across reloads', async (t) => {
  const [a, b] = await httpServers(t, ['a', 'b']);
  const port = await freePort();
  const front = listener('web', port, 'web');
  const policy = (interval: string): Manifest => healthPolicy('hc', { interval, timeout: '500ms', rise: 2, fall: 2, http: { path: '/healthz' } });
  const web = (weightB: number): Manifest => backend('web', { healthPolicyRef: { name: 'hc' }, servers: [server(a!), server(b!, { weight: weightB })] });
  const harness = await startProxy(t, [policy('100ms'), web(1), front]);
  b!.healthStatus = 500;
  await eventually(() => assert.equal(harness.dataplane.servers().find((s) => s.name === 'b')?.healthy, false));
  // Same policy, new weights; then a different check interval (new checkers).
  await harness.apply(yaml(policy('100ms'), web(5), front));
  assert.deepEqual(await servedBy(harness.port('web'), 6), Array(6).fill('a'));
  await harness.apply(yaml(policy('150ms'), web(5), front));
  assert.deepEqual(await servedBy(harness.port('web'), 6), Array(6).fill('a'));
  // And it comes back through the new checker.
  b!.healthStatus = 200;
  await eventually(async () => assert.ok((await servedBy(harness.port('web'), 6)).includes('b')));
});
