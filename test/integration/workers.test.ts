/**
 * The multi-core data plane (workers: 2): two worker threads with their own sockets on the same
 * ports, the main thread holding health checks, the queue and the authoritative state, and the
 * in-flight and session counts in shared memory. Real sockets throughout; new connections are
 * spread over the threads by the kernel (SO_REUSEPORT), so tests that need both threads busy use
 * enough connections that both get some, and check it (requestsPerWorker).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { FakeClock } from '../../dataplane/src/health/test-support.ts';
import { eventually } from '../helpers/eventually.ts';
import { get } from '../helpers/http-client.ts';
import { startLoad } from '../helpers/load.ts';
import { backend, freePort, healthPolicy, httpServers, listener, server, startProxy, tally, tcpServers, yaml, type Manifest } from '../helpers/manifests.ts';
import { queueLength, serverState } from '../helpers/runtime-peek.ts';
import { tcpConnect } from '../helpers/tcp-client.ts';

const WORKERS = 2;

/** `n` requests at once, each on its own connection. */
function burst(port: number, n: number, path = '/'): Promise<{ status: number; server: string }[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const res = await get(port, path, { headers: { connection: 'close' } });
      return { status: res.status, server: String(res.headers['x-server'] ?? '') };
    }),
  );
}

function bothWorkersServed(perWorker: number[]): void {
  assert.equal(perWorker.length, WORKERS);
  for (const [i, n] of perWorker.entries()) assert.ok(n > 0, `worker ${i} served no request (${JSON.stringify(perWorker)})`);
}

test('two workers: new connections are spread over both threads and every request is served', async (t) => {
  const servers = await httpServers(t, ['a', 'b', 'c']);
  const port = await freePort();
  const harness = await startProxy(t, [backend('web', { servers: servers.map((s) => server(s)) }), listener('web', port, 'web')], { workers: WORKERS });
  assert.equal(harness.dataplane.workers, WORKERS);
  const results = await burst(harness.port('web'), 40);
  assert.deepEqual(results.map((r) => r.status), Array(40).fill(200));
  const perWorker = harness.dataplane.requestsPerWorker();
  bothWorkersServed(perWorker);
  assert.equal(perWorker.reduce((a, b) => a + b, 0), 40);
  // The main thread adds up the workers' counters.
  assert.equal(harness.dataplane.servers().reduce((n, s) => n + s.totalRequests, 0), 40);
  assert.equal(servers.reduce((n, s) => n + s.requests.length, 0), 40);
});

test('maxConnections 1 holds across workers: a slow server never sees two requests at once', async (t) => {
  const [slow] = await httpServers(t, ['slow'], { delayMs: 20 });
  const port = await freePort();
  const harness = await startProxy(
    t,
    [backend('web', { timeouts: { queue: '20s' }, servers: [server(slow!, { maxConnections: 1 })] }), listener('web', port, 'web')],
    { workers: WORKERS },
  );
  const results = await burst(harness.port('web'), 30);
  assert.deepEqual(results.map((r) => r.status), Array(30).fill(200));
  assert.equal(slow!.requests.length, 30);
  assert.equal(slow!.maxInFlight, 1, 'two requests reached the server at once');
  bothWorkersServed(harness.dataplane.requestsPerWorker());
  assert.equal(queueLength(harness, 'default/web'), 0);
  await eventually(() => assert.equal(serverState(harness, 'slow').active, 0));
});

test('maxConnections 2 per server over two servers, many clients on both workers: never more than 2 each', async (t) => {
  const servers = await httpServers(t, ['a', 'b'], { delayMs: 15 });
  const port = await freePort();
  const harness = await startProxy(
    t,
    [backend('web', { balance: 'roundrobin', timeouts: { queue: '20s' }, servers: servers.map((s) => server(s, { maxConnections: 2 })) }), listener('web', port, 'web')],
    { workers: WORKERS },
  );
  const results = await burst(harness.port('web'), 40);
  assert.deepEqual(results.map((r) => r.status), Array(40).fill(200));
  for (const s of servers) assert.ok(s.maxInFlight <= 2, `${s.name} saw ${s.maxInFlight} requests at once`);
  assert.equal(servers[0]!.requests.length + servers[1]!.requests.length, 40);
  bothWorkersServed(harness.dataplane.requestsPerWorker());
});

