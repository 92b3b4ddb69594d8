import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from './store.ts';

const backend = (over: { rv?: string; generation?: number; spec?: unknown; status?: unknown; managedFields?: unknown; uid?: string; labels?: Record<string, string> } = {}) => ({
  apiVersion: 'switchyard.dev/v1alpha1',
  kind: 'Backend',
  metadata: {
    namespace: 'shop',
    name: 'web',
    uid: over.uid ?? 'u1',
    creationTimestamp: '2026-11-21T10:00:00Z',
    resourceVersion: over.rv ?? '1',
    generation: over.generation ?? 1,
    managedFields: over.managedFields ?? [],
    labels: over.labels,
  },
  spec: over.spec ?? { serviceRef: { name: 'web', port: 80 } },
  status: over.status,
});

const svc = (over: { rv?: string; ports?: unknown[]; clusterIP?: string; annotations?: Record<string, string> } = {}) => ({
  metadata: { namespace: 'shop', name: 'web', resourceVersion: over.rv ?? '1', annotations: over.annotations },
  spec: { clusterIP: over.clusterIP ?? '10.96.0.1', ports: over.ports ?? [{ name: 'http', port: 80, targetPort: 8080 }] },
});

const slice = (over: { name?: string; rv?: string; service?: string; endpoints?: unknown[]; ports?: unknown[] } = {}) => ({
  metadata: { namespace: 'shop', name: over.name ?? 'web-abc', resourceVersion: over.rv ?? '1', labels: { 'kubernetes.io/service-name': over.service ?? 'web' } },
  addressType: 'IPv4',
  ports: over.ports ?? [{ name: 'http', port: 8080 }],
  endpoints: over.endpoints ?? [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1' }],
});

test('Switchyard kinds: status writes, resourceVersion and managedFields churn and unused labels are not changes', () => {
  const s = new Store();
  assert.equal(s.upsert('Backend', backend()), true);
  assert.equal(s.upsert('Backend', backend()), false, 'resync: same object');
  assert.equal(s.upsert('Backend', backend({ rv: '2', status: { conditions: [{ type: 'Accepted', status: 'True' }] } })), false, 'status-only write');
  assert.equal(s.upsert('Backend', backend({ rv: '3', managedFields: [{ manager: 'kubectl' }] })), false, 'managedFields churn');
  assert.equal(s.upsert('Backend', backend({ rv: '4', labels: { team: 'a' } })), false, 'labels the translator does not read');
  assert.equal(s.upsert('Backend', backend({ rv: '5', generation: 2, spec: { serviceRef: { name: 'web', port: 81 } } })), true, 'spec change');
  assert.equal(s.upsert('Backend', backend({ rv: '6', generation: 3, spec: { serviceRef: { name: 'web', port: 81 } } })), true, 'generation alone (e.g. deletion started) matters: status must follow it');
  assert.equal(s.upsert('Backend', backend({ rv: '7', generation: 3, uid: 'u2', spec: { serviceRef: { name: 'web', port: 81 } } })), true, 'recreated');
  assert.equal(s.delete('Backend', backend()), true);
  assert.equal(s.delete('Backend', backend()), false, 'already gone');
});

test('the translator sees apiVersion, kind, identity, generation, creation time and spec only, frozen', () => {
  const s = new Store();
  const { apiVersion: _a, kind: _k, ...listItem } = backend({ status: { x: 1 } }); // list items may lack apiVersion/kind
  s.upsert('Backend', listItem);
  const world = s.build()!;
  assert.deepEqual(world.objects, [
    {
      source: null,
      object: {
        apiVersion: 'switchyard.dev/v1alpha1',
        kind: 'Backend',
        metadata: { namespace: 'shop', name: 'web', uid: 'u1', generation: 1, creationTimestamp: '2026-11-21T10:00:00Z' },
        spec: { serviceRef: { name: 'web', port: 80 } },
      },
    },
  ]);
  assert.ok(Object.isFrozen(world.objects[0]!.object));
  assert.ok(Object.isFrozen((world.objects[0]!.object as { spec: object }).spec));
});

test('Services: only TCP ports matter to endpoint resolution', () => {
  const s = new Store();
  assert.equal(s.upsert('Service', svc()), true);
  assert.equal(s.upsert('Service', svc({ rv: '2', clusterIP: '10.96.0.2', annotations: { a: 'b' } })), false);
  assert.equal(s.upsert('Service', svc({ rv: '3', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] })), false);
  assert.equal(s.upsert('Service', svc({ rv: '4', ports: [{ name: 'http', port: 8000 }] })), true);
  assert.equal(s.delete('Service', svc()), true);
});

