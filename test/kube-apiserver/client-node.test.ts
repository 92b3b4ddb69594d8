/**
 * Fidelity with @kubernetes/client-node 2.x: informers (list, then watch from the list's
 * resourceVersion) on a custom resource and on Leases see ADDED/MODIFIED/DELETED; after a 410 Gone
 * they relist and carry on; status subresource optimistic concurrency; merge and JSON patches and
 * the errors for wrong patch content types; Lease MicroTime precision.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { eventually } from '../helpers/eventually.ts';
import type { KubeApiServer } from './index.ts';
import { startKubeApiServer } from './index.ts';
import { call, installRepoCrds } from './testing.ts';

const group = 'switchyard.dev';
const version = 'v1alpha1';
const plural = 'backends';

function clientsFor(api: KubeApiServer): { kc: k8s.KubeConfig; co: k8s.CustomObjectsApi; leases: k8s.CoordinationV1Api } {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(api.kubeconfig());
  return { kc, co: kc.makeApiClient(k8s.CustomObjectsApi), leases: kc.makeApiClient(k8s.CoordinationV1Api) };
}

const backend = (name: string, namespace: string, port = 9001): object => ({
  apiVersion: `${group}/${version}`,
  kind: 'Backend',
  metadata: { name, namespace },
  spec: { servers: [{ name: 's1', address: '127.0.0.1', port }] },
});

/** Records informer callbacks as `verb name@resourceVersion`. */
function record<T extends k8s.KubernetesObject>(informer: k8s.Informer<T>): string[] {
  const seen: string[] = [];
  for (const verb of [k8s.ADD, k8s.UPDATE, k8s.DELETE] as const) informer.on(verb, (obj: T) => seen.push(`${verb} ${obj.metadata?.name}`));
  return seen;
}

const statusCode = (err: unknown): number | undefined => (err instanceof k8s.ApiException ? err.code : undefined);

async function rejects(promise: Promise<unknown>, code: number): Promise<k8s.ApiException<unknown>> {
  try {
    await promise;
  } catch (err) {
    assert.equal(statusCode(err), code, String(err));
    return err as k8s.ApiException<unknown>;
  }
  assert.fail(`expected HTTP ${code}`);
}