test('Frontend maxConnections 1 holds across workers, and a slot freed in one thread admits a connection waiting in the other', async (t) => {
  const [slow] = await httpServers(t, ['slow'], { delayMs: 10 });
  const port = await freePort();
  const harness = await startProxy(t, [backend('web', { servers: [server(slow!)] }), listener('web', port, 'web', { maxConnections: 1 })], { workers: WORKERS });
  const results = await burst(harness.port('web'), 16);
  assert.deepEqual(results.map((r) => r.status), Array(16).fill(200));
  assert.equal(slow!.maxInFlight, 1, 'two client connections were served at once');
  bothWorkersServed(harness.dataplane.requestsPerWorker());
});

test('leastconn sees the connections of the other worker: while one long connection holds t1, every new one goes to t2', async (t) => {
  const [t1, t2] = await tcpServers(t, ['t1', 't2']);
  const port = await freePort();
  const harness = await startProxy(
    t,
    [backend('db', { mode: 'tcp', balance: 'leastconn', servers: [server(t1!), server(t2!)] }), listener('db', port, 'db', { mode: 'tcp' })],
    { workers: WORKERS },
  );
  const active = (): number => harness.dataplane.servers().reduce((n, s) => n + s.active, 0);
  const long = await tcpConnect(harness.port('db'));
  t.after(() => long.close());
  const first = await long.waitFor('\n');
  assert.equal(first.trim(), 't1', 'with nothing in flight the first server goes first');
  for (let i = 0; i < 24; i++) {
    const c = await tcpConnect(harness.port('db'));
    assert.equal((await c.waitFor('\n')).trim(), 't2', `connection ${i} went to the busy server`);
    c.close();
    // The next pick must see this one released, whichever thread picks it.
    await eventually(() => assert.equal(active(), 1));
  }
  bothWorkersServed(harness.dataplane.requestsPerWorker());
});

test('leastconn stays balanced over two workers: concurrent slow requests split evenly', async (t) => {
  const servers = await httpServers(t, ['a', 'b'], { delayMs: 100 });
  const port = await freePort();
  const harness = await startProxy(t, [backend('web', { balance: 'leastconn', servers: servers.map((s) => server(s)) }), listener('web', port, 'web')], { workers: WORKERS });
  const results = await burst(harness.port('web'), 24);
  assert.deepEqual(results.map((r) => r.status), Array(24).fill(200));
  const counts = tally(results.map((r) => r.server));
  // Exact counts would be 12 and 12; two threads picking at the same instant may both see the
  // same loads, so allow a small skew (per-thread counts could give any split).
  assert.ok(Math.abs((counts.a ?? 0) - (counts.b ?? 0)) <= 4, `split ${JSON.stringify(counts)}`);
  for (const s of servers) assert.ok(s.maxInFlight <= 14, `${s.name} had ${s.maxInFlight} in flight`);
  bothWorkersServed(harness.dataplane.requestsPerWorker());
});