test('EndpointSlices: endpoint readiness, addresses, ports and the Service label matter; node, zone and hints do not', () => {
  const s = new Store();
  assert.equal(s.upsert('EndpointSlice', slice()), true);
  assert.equal(s.upsert('EndpointSlice', slice({ rv: '2', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n2', zone: 'z' }] })), false);
  assert.equal(s.upsert('EndpointSlice', slice({ rv: '3', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: false } }] })), true, 'went unready');
  assert.equal(s.upsert('EndpointSlice', slice({ rv: '4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: false, serving: true } }] })), false);
  assert.equal(s.upsert('EndpointSlice', slice({ rv: '5', ports: [{ name: 'http', port: 9090 }] })), true);
  assert.equal(s.upsert('EndpointSlice', slice({ rv: '6', service: 'api', ports: [{ name: 'http', port: 9090 }] })), true, 'moved to another Service');
  assert.equal(s.upsert('EndpointSlice', { metadata: { namespace: 'shop', name: 'web-abc', labels: {} }, addressType: 'IPv4' }), true, 'label removed: as good as deleted');
  assert.equal(s.upsert('EndpointSlice', { metadata: { namespace: 'shop', name: 'web-abc', labels: {} }, addressType: 'IPv4' }), false);
  assert.equal(s.delete('EndpointSlice', slice()), false);
});

test('build(): endpoints per existing Service, only dirty Services re-resolved, unchanged parts kept by identity', () => {
  const s = new Store();
  s.upsert('Backend', backend());
  s.upsert('Service', svc());
  s.upsert('Service', { metadata: { namespace: 'shop', name: 'api' }, spec: { ports: [{ name: 'http', port: 80 }] } });
  s.upsert('EndpointSlice', slice());
  s.upsert('EndpointSlice', slice({ name: 'orphan-1', service: 'ghost' })); // no such Service: no entry
  const w1 = s.build()!;
  assert.equal(w1.revision, 1);
  assert.deepEqual([...w1.endpoints.keys()], ['shop/api', 'shop/web']);
  assert.deepEqual(w1.endpoints.get('shop/web'), [{ address: '10.0.0.1', port: 8080, name: 'http', servicePort: 80 }]);
  assert.deepEqual(w1.endpoints.get('shop/api'), []);
  assert.equal(w1.changes.objects, true);
  assert.equal(s.build(), null, 'nothing pending');

  // A slice change that leaves the ready endpoints as they were (10.0.0.1 now also in a second
  // slice, as during a slice migration): no world.
  assert.equal(s.upsert('EndpointSlice', slice({ name: 'web-mig', endpoints: [{ addresses: ['10.0.0.1'] }] })), true);
  assert.equal(s.dirty, true);
  assert.equal(s.build(), null);
  s.delete('EndpointSlice', slice({ name: 'web-mig' }));
  assert.equal(s.build(), null);

  // Scale up: a new world where only shop/web changed.
  s.upsert('EndpointSlice', slice({ name: 'web-def', endpoints: [{ addresses: ['10.0.0.2'] }] }));
  const w2 = s.build()!;
  assert.equal(w2.revision, 2);
  assert.equal(w2.changes.objects, false);
  assert.deepEqual([...w2.changes.services], ['shop/web']);
  assert.equal(w2.objects, w1.objects, 'objects array reused');
  assert.equal(w2.endpoints.get('shop/api'), w1.endpoints.get('shop/api'), 'untouched Service keeps its array');
  assert.deepEqual(
    w2.endpoints.get('shop/web')!.map((e) => e.address),
    ['10.0.0.1', '10.0.0.2'],
  );
  assert.equal(w1.endpoints.get('shop/web')!.length, 1, 'the previous world is not mutated');

  // The Service goes: its key goes.
  s.delete('Service', svc());
  const w3 = s.build()!;
  assert.equal(w3.endpoints.has('shop/web'), false);
  assert.deepEqual([...w3.changes.services], ['shop/web']);

  // An object change: objects rebuilt, endpoints map reused.
  s.upsert('Backend', backend({ generation: 2, spec: { servers: [] } }));
  const w4 = s.build()!;
  assert.equal(w4.changes.objects, true);
  assert.equal(w4.endpoints, w3.endpoints);
  assert.notEqual(w4.objects, w3.objects);
});

test('the first build() always yields a world, even an empty one', () => {
  const s = new Store();
  const w = s.build()!;
  assert.equal(w.revision, 1);
  assert.deepEqual(w.objects, []);
  assert.equal(w.endpoints.size, 0);
});
