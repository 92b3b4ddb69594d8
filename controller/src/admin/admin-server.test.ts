import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startAdminServer, type Readiness } from './admin-server.ts';
import { ControllerMetrics } from './controller-metrics.ts';

function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

test('/healthz answers while running; /readyz follows the readiness callback', async (t) => {
  let state: Readiness = { ready: false, reason: 'informers not synced' };
  let fail = false;
  const metrics = new ControllerMetrics({ defaultMetrics: false });
  const server = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    readiness: () => {
      if (fail) throw new Error('store unavailable');
      return state;
    },
  });
  t.after(() => server.close());
  const { host, port } = server.address();
  assert.equal(host, '127.0.0.1');
  assert.ok(port > 0);
  const base = `http://${host}:${port}`;

  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'ok');

  let ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { ready: false, reason: 'informers not synced' });

  state = { ready: false, reason: 'no snapshot yet' };
  ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { ready: false, reason: 'no snapshot yet' });

  state = { ready: true, reason: '' };
  ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200);
  assert.match(ready.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await ready.json(), { ready: true });

  fail = true;
  ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { ready: false, reason: 'readiness check failed: store unavailable' });

  assert.equal((await fetch(`${base}/nope`)).status, 404);
});

test('/metrics serves the registry in the Prometheus text format with what was recorded', async (t) => {
  const metrics = new ControllerMetrics();
  const server = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    readiness: () => ({ ready: true, reason: '' }),
  });
  t.after(() => server.close());
  const { host, port } = server.address();

  metrics.reconcile('published', 0.004);
  metrics.reconcile('unchanged', 0.002);
  metrics.reconcile('error', 0.5);
  metrics.published('3f2a9c');
  metrics.dataplanes(3);
  metrics.ack(12);
  metrics.ack(40);
  metrics.nack();
  metrics.informerRestart('Backend');
  metrics.leader(true);

  const res = await fetch(`http://${host}:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  assert.match(text, /^# HELP switchyard_controller_reconciles_total /m);
  assert.match(text, /^# TYPE switchyard_controller_reconciles_total counter$/m);
  assert.equal(sample(text, 'switchyard_controller_reconciles_total{result="published"}'), 1);
  assert.equal(sample(text, 'switchyard_controller_reconciles_total{result="unchanged"}'), 1);
  assert.equal(sample(text, 'switchyard_controller_reconciles_total{result="error"}'), 1);
  assert.match(text, /^# TYPE switchyard_controller_translate_duration_seconds histogram$/m);
  assert.equal(sample(text, 'switchyard_controller_translate_duration_seconds_count'), 3);
  assert.equal(sample(text, 'switchyard_controller_translate_duration_seconds_bucket{le="0.005"}'), 2);
  assert.equal(sample(text, 'switchyard_controller_snapshot_info{version="3f2a9c"}'), 1);
  assert.equal(sample(text, 'switchyard_controller_snapshot_publishes_total'), 1);
  assert.equal(sample(text, 'switchyard_controller_dataplanes_connected'), 3);
  assert.equal(sample(text, 'switchyard_controller_push_ack_latency_seconds_count'), 2);
  assert.ok(Math.abs((sample(text, 'switchyard_controller_push_ack_latency_seconds_sum') ?? 0) - 0.052) < 1e-9, 'milliseconds become seconds');
  assert.equal(sample(text, 'switchyard_controller_push_ack_latency_seconds_bucket{le="0.025"}'), 1);
  assert.equal(sample(text, 'switchyard_controller_nacks_total'), 1);
  assert.equal(sample(text, 'switchyard_controller_informer_restarts_total{kind="Backend"}'), 1);
  assert.equal(sample(text, 'switchyard_controller_leader'), 1);
  assert.match(text, /^process_cpu_user_seconds_total /m, 'default process metrics are there');

  metrics.leader(false);
  const again = await (await fetch(`http://${host}:${port}/metrics`)).text();
  assert.equal(sample(again, 'switchyard_controller_leader'), 0);
});

test('close() stops listening', async () => {
  const metrics = new ControllerMetrics({ defaultMetrics: false });
  const server = await startAdminServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, readiness: () => ({ ready: true, reason: '' }) });
  const { host, port } = server.address();
  assert.equal((await fetch(`http://${host}:${port}/healthz`)).status, 200);
  await server.close();
  await server.close();
  await assert.rejects(fetch(`http://${host}:${port}/healthz`));
});
