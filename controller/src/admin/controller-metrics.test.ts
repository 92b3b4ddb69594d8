import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControllerMetrics, type InformerKind } from './controller-metrics.ts';

/** The value of one series in exposition text, or null when absent. */
function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

test('two ControllerMetrics in one process keep separate registries', async () => {
  const one = new ControllerMetrics();
  const two = new ControllerMetrics();
  one.nack();
  one.nack();
  two.nack();
  assert.equal(sample(await one.metrics(), 'switchyard_controller_nacks_total'), 2);
  assert.equal(sample(await two.metrics(), 'switchyard_controller_nacks_total'), 1);
  assert.notEqual(one.registry, two.registry);
});

test('every series exists before anything is recorded, with zero values', async () => {
  const text = await new ControllerMetrics({ defaultMetrics: false }).metrics();
  for (const result of ['published', 'unchanged', 'error']) {
    assert.equal(sample(text, `switchyard_controller_reconciles_total{result="${result}"}`), 0);
  }
  assert.equal(sample(text, 'switchyard_controller_informer_restarts_total{kind="EndpointSlice"}'), 0);
  assert.equal(sample(text, 'switchyard_controller_leader'), 0);
  assert.equal(sample(text, 'switchyard_controller_snapshot_publishes_total'), 0);
  assert.equal(sample(text, 'switchyard_controller_translate_duration_seconds_count'), 0);
  assert.ok(!text.includes('process_cpu_user_seconds_total'), 'default metrics can be left out');
});

test('snapshot_info carries only the current version; repeating it is not a publish', async () => {
  const metrics = new ControllerMetrics({ defaultMetrics: false });
  metrics.published('v1');
  metrics.published('v2');
  metrics.published('v2');
  const text = await metrics.metrics();
  assert.equal(sample(text, 'switchyard_controller_snapshot_info{version="v2"}'), 1);
  assert.ok(!text.includes('version="v1"'));
  assert.equal(sample(text, 'switchyard_controller_snapshot_publishes_total'), 2);
});

test('label values stay bounded: an unknown kind is counted as other', async () => {
  const metrics = new ControllerMetrics({ defaultMetrics: false });
  metrics.informerRestart('Backend');
  metrics.informerRestart('Pod' as InformerKind);
  const text = await metrics.metrics();
  assert.equal(sample(text, 'switchyard_controller_informer_restarts_total{kind="Backend"}'), 1);
  assert.equal(sample(text, 'switchyard_controller_informer_restarts_total{kind="other"}'), 1);
  assert.ok(!text.includes('kind="Pod"'));
});
