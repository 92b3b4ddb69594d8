/**
 * API semantics at the wire that the client tests do not reach on their own: Status errors,
 * resourceVersion and no-op writes, generation and the status subresource, finalizers, namespace
 * lifecycle, CRD establishment/conflicts/cleanup, schema pruning and fieldValidation, selectors,
 * strategic merge patch on built-ins, Secrets, Events, Table output, discovery and OpenAPI.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startKubeApiServer } from './index.ts';
import type { KubeApiServer } from './index.ts';
import { call, installRepoCrds, SWITCHYARD } from './testing.ts';

const MERGE = { 'Content-Type': 'application/merge-patch+json' };
const JSONP = { 'Content-Type': 'application/json-patch+json' };
const SMP = { 'Content-Type': 'application/strategic-merge-patch+json' };
const BACKENDS = `${SWITCHYARD}/namespaces/default/backends`;
const backend = (name: string, extra: object = {}): object => ({
  apiVersion: 'switchyard.dev/v1alpha1',
  kind: 'Backend',
  metadata: { name, ...extra },
  spec: { servers: [{ name: 's1', address: '127.0.0.1', port: 9001 }] },
});

async function withApi(t: { after(fn: () => unknown): void }, crds = true): Promise<KubeApiServer> {
  const api = await startKubeApiServer();
  t.after(() => api.close());
  if (crds) await installRepoCrds(api);
  return api;
}

test('Status errors, resourceVersions, no-op writes, list shapes', async (t) => {
  const api = await withApi(t);
  const missing = await call(api, 'GET', `${BACKENDS}/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'backends.switchyard.dev "nope" not found', reason: 'NotFound',
    details: { name: 'nope', group: 'switchyard.dev', kind: 'backends' }, code: 404,
  });
  const unknownPath = await call(api, 'GET', '/apis/switchyard.dev/v1alpha1/widgets');
  assert.equal(unknownPath.status, 404);
  assert.equal(unknownPath.body.message, 'the server could not find the requested resource');

  const created = await call(api, 'POST', BACKENDS, backend('web'));
  assert.equal(created.status, 201);
  const again = await call(api, 'POST', BACKENDS, backend('web'));
  assert.equal(again.status, 409);
  assert.equal(again.body.reason, 'AlreadyExists');
  assert.equal((await call(api, 'POST', BACKENDS, { ...backend('x'), metadata: { name: 'x', resourceVersion: '5' } })).status, 500);

  // One cluster-wide counter: every write takes the next revision; a LIST reports the current one.
  const rv0 = Number(created.body.metadata.resourceVersion);
  const secret = await call(api, 'POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 's' }, stringData: { a: 'b' } });
  assert.equal(Number(secret.body.metadata.resourceVersion), rv0 + 1);
  const list = (await call(api, 'GET', BACKENDS)).body;
  assert.equal(list.metadata.resourceVersion, String(rv0 + 1));
  assert.equal(list.kind, 'BackendList');
  assert.equal(list.items[0].kind, 'Backend', 'custom resource list items keep kind');
  const secrets = (await call(api, 'GET', '/api/v1/namespaces/default/secrets')).body;
  assert.equal(secrets.items[0].kind, undefined, 'built-in list items have no kind (kubernetes#3030)');
  assert.equal(secrets.items[0].apiVersion, undefined);

  // Writing the same object again is a no-op: same resourceVersion, no event.
  const same = await call(api, 'PUT', `${BACKENDS}/web`, created.body);
  assert.equal(same.status, 200);
  assert.equal(same.body.metadata.resourceVersion, created.body.metadata.resourceVersion);
  assert.equal(api.resourceVersion(), String(rv0 + 1));
  // A stale resourceVersion is a 409 Conflict; a merge patch that sets one is a precondition.
  const bumped = await call(api, 'PATCH', `${BACKENDS}/web`, { spec: { retries: 1 } }, MERGE);
  assert.equal(bumped.body.metadata.generation, 2);
  const stale = await call(api, 'PUT', `${BACKENDS}/web`, created.body);
  assert.equal(stale.status, 409);
  assert.equal(stale.body.reason, 'Conflict');
  assert.match(stale.body.message, /^Operation cannot be fulfilled on backends\.switchyard\.dev "web": the object has been modified/);
  assert.equal((await call(api, 'PATCH', `${BACKENDS}/web`, { metadata: { resourceVersion: created.body.metadata.resourceVersion }, spec: { retries: 3 } }, MERGE)).status, 409);
  // Metadata-only changes do not bump generation.
  const labelled = await call(api, 'PATCH', `${BACKENDS}/web`, { metadata: { labels: { a: 'b' } } }, MERGE);
  assert.equal(labelled.body.metadata.generation, 2);
  // Server-owned metadata cannot be overwritten.
  const forged = await call(api, 'PATCH', `${BACKENDS}/web`, { metadata: { uid: 'forged', generation: 99, creationTimestamp: '2000-01-01T00:00:00Z' } }, MERGE);
  assert.equal(forged.body.metadata.uid, created.body.metadata.uid);
  assert.equal(forged.body.metadata.generation, 2);
  assert.equal(forged.body.metadata.creationTimestamp, created.body.metadata.creationTimestamp);

  // Paging with limit/continue.
  for (const n of ['b', 'c', 'd']) await call(api, 'POST', BACKENDS, backend(n));
  const page1 = (await call(api, 'GET', `${BACKENDS}?limit=2`)).body;
  assert.deepEqual(page1.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['b', 'c']);
  assert.equal(page1.metadata.remainingItemCount, 2);
  const page2 = (await call(api, 'GET', `${BACKENDS}?limit=2&continue=${page1.metadata.continue}`)).body;
  assert.deepEqual(page2.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['d', 'web']);
  assert.equal(page2.metadata.continue, undefined);

  // generateName and dryRun.
  const generated = (await call(api, 'POST', BACKENDS, { ...backend(''), metadata: { generateName: 'gen-' } })).body;
  assert.match(generated.metadata.name, /^gen-[a-z0-9]{5}$/);
  const before = api.resourceVersion();
  assert.equal((await call(api, 'POST', `${BACKENDS}?dryRun=All`, backend('dry'))).status, 201);
  assert.equal((await call(api, 'GET', `${BACKENDS}/dry`)).status, 404);
  assert.equal(api.resourceVersion(), before);
});

test('schema: defaults, pruning, fieldValidation, validation causes, status subresource rules', async (t) => {
  const api = await withApi(t);
  // No fieldValidation parameter (helm, client-node) means Warn: pruned, with a Warning header.
  const warned = await call(api, 'POST', BACKENDS, { ...backend('w'), spec: { servers: [{ name: 's', address: 'h', port: 1, colour: 'red' }], extra: 1 } });
  assert.equal(warned.status, 201);
  assert.equal(warned.headers.get('warning'), '299 - "unknown field \\"spec.servers[0].colour\\"", 299 - "unknown field \\"spec.extra\\""');
  assert.equal(warned.body.spec.extra, undefined);
  assert.equal(warned.body.spec.servers[0].colour, undefined);
  assert.equal(warned.body.spec.servers[0].weight, 1, 'defaults apply inside list items');
  const ignored = await call(api, 'POST', `${BACKENDS}?fieldValidation=Ignore`, { ...backend('i'), spec: { extra: 1 } });
  assert.equal(ignored.status, 201);
  assert.equal(ignored.headers.get('warning'), null);
  const strict = await call(api, 'POST', `${BACKENDS}?fieldValidation=Strict`, { ...backend('s'), metadata: { name: 's', colour: 'x' }, spec: { extra: 1 } });
  assert.equal(strict.status, 400);
  assert.equal(strict.body.message, 'Backend in version "v1alpha1" cannot be handled as a Backend: strict decoding error: unknown field "metadata.colour", unknown field "spec.extra"');

  const invalid = await call(api, 'POST', BACKENDS, { ...backend('bad'), spec: { balance: 'fastest', retries: -1, servers: [{ name: 's' }] } });
  assert.equal(invalid.status, 422);
  assert.equal(invalid.body.reason, 'Invalid');
  assert.equal(invalid.body.details.kind, 'Backend');
  assert.deepEqual(
    invalid.body.details.causes.map((c: { field: string; reason: string }) => `${c.reason} ${c.field}`).sort(),
    ['FieldValueInvalid spec.retries', 'FieldValueNotSupported spec.balance', 'FieldValueRequired spec.servers[0].address', 'FieldValueRequired spec.servers[0].port'],
  );
  assert.match(invalid.body.message, /^Backend\.switchyard\.dev "bad" is invalid: \[/);
  const badName = await call(api, 'POST', BACKENDS, backend('Not_A_Name'));
  assert.equal(badName.status, 422);
  assert.equal(badName.body.details.causes[0].field, 'metadata.name');

  // Status is dropped on create and only writable through /status, where only status changes.
  const created = (await call(api, 'POST', BACKENDS, { ...backend('st'), status: { servers: { total: 1 } } })).body;
  assert.equal(created.status, undefined);
  const status = await call(api, 'PATCH', `${BACKENDS}/st/status`, { spec: { retries: 7 }, metadata: { labels: { x: 'y' } }, status: { servers: { total: 3, up: 2, bogus: 1 } } }, MERGE);
  assert.equal(status.status, 200);
  assert.deepEqual(status.body.status.servers, { total: 3, up: 2 });
  assert.equal(status.body.spec.retries, created.spec.retries);
  assert.equal(status.body.metadata.labels, undefined);
  assert.equal(status.body.metadata.generation, 1);
  const badStatus = await call(api, 'PATCH', `${BACKENDS}/st/status`, { status: { servers: { total: 'many' } } }, MERGE);
  assert.equal(badStatus.status, 422);
  assert.equal(badStatus.body.details.causes[0].field, 'status.servers.total');
  // list-type=map conditions: duplicate types are refused.
  const cond = { type: 'Accepted', status: 'True', reason: 'R', message: 'm', lastTransitionTime: '2024-01-01T00:00:00Z' };
  const dup = await call(api, 'PATCH', `${BACKENDS}/st/status`, { status: { conditions: [cond, cond] } }, MERGE);
  assert.equal(dup.status, 422);
  assert.equal(dup.body.details.causes[0].reason, 'FieldValueDuplicate');

  // JSON patch: a non-array body is a 400; a path that does not exist a 422.
  assert.equal((await call(api, 'PATCH', `${BACKENDS}/st`, { spec: {} }, JSONP)).status, 400);
  assert.equal((await call(api, 'PATCH', `${BACKENDS}/st`, [{ op: 'replace', path: '/spec/nope/x', value: 1 }], JSONP)).status, 422);
  assert.equal((await call(api, 'PATCH', `${BACKENDS}/st`, '{"spec":{}}', { 'Content-Type': 'application/apply-patch+yaml' })).status, 415);
});

test('finalizers, namespace lifecycle and CRD cleanup', async (t) => {
  const api = await withApi(t);
  assert.equal((await call(api, 'POST', '/api/v1/namespaces', { metadata: { name: 'team' } })).status, 201);
  const ns = (await call(api, 'GET', '/api/v1/namespaces/team')).body;
  assert.deepEqual(ns.spec.finalizers, ['kubernetes']);
  assert.equal(ns.status.phase, 'Active');
  assert.equal((await call(api, 'POST', `${SWITCHYARD}/namespaces/ghost/backends`, backend('x'))).status, 404);
  assert.deepEqual((await call(api, 'GET', `${SWITCHYARD}/namespaces/ghost/backends`)).body.items, []);

  const TEAM = `${SWITCHYARD}/namespaces/team/backends`;
  const held = (await call(api, 'POST', TEAM, backend('held', { finalizers: ['switchyard.dev/hold'] }))).body;
  await call(api, 'POST', TEAM, backend('free'));
  await call(api, 'POST', '/api/v1/namespaces/team/secrets', { metadata: { name: 'token' }, data: { t: 'YQ==' } });

  // Deleting the namespace deletes its contents; the finalizer holds one object and the namespace.
  const nsDelete = await call(api, 'DELETE', '/api/v1/namespaces/team');
  assert.equal(nsDelete.status, 200);
  assert.equal(nsDelete.body.status.phase, 'Terminating');
  assert.equal((await call(api, 'GET', `${TEAM}/free`)).status, 404);
  assert.equal((await call(api, 'GET', '/api/v1/namespaces/team/secrets/token')).status, 404);
  const marked = (await call(api, 'GET', `${TEAM}/held`)).body;
  assert.ok(marked.metadata.deletionTimestamp);
  assert.equal(marked.metadata.generation, held.metadata.generation + 1);
  const refused = await call(api, 'POST', TEAM, backend('late'));
  assert.equal(refused.status, 403);
  assert.match(refused.body.message, /unable to create new content in namespace team because it is being terminated/);
  const addFinalizer = await call(api, 'PATCH', `${TEAM}/held`, { metadata: { finalizers: ['switchyard.dev/hold', 'another.io/x'] } }, MERGE);
  assert.equal(addFinalizer.status, 422);
  assert.match(addFinalizer.body.message, /no new finalizers can be added if the object is being deleted/);
  // Deleting again returns the marked object unchanged.
  const again = await call(api, 'DELETE', `${TEAM}/held`);
  assert.equal(again.body.metadata.resourceVersion, marked.metadata.resourceVersion);

  const released = await call(api, 'PATCH', `${TEAM}/held`, [{ op: 'remove', path: '/metadata/finalizers' }], JSONP);
  assert.equal(released.status, 200);
  assert.equal((await call(api, 'GET', `${TEAM}/held`)).status, 404);
  assert.equal((await call(api, 'GET', '/api/v1/namespaces/team')).status, 404);
  assert.equal((await call(api, 'DELETE', '/api/v1/namespaces/default')).status, 403);

  // A CRD's deletion waits for its custom resources (and their finalizers), then leaves discovery.
  await call(api, 'POST', BACKENDS, backend('last', { finalizers: ['switchyard.dev/hold'] }));
  const crd = await call(api, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backends.switchyard.dev');
  assert.equal(crd.status, 200);
  const terminating = (await call(api, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backends.switchyard.dev')).body;
  assert.ok(terminating.status.conditions.some((c: { type: string; status: string }) => c.type === 'Terminating' && c.status === 'True'));
  assert.ok((await call(api, 'GET', `${BACKENDS}/last`)).body.metadata.deletionTimestamp);
  await call(api, 'PATCH', `${BACKENDS}/last`, { metadata: { finalizers: null } }, MERGE);
  assert.equal((await call(api, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backends.switchyard.dev')).status, 404);
  const resources = (await call(api, 'GET', SWITCHYARD)).body.resources.map((r: { name: string }) => r.name);
  assert.deepEqual(resources.sort(), ['frontends', 'frontends/status', 'healthpolicies', 'healthpolicies/status']);
});

test('CRDs: establishment, discovery, name conflicts', async (t) => {
  const api = await withApi(t, false);
  assert.equal((await call(api, 'GET', SWITCHYARD)).status, 404);
  await installRepoCrds(api);
  const crd = (await call(api, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backends.switchyard.dev')).body;
  const conditions = Object.fromEntries(crd.status.conditions.map((c: { type: string; status: string }) => [c.type, c.status]));
  assert.deepEqual(conditions, { NamesAccepted: 'True', Established: 'True' });
  assert.deepEqual(crd.status.storedVersions, ['v1alpha1']);
  assert.deepEqual(crd.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);

  const groups = (await call(api, 'GET', '/apis')).body.groups;
  const group = groups.find((g: { name: string }) => g.name === 'switchyard.dev');
  assert.deepEqual(group.preferredVersion, { groupVersion: 'switchyard.dev/v1alpha1', version: 'v1alpha1' });
  const list = (await call(api, 'GET', SWITCHYARD)).body;
  const be = list.resources.find((r: { name: string }) => r.name === 'backends');
  assert.deepEqual(
    { ...be, verbs: undefined },
    { name: 'backends', singularName: 'backend', namespaced: true, kind: 'Backend', shortNames: ['be'], categories: ['switchyard'], verbs: undefined },
  );
  assert.deepEqual(list.resources.find((r: { name: string }) => r.name === 'backends/status').verbs, ['get', 'patch', 'update']);
  assert.equal((await call(api, 'GET', '/api')).body.kind, 'APIVersions');
  assert.equal((await call(api, 'GET', '/apis/switchyard.dev')).body.kind, 'APIGroup');

  // A second CRD claiming the kind of the first is not accepted and serves nothing.
  const clash = {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'pools.switchyard.dev' },
    spec: { group: 'switchyard.dev', scope: 'Namespaced', names: { plural: 'pools', kind: 'Backend' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] },
  };
  const created = (await call(api, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', clash)).body;
  const byType = Object.fromEntries(created.status.conditions.map((c: { type: string; reason: string }) => [c.type, c.reason]));
  assert.deepEqual(byType, { NamesAccepted: 'AlreadyInUse', Established: 'NotAccepted' });
  assert.equal((await call(api, 'GET', '/apis/switchyard.dev/v1/pools')).status, 404);
  const badCrd = await call(api, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { ...clash, metadata: { name: 'wrong.switchyard.dev' } });
  assert.equal(badCrd.status, 422);
  assert.equal(badCrd.body.details.causes[0].field, 'metadata.name');
});

test('built-ins: Secrets, Services with strategic merge patch, Events, Leases', async (t) => {
  const api = await withApi(t, false);
  const secret = (await call(api, 'POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 's' }, stringData: { token: 'abc' } })).body;
  assert.deepEqual(secret.data, { token: Buffer.from('abc').toString('base64') });
  assert.equal(secret.stringData, undefined);
  assert.equal(secret.type, 'Opaque');
  assert.equal((await call(api, 'POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 'b' }, data: { x: 'not base64!' } })).status, 400);
  // Built-ins accept PUT without resourceVersion (helm relies on it for its release Secrets).
  const { resourceVersion: _rv, ...meta } = secret.metadata;
  assert.equal((await call(api, 'PUT', '/api/v1/namespaces/default/secrets/s', { ...secret, metadata: meta, data: { token: 'eHl6' } })).status, 200);
  assert.equal((await call(api, 'PUT', '/api/v1/namespaces/default/secrets/s', { ...secret, metadata: meta, type: 'kubernetes.io/tls' })).status, 422);
  assert.equal((await call(api, 'GET', '/api/v1/namespaces/default/secrets?fieldSelector=type%3DOpaque')).body.items.length, 1);

  const svc = (await call(api, 'POST', '/api/v1/namespaces/default/services', {
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 9000 }] },
  })).body;
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.equal(svc.spec.ports[1].targetPort, 9000);
  assert.equal(svc.spec.ports[1].protocol, 'TCP');
  // What kubectl apply sends for a changed port list: merge by `port`, ordered by $setElementOrder.
  const smp = await call(api, 'PATCH', '/api/v1/namespaces/default/services/web', {
    spec: { '$setElementOrder/ports': [{ port: 9000 }, { port: 443 }], ports: [{ name: 'https', port: 443, targetPort: 8443 }, { port: 80, $patch: 'delete' }] },
    metadata: { labels: { tier: 'front' } },
  }, SMP);
  assert.equal(smp.status, 200, JSON.stringify(smp.body));
  assert.deepEqual(smp.body.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`), ['admin:9000', 'https:443']);
  assert.equal(smp.body.spec.clusterIP, svc.spec.clusterIP);
  // Endpoint slices as the controller reads them.
  const slice = await call(api, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
    metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  assert.equal(slice.status, 201);
  assert.equal(slice.body.metadata.generation, 1);
  assert.equal((await call(api, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb')).body.items.length, 1);
  assert.equal((await call(api, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { metadata: { name: 'x' }, endpoints: [] })).status, 422);

  // Events: core/v1 with the field selectors kubectl describe uses; events.k8s.io/v1 shares storage.
  const involved = { apiVersion: 'switchyard.dev/v1alpha1', kind: 'Backend', name: 'web', namespace: 'default', uid: 'u-1' };
  const core = await call(api, 'POST', '/api/v1/namespaces/default/events', {
    metadata: { generateName: 'web.' }, involvedObject: involved, reason: 'Rejected', message: 'bad', type: 'Warning', source: { component: 'switchyard' }, count: 1,
  });
  assert.equal(core.status, 201);
  const v1 = await call(api, 'POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
    metadata: { name: 'web.2' }, regarding: involved, note: 'ok', reason: 'Programmed', type: 'Normal', action: 'Reconcile',
    eventTime: '2024-01-01T00:00:00.000000Z', reportingController: 'switchyard', reportingInstance: 'pod-a',
  });
  assert.equal(v1.status, 201, JSON.stringify(v1.body));
  assert.equal(v1.body.note, 'ok');
  const described = (await call(api, 'GET', `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent('involvedObject.kind=Backend,involvedObject.uid=u-1,involvedObject.name=web')}`)).body;
  assert.deepEqual(described.items.map((e: { reason: string; message: string }) => `${e.reason}: ${e.message}`).sort(), ['Programmed: ok', 'Rejected: bad']);
  assert.equal((await call(api, 'POST', '/apis/events.k8s.io/v1/namespaces/default/events', { metadata: { name: 'x' }, regarding: involved, eventTime: '2024-01-01T00:00:00Z' })).status, 400);

  const lease = { metadata: { name: 'l' }, spec: { holderIdentity: 'a', renewTime: '2024-01-01T00:00:00.123Z' } };
  const badLease = await call(api, 'POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', lease);
  assert.equal(badLease.status, 400);
  assert.match(badLease.body.message, /^Lease in version "v1" cannot be handled as a Lease: parsing time "2024-01-01T00:00:00.123Z"/);
});

test('Table output, label selectors, OpenAPI, version', async (t) => {
  const api = await withApi(t);
  await call(api, 'POST', BACKENDS, { ...backend('web', { labels: { app: 'web', tier: 'front' } }), spec: { mode: 'tcp', balance: 'first', servers: [] } });
  await call(api, 'POST', BACKENDS, backend('api', { labels: { app: 'api' } }));
  await call(api, 'PATCH', `${BACKENDS}/web/status`, { status: { servers: { total: 3, up: 2 } } }, MERGE);
  const table = (await call(api, 'GET', BACKENDS, undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' })).body;
  assert.equal(table.kind, 'Table');
  assert.deepEqual(table.columnDefinitions.map((c: { name: string }) => c.name).slice(0, 5), ['Name', 'Mode', 'Balance', 'Servers', 'Up']);
  const web = table.rows.find((r: { cells: unknown[] }) => r.cells[0] === 'web');
  assert.deepEqual(web.cells.slice(0, 5), ['web', 'tcp', 'first', 3, 2]);
  assert.match(web.cells.at(-1), /^\d+s$/);
  assert.equal(web.object.kind, 'PartialObjectMetadata');

  const select = async (selector: string): Promise<string[]> =>
    (await call(api, 'GET', `${BACKENDS}?labelSelector=${encodeURIComponent(selector)}`)).body.items.map((i: { metadata: { name: string } }) => i.metadata.name);
  assert.deepEqual(await select('app in (web,api)'), ['api', 'web']);
  assert.deepEqual(await select('app notin (web),!tier'), ['api']);
  assert.deepEqual(await select('tier'), ['web']);
  assert.deepEqual(await select('app!=web'), ['api']);
  assert.equal((await call(api, 'GET', `${BACKENDS}?labelSelector=${encodeURIComponent('a b c')}`)).status, 400);

  const proto = await fetch(`${api.url}/openapi/v2?timeout=32s`, { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
  assert.equal(proto.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  const bytes = Buffer.from(await proto.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 5)], [0x0a, 3, 0x32, 0x2e, 0x30], 'field 1 (swagger) = "2.0"');
  assert.equal(bytes[5], 0x12, 'field 2 (info)');
  assert.equal((await call(api, 'GET', '/openapi/v3')).status, 404);
  assert.equal((await call(api, 'GET', '/version')).body.gitVersion, 'v1.30.0');
});