test('health is checked once per server, in the main thread; a killed server is marked down once and no worker sends to it afterwards', async (t) => {
  const [a, b] = await httpServers(t, ['a', 'b']);
  const port = await freePort();
  const clock = new FakeClock();
  // 100 ms on the fake clock, which only the test moves; a checker running on real time in a
  // worker would add probes of its own every 100 ms and the exact counts below would not hold.
  const check = healthPolicy('hc', { interval: '100ms', timeout: '1s', rise: 1, fall: 1, http: { path: '/healthz', expect: { status: [200] } } });
  const docs: Manifest[] = [
    check,
    backend('web', { balance: 'roundrobin', healthPolicyRef: { name: 'hc' }, retries: 3, redispatch: true, servers: [server(a!), server(b!)] }),
    listener('web', port, 'web'),
  ];
  const harness = await startProxy(t, docs, { workers: WORKERS, clock });
  let changes = 0;
  harness.dataplane.onHealthChange(() => changes++);

  let rounds = 0;
  const checkRound = async (expectB: boolean): Promise<void> => {
    rounds++;
    clock.advance(1000);
    await eventually(() => assert.equal(a!.healthChecks, rounds));
    if (expectB) await eventually(() => assert.equal(b!.healthChecks, rounds));
  };
  await checkRound(true);
  await checkRound(true);
  const before = await burst(harness.port('web'), 40);
  assert.deepEqual(before.map((r) => r.status), Array(40).fill(200));
  assert.deepEqual(Object.keys(tally(before.map((r) => r.server))).sort(), ['a', 'b']);
  bothWorkersServed(harness.dataplane.requestsPerWorker());

  await b!.stop();
  await checkRound(false);
  await eventually(() => assert.equal(serverState(harness, 'b').healthy, false));
  assert.equal(changes, 1, 'one DOWN transition, from one checker');
  // Every worker has seen the transition once it has acknowledged a later snapshot (the port to
  // each worker is FIFO); in production the requests in between would be retried elsewhere.
  await harness.apply(yaml(...docs));
  const dead = serverState(harness, 'b');
  const [taken, errors] = [dead.totalRequests, dead.connectErrors];
  const after = await burst(harness.port('web'), 40);
  assert.deepEqual(after.map((r) => r.status), Array(40).fill(200));
  assert.deepEqual(after.map((r) => r.server), Array(40).fill('a'));
  const deadNow = serverState(harness, 'b');
  assert.equal(deadNow.totalRequests, taken, 'a worker sent requests to the DOWN server');
  assert.equal(deadNow.connectErrors, errors, 'a worker connected to the DOWN server');
  await checkRound(false);
  assert.equal(a!.healthChecks, rounds, 'a was probed more than once per round');
  assert.equal(changes, 1);
});

test('slow start runs in the main thread and its weight reaches every worker: a server back up gets weight 1, not its configured 100', async (t) => {
  const [a, b] = await httpServers(t, ['a', 'b']);
  const port = await freePort();
  const clock = new FakeClock();
  const check = healthPolicy('hc', { interval: '100ms', timeout: '1s', rise: 1, fall: 1, http: { path: '/healthz', expect: { status: [200] } } });
  // 600 s: the ramp's first step (1/20 of it) is far beyond this test.
  const harness = await startProxy(
    t,
    [
      check,
      backend('web', { balance: 'roundrobin', healthPolicyRef: { name: 'hc' }, servers: [server(a!, { weight: 100 }), server(b!, { weight: 100, slowStart: '600s' })] }),
      listener('web', port, 'web'),
    ],
    { workers: WORKERS, clock },
  );
  b!.healthStatus = 500;
  clock.advance(1000);
  await eventually(() => assert.equal(serverState(harness, 'b').healthy, false));
  b!.healthStatus = 200;
  const probes = b!.healthChecks;
  clock.advance(1000);
  await eventually(() => assert.ok(b!.healthChecks > probes));
  await eventually(() => assert.equal(serverState(harness, 'b').healthy, true));
  assert.equal(serverState(harness, 'b').weight, 1);
  const seen = b!.requests.length;
  const results = await burst(harness.port('web'), 200);
  assert.deepEqual(results.map((r) => r.status), Array(200).fill(200));
  // Weight 1 against 100: about 2 of 200. A worker using the configured weight would send ~50.
  assert.ok(b!.requests.length - seen <= 12, `b got ${b!.requests.length - seen} of 200 while ramping from weight 1`);
  bothWorkersServed(harness.dataplane.requestsPerWorker());
});

test('snapshot swaps under load on both workers lose no request, and traffic follows the last one', async (t) => {
  const [a, b, c] = await httpServers(t, ['a', 'b', 'c']);
  const port = await freePort();
  const config = (names: string[], weights: number[] = []): Manifest[] => [
    backend('web', { balance: 'roundrobin', servers: names.map((n, i) => server([a!, b!, c!].find((s) => s.name === n)!, { weight: weights[i] ?? 1 })) }),
    listener('web', port, 'web'),
  ];
  const harness = await startProxy(t, config(['a', 'b']), { workers: WORKERS });
  const load = startLoad(harness.port('web'), { workers: 8 });
  try {
    await load.more(50);
    const steps: [string[], number[]][] = [
      [['a', 'b', 'c'], []],
      [['b', 'c'], [3, 1]],
      [['a'], []],
      [['a', 'c'], [1, 5]],
      [['c', 'b'], []],
      [['a', 'b', 'c'], [2, 2, 1]],
      [['b'], []],
      [['a', 'b'], []],
      [['c', 'a'], [1, 1]],
      [['c'], []],
    ];
    for (const [names, weights] of steps) {
      await harness.apply(yaml(...config(names, weights)));
      await load.more(20);
    }
    load.phase = 'final';
    const final = (await load.more(80)).filter((r) => r.phase === 'final');
    assert.ok(final.length > 0);
    assert.deepEqual([...new Set(final.map((r) => r.server))], ['c']);
  } finally {
    await load.stop();
  }
  assert.deepEqual(load.failures(), []);
  bothWorkersServed(harness.dataplane.requestsPerWorker());
});

