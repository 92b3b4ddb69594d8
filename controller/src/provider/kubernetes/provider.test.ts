import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesProvider } from './provider.ts';
import type { World } from './store.ts';
import { FakeCluster } from './test-support.ts';
import { ManualClock } from '../../testing/manual-clock.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const P = {
  Frontend: '/apis/switchyard.dev/v1alpha1/frontends',
  Backend: '/apis/switchyard.dev/v1alpha1/backends',
  HealthPolicy: '/apis/switchyard.dev/v1alpha1/healthpolicies',
  Service: '/api/v1/services',
  EndpointSlice: '/apis/discovery.k8s.io/v1/endpointslices',
  Secret: '/api/v1/namespaces/switchyard-system/secrets',
};

const b64 = (s: string) => Buffer.from(s).toString('base64');
const backend = (name: string, spec: unknown = { serviceRef: { name: 'web', port: 80 } }, extra: object = {}) => ({
  apiVersion: 'switchyard.dev/v1alpha1',
  kind: 'Backend',
  metadata: { namespace: 'shop', name, generation: 1, uid: `uid-${name}` },
  spec,
  ...extra,
});
const service = { metadata: { namespace: 'shop', name: 'web' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
const slice = (name: string, addresses: string[]) => ({
  metadata: { namespace: 'shop', name, labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080 }],
  endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
});
const secret = (token: string, name = 'channel-token') => ({ metadata: { namespace: 'switchyard-system', name }, data: { token: b64(token) } });

function setup(withSecret = true) {
  const cluster = new FakeCluster();
  const clock = new ManualClock();
  const provider = new KubernetesProvider({
    kubeConfig: new KubeConfig(),
    tokenSecret: withSecret ? { namespace: 'switchyard-system', name: 'channel-token' } : undefined,
    holdoffMs: 50,
    maxHoldoffMs: 500,
    backoff: { initialMs: 100, jitter: 0 },
    clock,
    informerFactory: cluster.factory,
    lister: cluster.lister,
  });
  const worlds: World[] = [];
  provider.onChange((w) => worlds.push(w));
  return { cluster, clock, provider, worlds };
}

test('no world before every informer (the Secret too) has listed; the first world comes at once after', async () => {
  const { cluster, clock, provider, worlds } = setup();
  cluster.apply(P.Backend, backend('web'));
  cluster.apply(P.Service, service);
  cluster.apply(P.EndpointSlice, slice('web-1', ['10.0.0.1']));
  cluster.failingLists.set(P.Secret, new Error('secrets is forbidden'));
  let resolved = false;
  void provider.whenSynced().then(() => (resolved = true));
  provider.start();
  await settle();
  clock.advanceSync(60); // past the holdoff, short of the Secret informer's retry (100 ms)
  await settle();
  assert.equal(provider.synced, false);
  assert.equal(provider.world(), null);
  assert.equal(worlds.length, 0);
  assert.equal(resolved, false);

  cluster.failingLists.delete(P.Secret);
  clock.advanceSync(40);
  await settle();
  assert.equal(provider.synced, true);
  assert.equal(resolved, true);
  clock.advanceSync(0);
  assert.equal(worlds.length, 1);
  const w = worlds[0]!;
  assert.equal(provider.world(), w);
  assert.deepEqual(
    w.objects.map((o) => (o.object as { metadata: { name: string } }).metadata.name),
    ['web'],
  );
  assert.deepEqual(w.endpoints.get('shop/web'), [{ address: '10.0.0.1', port: 8080, name: 'http', servicePort: 80 }]);
  assert.deepEqual(Object.fromEntries(provider.restarts()), { Secret: 1 });
  await provider.stop();
});

test('an empty cluster still yields a first world', async () => {
  const { clock, provider, worlds } = setup(false);
  provider.start();
  await settle();
  clock.advanceSync(0);
  assert.equal(worlds.length, 1);
  assert.deepEqual(worlds[0]!.objects, []);
  assert.equal(provider.token(), null);
  await provider.stop();
});

test('a burst of endpoint changes is one world; status-only writes are none', async () => {
  const { cluster, clock, provider, worlds } = setup(false);
  const stored = cluster.apply(P.Backend, backend('web'));
  cluster.apply(P.Service, service);
  provider.start();
  await settle();
  clock.advanceSync(0);
  assert.equal(worlds.length, 1);

  cluster.apply(P.Backend, { ...stored, status: { conditions: [{ type: 'Accepted', status: 'True' }] } } as typeof stored);
  clock.advanceSync(1000);
  assert.equal(worlds.length, 1, 'status-only write');

  for (let i = 1; i <= 5; i++) {
    cluster.apply(
      P.EndpointSlice,
      slice(
        'web-1',
        Array.from({ length: i }, (_, j) => `10.0.0.${j + 1}`),
      ),
    );
    clock.advanceSync(10);
  }
  assert.equal(worlds.length, 1, 'still inside the holdoff');
  clock.advanceSync(50);
  assert.equal(worlds.length, 2);
  const w = worlds[1]!;
  assert.equal(w.changes.objects, false);
  assert.deepEqual([...w.changes.services], ['shop/web']);
  assert.equal(w.objects, worlds[0]!.objects, 'objects untouched: same array (the incremental translator keys on this)');
  assert.equal(w.endpoints.get('shop/web')!.length, 5);
  await provider.stop();
});

test('the token Secret: decoded, followed through changes and deletion', async () => {
  const { cluster, provider } = setup();
  cluster.apply(P.Secret, secret('first\n'));
  cluster.apply(P.Secret, secret('not-mine', 'other'));
  const seen: (string | null)[] = [];
  provider.onTokenChange((t) => seen.push(t));
  provider.start();
  await settle();
  assert.equal(provider.token(), 'first');
  cluster.apply(P.Secret, secret('second'));
  assert.equal(provider.token(), 'second');
  cluster.remove(P.Secret, secret('second'));
  assert.equal(provider.token(), null);
  assert.deepEqual(seen, ['first', 'second', null]);
  assert.equal(cluster.informer(P.Secret).source.fieldSelector, 'metadata.name=channel-token');
  await provider.stop();
});

test('informer restarts reach onRestart with the kind, and the world stays right across them', async () => {
  const { cluster, clock, provider, worlds } = setup(false);
  provider.start();
  await settle();
  clock.advanceSync(0);
  const restarts: string[] = [];
  provider.onRestart((kind, err) => restarts.push(`${kind}: ${err.message}`));
  cluster.breakWatches(P.EndpointSlice);
  assert.deepEqual(restarts, ['EndpointSlice: read ECONNRESET']);
  clock.advanceSync(100);
  await settle();
  cluster.apply(P.Service, service);
  cluster.apply(P.EndpointSlice, slice('web-1', ['10.0.0.7']));
  clock.advanceSync(50);
  assert.deepEqual(worlds.at(-1)!.endpoints.get('shop/web')!.map((e) => e.address), ['10.0.0.7']);
  assert.equal(provider.restarts().get('EndpointSlice'), 1);
  await provider.stop();
});

test('a throwing listener does not stop the others; nothing is delivered after stop()', async () => {
  const { cluster, clock, provider, worlds } = setup(false);
  provider.onChange(() => {
    throw new Error('bad listener');
  });
  const late: World[] = [];
  provider.onChange((w) => late.push(w));
  provider.start();
  await settle();
  clock.advanceSync(0);
  assert.equal(worlds.length, 1);
  assert.equal(late.length, 1);
  cluster.apply(P.Backend, backend('x'));
  await provider.stop();
  clock.advanceSync(10_000);
  assert.equal(late.length, 1);
  assert.throws(() => provider.start(), /stopped/);
});
