/**
 * Active health checks driving the balancer, under continuous load through the real proxy.
 * HealthPolicy: GET /healthz every 100ms, rise 2, fall 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/eventually.ts';
import { startHttpServer } from '../helpers/fake-upstream.ts';
import { servedBy } from '../helpers/http-client.ts';
import { startLoad } from '../helpers/load.ts';
import { backend, freePort, healthPolicy, httpServers, listener, server, startProxy } from '../helpers/manifests.ts';
import { serverState } from '../helpers/runtime-peek.ts';

const WORKERS = 3;

const check = healthPolicy('hc', { interval: '100ms', timeout: '500ms', rise: 2, fall: 2, http: { path: '/healthz', expect: { status: [200] } } });

test('a server failing its HTTP check leaves the rotation and comes back, with no failed request throughout', async (t) => {
  const [s1, s2, s3] = await httpServers(t, ['s1', 's2', 's3']);
  const port = await freePort();
  const harness = await startProxy(t, [
    check,
    backend('web', { balance: 'roundrobin', healthPolicyRef: { name: 'hc' }, retries: 3, redispatch: true, servers: [server(s1!), server(s2!), server(s3!)] }),
    listener('web', port, 'web'),
  ]);
  const load = startLoad(harness.port('web'), { workers: WORKERS });
  try {
    const healthy = await load.more(30);
    assert.ok(healthy.some((r) => r.server === 's2'), 's2 serves while healthy');

    s2!.healthStatus = 500;
    load.phase = 'failing';
    await eventually(() => assert.equal(serverState(harness, 's2').healthy, false, 's2 still UP'));

    load.phase = 'down';
    const seenBefore = s2!.requests.length;
    const down = (await load.more(60)).filter((r) => r.phase === 'down');
    assert.ok(down.length > 0);
    assert.deepEqual(down.filter((r) => r.server === 's2'), [], 'no request sent after DOWN reaches s2');
    assert.equal(s2!.requests.length, seenBefore, 's2 received requests while DOWN');
    assert.ok(down.some((r) => r.server === 's1') && down.some((r) => r.server === 's3'), 'the others share the load');

    s2!.healthStatus = 200;
    load.phase = 'recovering';
    await eventually(() => assert.equal(serverState(harness, 's2').healthy, true, 's2 still DOWN'));
    load.phase = 'back';
    const back = (await load.more(60)).filter((r) => r.phase === 'back');
    assert.ok(back.some((r) => r.server === 's2'), 's2 is back in the rotation');
  } finally {
    await load.stop();
  }
  // The server kept answering real requests, so nothing at all may fail.
  assert.deepEqual(load.failures(), []);
});

test('a killed server is retried then redispatched, taken out after fall checks, and back after a restart on its port', async (t) => {
  const [s1, s2, s3] = await httpServers(t, ['s1', 's2', 's3']);
  const port = await freePort();
  // A slower check than the other tests (DOWN after 2 x 1s): requests sent right after the kill
  // certainly reach the dead server before the check does, so retries and redispatch are seen.
  const slowCheck = healthPolicy('hc', { interval: '1s', timeout: '500ms', rise: 2, fall: 2, http: { path: '/healthz', expect: { status: [200] } } });
  const harness = await startProxy(t, [
    slowCheck,
    backend('web', { balance: 'roundrobin', healthPolicyRef: { name: 'hc' }, retries: 3, redispatch: true, servers: [server(s1!), server(s2!), server(s3!)] }),
    listener('web', port, 'web'),
  ]);
  const s2Port = s2!.port;
  const load = startLoad(harness.port('web'), { workers: WORKERS });
  try {
    load.phase = 'healthy';
    const healthy = await load.more(30);
    assert.ok(healthy.some((r) => r.server === 's2'), 's2 serves while alive');

    // stop() closes the listening socket and every connection synchronously; `killed` labels
    // only requests sent after that moment.
    const stopping = s2!.stop();
    load.phase = 'killed';
    await stopping;
    await load.more(30);
    await eventually(() => assert.equal(serverState(harness, 's2').healthy, false, 's2 still UP'));

    load.phase = 'down';
    const state = serverState(harness, 's2');
    const taken = state.totalRequests;
    const errors = state.connectErrors;
    assert.ok(state.redispatches > 0, 'requests that reached the dead server were redispatched');
    assert.ok(errors >= 3 * state.redispatches, `retries 3: three connection attempts before each redispatch (${errors} errors, ${state.redispatches} redispatches)`);
    const down = (await load.more(60)).filter((r) => r.phase === 'down');
    assert.ok(down.length > 0);
    assert.equal(state.totalRequests, taken, 'the proxy still sends requests to the DOWN server');
    assert.equal(state.connectErrors, errors, 'the proxy still connects to the DOWN server');

    const restarted = await startHttpServer('s2', { port: s2Port });
    t.after(() => restarted.stop());
    load.phase = 'restarted';
    await eventually(() => assert.equal(serverState(harness, 's2').healthy, true, 's2 still DOWN'));
    load.phase = 'back';
    const back = (await load.more(60)).filter((r) => r.phase === 'back');
    assert.ok(back.some((r) => r.server === 's2'), 's2 is back in the rotation');
    assert.ok(restarted.requests.length > 0);
  } finally {
    await load.stop();
  }
  const failures = load.failures();
  // Only a request already in flight on s2 when it died may fail (at most one per client);
  // every request sent afterwards is retried and redispatched to a live server.
  assert.deepEqual(failures.filter((r) => r.phase !== 'healthy'), [], 'requests sent after the kill failed');
  assert.ok(failures.length <= WORKERS, `${failures.length} requests failed: ${JSON.stringify(failures)}`);
});

test('a server that starts failing its check never gets traffic once DOWN, even from a keep-alive connection', async (t) => {
  const [a, b] = await httpServers(t, ['a', 'b']);
  const port = await freePort();
  const harness = await startProxy(t, [
    check,
    backend('web', { balance: 'roundrobin', healthPolicyRef: { name: 'hc' }, servers: [server(a!), server(b!)] }),
    listener('web', port, 'web'),
  ]);
  a!.healthStatus = 503;
  await eventually(() => assert.equal(serverState(harness, 'a').healthy, false));
  const names = await servedBy(harness.port('web'), 10);
  assert.deepEqual(names, Array(10).fill('b'));
});