for (const failing of [0, 1]) {
  test(`an apply that fails in worker ${failing} only changes nothing: no new socket, the old configuration serves`, async (t) => {
    const [a, b] = await httpServers(t, ['a', 'b']);
    const [port, extra] = [await freePort(), await freePort()];
    process.env.SWITCHYARD_TEST_FAIL_LISTEN = `${failing}:${extra}`;
    let harness;
    try {
      harness = await startProxy(t, [backend('web', { servers: [server(a!)] }), listener('web', port, 'web')], {
        workers: WORKERS,
        workerExecArgv: ['--import', new URL('../helpers/worker-faults.ts', import.meta.url).href],
      });
    } finally {
      delete process.env.SWITCHYARD_TEST_FAIL_LISTEN;
    }
    const snapshot = harness.dataplane.snapshot;
    // New servers for the existing listener, and a second listener that one worker cannot bind.
    const changed = yaml(backend('web', { servers: [server(b!)] }), listener('web', port, 'web'), listener('more', extra, 'web'));
    await assert.rejects(harness.apply(changed), /EACCES/);
    assert.deepEqual(harness.dataplane.snapshot, snapshot);
    assert.equal(harness.dataplane.boundPort('default/more#0'), undefined);
    // No worker kept a socket on the new port: nothing answers there.
    await assert.rejects(get(extra, '/'), /ECONNREFUSED/);
    const results = await burst(harness.port('web'), 20);
    assert.deepEqual(results.map((r) => r.server), Array(20).fill('a'));
    assert.equal(b!.requests.length, 0);
    bothWorkersServed(harness.dataplane.requestsPerWorker());
    // Without the new listener the same change applies everywhere.
    await harness.apply(yaml(backend('web', { servers: [server(b!)] }), listener('web', port, 'web')));
    const later = await burst(harness.port('web'), 20);
    assert.deepEqual(later.map((r) => r.server), Array(20).fill('b'));
  });
}

test('a queued request is granted a slot released by the other worker (keep-alive clients, maxConnections 1)', async (t) => {
  const [slow] = await httpServers(t, ['slow'], { delayMs: 5 });
  const port = await freePort();
  const harness = await startProxy(
    t,
    [backend('web', { timeouts: { queue: '20s' }, servers: [server(slow!, { maxConnections: 1 })] }), listener('web', port, 'web')],
    { workers: WORKERS },
  );
  // Keep-alive clients stay on their thread; with several per thread, each thread both waits for
  // and releases the one slot many times.
  const load = startLoad(harness.port('web'), { workers: 10 });
  try {
    await load.more(300);
  } finally {
    await load.stop();
  }
  assert.deepEqual(load.failures(), []);
  assert.equal(slow!.maxInFlight, 1);
  bothWorkersServed(harness.dataplane.requestsPerWorker());
  assert.equal(queueLength(harness, 'default/web'), 0);
  await eventually(() => assert.equal(serverState(harness, 'slow').active, 0));
});

test('the data plane closes its worker threads: close() resolves and the port is free again', async () => {
  const servers = await Promise.all(['a'].map(async () => http.createServer((_req, res) => res.end('ok\n'))));
  const upstream = servers[0]!;
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (upstream.address() as { port: number }).port;
  const port = await freePort();
  const { startDataplane } = await import('../helpers/dataplane-harness.ts');
  const harness = await startDataplane(yaml(backend('web', { servers: [server({ name: 'a', port: upstreamPort })] }), listener('web', port, 'web')), { workers: WORKERS });
  assert.equal((await get(harness.port('web'), '/')).status, 200);
  await harness.close();
  await assert.rejects(get(port, '/'), /ECONNREFUSED/);
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});
