import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { RestartingInformer } from './informer.ts';
import type { InformerHandlers } from './informer.ts';
import { FakeCluster } from './test-support.ts';
import { ManualClock } from '../../testing/manual-clock.ts';

const PATH = '/api/v1/services';
/** Lets pending promise callbacks run (no clock involved). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(opts: { initialMs?: number; healthyAfterMs?: number } = {}) {
  const cluster = new FakeCluster();
  const clock = new ManualClock();
  const seen: string[] = [];
  const restarts: { err: string; delayMs: number }[] = [];
  let synced = 0;
  const handlers: InformerHandlers = {
    upsert: (o: KubernetesObject) => seen.push(`upsert ${o.metadata?.name}`),
    delete: (o: KubernetesObject) => seen.push(`delete ${o.metadata?.name}`),
    synced: () => synced++,
    restarting: (err, delayMs) => restarts.push({ err: err.message, delayMs }),
  };
  const informer = new RestartingInformer({ kind: 'Service', path: PATH }, handlers, {
    factory: cluster.factory,
    list: cluster.lister,
    clock,
    backoff: { initialMs: opts.initialMs ?? 100, maxMs: 1000, jitter: 0 },
    healthyAfterMs: opts.healthyAfterMs ?? 5000,
  });
  return { cluster, clock, informer, seen, restarts, synced: () => synced };
}

const svc = (name: string) => ({ metadata: { namespace: 'shop', name }, spec: {} });

test('synced once the first list is applied; events flow to the handlers', async () => {
  const { cluster, informer, seen, synced, restarts } = setup();
  cluster.apply(PATH, svc('a'));
  assert.equal(informer.synced, false);
  informer.start();
  await settle();
  assert.equal(informer.synced, true);
  assert.equal(synced(), 1);
  cluster.apply(PATH, svc('b'));
  cluster.remove(PATH, svc('a'));
  assert.deepEqual(seen, ['upsert a', 'upsert b', 'delete a']);
  assert.deepEqual(restarts, []);
});

test('a failed list is retried with backoff; sync waits for a list that succeeds', async () => {
  const { cluster, clock, informer, restarts } = setup();
  cluster.failingLists.set(PATH, new Error('the server could not find the requested resource'));
  informer.start();
  await settle();
  assert.equal(informer.synced, false);
  assert.deepEqual(restarts, [{ err: 'the server could not find the requested resource', delayMs: 100 }]);
  clock.advanceSync(99);
  await settle();
  assert.equal(cluster.lists, 1, 'not before the delay');
  clock.advanceSync(1);
  await settle();
  assert.equal(cluster.lists, 2);
  assert.deepEqual(
    restarts.map((r) => r.delayMs),
    [100, 200],
    'the second failure waits twice as long',
  );
  cluster.failingLists.delete(PATH);
  clock.advanceSync(200);
  await settle();
  assert.equal(informer.synced, true);
  assert.equal(informer.restarts, 2);
});

test('a watch that dies after sync is restarted, resuming from the cache (no relist); stays synced', async () => {
  const { cluster, clock, informer, restarts, seen } = setup();
  cluster.apply(PATH, svc('a'));
  informer.start();
  await settle();
  const fake = cluster.informer(PATH);
  cluster.breakWatches(PATH);
  assert.deepEqual(restarts, [{ err: 'read ECONNRESET', delayMs: 100 }]);
  cluster.apply(PATH, svc('missed')); // while down: not delivered (the real watch would replay it from its resourceVersion)
  clock.advanceSync(100);
  await settle();
  assert.equal(fake.watching, true);
  assert.equal(fake.starts, 2);
  assert.ok(fake.stops >= 1, 'stopped before starting again (no leaked watch)');
  assert.equal(cluster.lists, 1, 'resumed, not relisted');
  assert.equal(informer.synced, true);
  cluster.apply(PATH, svc('after'));
  assert.deepEqual(seen, ['upsert a', 'upsert after']);
});

test('410 Gone is handled inside client-node (relist, deletes for what vanished): no restart', async () => {
  const { cluster, informer, restarts, seen } = setup();
  cluster.apply(PATH, svc('a'));
  cluster.apply(PATH, svc('b'));
  informer.start();
  await settle();
  const fake = cluster.informer(PATH);
  fake.watching = false; // missed events, history compacted
  cluster.remove(PATH, svc('a'));
  cluster.apply(PATH, svc('c'));
  await fake.gone();
  assert.deepEqual(seen, ['upsert a', 'upsert b', 'delete a', 'upsert c']);
  assert.deepEqual(restarts, []);
});

test('the backoff resets once a restart has stayed up for healthyAfterMs', async () => {
  const { cluster, clock, informer, restarts } = setup({ healthyAfterMs: 5000 });
  informer.start();
  await settle();
  cluster.breakWatches(PATH);
  clock.advanceSync(100);
  await settle();
  cluster.breakWatches(PATH); // fails again quickly: longer wait
  clock.advanceSync(200);
  await settle();
  clock.advanceSync(5000); // up long enough
  await settle();
  cluster.breakWatches(PATH);
  assert.deepEqual(
    restarts.map((r) => r.delayMs),
    [100, 200, 100],
  );
});

test('several errors before the retry schedule one restart; start() rejecting counts as a failure', async () => {
  const { cluster, clock, informer, restarts } = setup();
  cluster.startRejects = new Error('exec plugin failed');
  informer.start();
  await settle();
  assert.deepEqual(restarts, [{ err: 'exec plugin failed', delayMs: 100 }]);
  cluster.informer(PATH).emit('error', new Error('again'));
  assert.equal(restarts.length, 1);
  cluster.startRejects = null;
  clock.advanceSync(100);
  await settle();
  assert.equal(informer.synced, true);
});

test('errors that are not Error objects are reported as Errors', async () => {
  const { cluster, informer, restarts } = setup();
  informer.start();
  await settle();
  cluster.informer(PATH).emit('error', { message: 'boom', statusCode: 500 });
  assert.deepEqual(restarts, [{ err: 'boom', delayMs: 100 }]);
});

test('stop() cancels a pending restart and nothing runs afterwards', async () => {
  const { cluster, clock, informer, restarts } = setup();
  informer.start();
  await settle();
  cluster.breakWatches(PATH);
  await informer.stop();
  assert.equal(clock.pending, 0);
  clock.advanceSync(10_000);
  await settle();
  assert.equal(cluster.informer(PATH).starts, 1);
  cluster.informer(PATH).emit('error', new Error('late abort'));
  assert.equal(restarts.length, 1, 'errors after stop (the aborted watch) are not restarts');
});