test('client-node: informer on a custom resource sees add, update, delete; patches and status', async (t) => {
  const api = await startKubeApiServer();
  t.after(() => api.close());
  await installRepoCrds(api);
  const { kc, co } = clientsFor(api);
  const namespace = 'default';

  const informer = k8s.makeInformer(kc, `/apis/${group}/${version}/namespaces/${namespace}/${plural}`, () =>
    co.listNamespacedCustomObject({ group, version, namespace, plural }),
  );
  const seen = record(informer);
  await informer.start();
  t.after(() => informer.stop());

  const created = await co.createNamespacedCustomObject({ group, version, namespace, plural, body: backend('web', namespace) });
  assert.equal(created.metadata.generation, 1);
  assert.equal(created.spec.balance, 'roundrobin', 'schema default applied');
  await eventually(() => assert.deepEqual(seen, ['add web']));

  // Merge patch (the content type must be set: client-node defaults to JSON patch).
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const patched = await co.patchNamespacedCustomObject({ group, version, namespace, plural, name: 'web', body: { spec: { retries: 4 } } }, merge);
  assert.equal(patched.spec.retries, 4);
  assert.equal(patched.metadata.generation, 2);
  await eventually(() => assert.deepEqual(seen, ['add web', 'update web']));

  // JSON patch is the default content type; an object body sent as one is a 400, SMP on a CR a 415.
  const jsonPatched = await co.patchNamespacedCustomObject({ group, version, namespace, plural, name: 'web', body: [{ op: 'replace', path: '/spec/servers/0/port', value: 9100 }] });
  assert.equal(jsonPatched.spec.servers[0].port, 9100);
  assert.equal(jsonPatched.metadata.generation, 3);
  await rejects(co.patchNamespacedCustomObject({ group, version, namespace, plural, name: 'web', body: { spec: { retries: 5 } } }), 400);
  await rejects(co.patchNamespacedCustomObject({ group, version, namespace, plural, name: 'web', body: [{ op: 'test', path: '/spec/retries', value: 99 }] }), 422);
  const smp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
  await rejects(co.patchNamespacedCustomObject({ group, version, namespace, plural, name: 'web', body: { spec: { retries: 5 } } }, smp), 415);

  // Status subresource: replace with the current resourceVersion works and keeps generation; a stale one is 409.
  const current = await co.getNamespacedCustomObject({ group, version, namespace, plural, name: 'web' });
  const condition = { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', lastTransitionTime: new Date().toISOString(), observedGeneration: 3 };
  const withStatus = await co.replaceNamespacedCustomObjectStatus({
    group, version, namespace, plural, name: 'web',
    body: { ...current, spec: { ...current.spec, retries: 42 }, status: { conditions: [condition], unknownField: 1 } },
  });
  assert.deepEqual(withStatus.status.conditions, [condition]);
  assert.equal(withStatus.status.unknownField, undefined, 'status fields outside the schema are pruned');
  assert.equal(withStatus.spec.retries, current.spec.retries, 'a status write ignores spec');
  assert.equal(withStatus.metadata.generation, 3, 'a status write does not bump generation');
  assert.notEqual(withStatus.metadata.resourceVersion, current.metadata.resourceVersion);
  await rejects(co.replaceNamespacedCustomObjectStatus({ group, version, namespace, plural, name: 'web', body: { ...current, status: { conditions: [] } } }), 409);
  // …and a main-resource write ignores status.
  const mainWrite = await co.replaceNamespacedCustomObject({ group, version, namespace, plural, name: 'web', body: { ...withStatus, status: { conditions: [] } } });
  assert.deepEqual(mainWrite.status.conditions, [condition]);
  assert.equal(mainWrite.metadata.resourceVersion, withStatus.metadata.resourceVersion, 'nothing changed: no new resourceVersion');
  // A PUT without resourceVersion is refused for custom resources (422).
  const { resourceVersion: _rv, ...metadataWithoutRv } = withStatus.metadata;
  await rejects(co.replaceNamespacedCustomObject({ group, version, namespace, plural, name: 'web', body: { ...withStatus, metadata: metadataWithoutRv } }), 422);
  await eventually(() => assert.deepEqual(seen, ['add web', 'update web', 'update web', 'update web']));

  await co.deleteNamespacedCustomObject({ group, version, namespace, plural, name: 'web' });
  await eventually(() => assert.deepEqual(seen.at(-1), 'delete web'));
  assert.deepEqual(informer.list(), []);
});

test('client-node: a Lease informer; MicroTime precision and optimistic concurrency', async (t) => {
  const api = await startKubeApiServer();
  t.after(() => api.close());
  const { kc, leases } = clientsFor(api);
  const namespace = 'kube-system';
  const informer = k8s.makeInformer(kc, `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, () => leases.listNamespacedLease({ namespace }));
  const seen = record(informer);
  await informer.start();
  t.after(() => informer.stop());

  // A plain Date goes out with milliseconds; the API server wants microseconds (400).
  const spec = { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 };
  await rejects(leases.createNamespacedLease({ namespace, body: { metadata: { name: 'leader' }, spec: { ...spec, renewTime: new Date() } } }), 400);
  const now = new k8s.V1MicroTime();
  const lease = await leases.createNamespacedLease({ namespace, body: { metadata: { name: 'leader' }, spec: { ...spec, acquireTime: now, renewTime: now } } });
  assert.match(String(lease.spec?.renewTime), /\.\d{6}Z$/);
  await rejects(leases.createNamespacedLease({ namespace, body: { metadata: { name: 'leader' }, spec } }), 409);

  // Two candidates renew from the same read: the second PUT loses with 409.
  const renewed = await leases.replaceNamespacedLease({ namespace, name: 'leader', body: { ...lease, spec: { ...lease.spec, renewTime: new k8s.V1MicroTime() } } });
  const conflict = await rejects(leases.replaceNamespacedLease({ namespace, name: 'leader', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } }), 409);
  assert.equal(JSON.parse(String(conflict.body)).reason, 'Conflict');
  assert.equal(renewed.spec?.holderIdentity, 'a');
  await leases.deleteNamespacedLease({ namespace, name: 'leader' });
  await eventually(() => assert.deepEqual(seen, ['add leader', 'update leader', 'delete leader']));
});

test('client-node: after 410 Gone the informer relists and keeps going', async (t) => {
  // Two events of history per type: writes the informer does not watch push its version out.
  const api = await startKubeApiServer({ historyLimit: 2 });
  t.after(() => api.close());
  await installRepoCrds(api);
  const { kc, co } = clientsFor(api);
  for (const ns of ['a', 'b']) assert.equal((await call(api, 'POST', '/api/v1/namespaces', { metadata: { name: ns } })).status, 201);
  const path = `/apis/${group}/${version}/namespaces/a/${plural}`;
  const informer = k8s.makeInformer(kc, path, () => co.listNamespacedCustomObject({ group, version, namespace: 'a', plural }));
  const seen = record(informer);
  await informer.start();
  t.after(() => informer.stop());
  const a1 = await co.createNamespacedCustomObject({ group, version, namespace: 'a', plural, body: backend('a1', 'a') });
  await eventually(() => assert.deepEqual(seen, ['add a1']));
  const lastSeen = a1.metadata.resourceVersion;

  for (const name of ['b1', 'b2', 'b3']) await co.createNamespacedCustomObject({ group, version, namespace: 'b', plural, body: backend(name, 'b') });
  const lists = (): number => api.requests().filter((r) => r.method === 'GET' && r.url === path).length;
  assert.equal(lists(), 1);
  api.closeWatches();

  // The re-watch from the informer's last version gets an ERROR 410 event, then a relist.
  await eventually(() => assert.equal(lists(), 2));
  const rewatch = api.requests().find((r) => r.url.startsWith(`${path}?`) && r.url.includes(`resourceVersion=${lastSeen}`) && r.url.includes('watch=true'));
  assert.ok(rewatch, 'the informer re-watched from its last resourceVersion');
  await co.createNamespacedCustomObject({ group, version, namespace: 'a', plural, body: backend('a2', 'a') });
  await co.deleteNamespacedCustomObject({ group, version, namespace: 'a', plural, name: 'a1' });
  await eventually(() => assert.deepEqual(seen, ['add a1', 'add a2', 'delete a1']), { timeoutMs: 15_000 });
  assert.deepEqual(informer.list().map((o) => o.metadata?.name), ['a2']);
});
