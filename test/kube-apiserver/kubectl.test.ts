/**
 * Fidelity with kubectl (whatever `kubectl` is on the PATH; on the CI image the cloud-SDK dispatcher
 * runs kubectl 1.30 for the emulator's /version): apply of the repo's CRDs and of custom resources,
 * printer columns, -o yaml, generation on re-apply, server-side validation messages, `kubectl
 * wait` on a condition written through the status subresource, finalizers, delete.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { kubeTools } from '../helpers/kubectl.ts';
import { startKubeApiServer } from './index.ts';
import { call, SWITCHYARD } from './testing.ts';

const manifest = (retries: number): string => `
apiVersion: switchyard.dev/v1alpha1
kind: HealthPolicy
metadata: { name: web-health, namespace: shop }
spec:
  interval: 2s
  rise: 2
  fall: 3
  http: { method: GET, path: /healthz, expect: { status: [200] } }
---
apiVersion: switchyard.dev/v1alpha1
kind: Backend
metadata: { name: web, namespace: shop }
spec:
  mode: http
  balance: leastconn
  healthPolicyRef: { name: web-health }
  retries: ${retries}
  servers:
    - { name: s1, address: 127.0.0.1, port: 9001 }
    - { name: s2, address: 127.0.0.1, port: 9002, weight: 2 }
---
apiVersion: switchyard.dev/v1alpha1
kind: Frontend
metadata: { name: web, namespace: shop }
spec:
  mode: http
  binds: [{ address: 127.0.0.1, port: 8080 }]
  defaultBackend: { name: web }
`;

test('kubectl: CRDs, custom resources, printer columns, generation, validation, wait, delete', async (t) => {
  const api = await startKubeApiServer();
  t.after(() => api.close());
  const tools = await kubeTools(api);
  t.after(() => tools.cleanup());
  const kubectl = tools.kubectlOk;

  const crdOut = await kubectl(['apply', '-f', join(REPO_ROOT, 'crds')]);
  assert.match(crdOut, /customresourcedefinition\.apiextensions\.k8s\.io\/backends\.switchyard\.dev created/);
  await kubectl(['wait', '--for=condition=Established', 'crd/frontends.switchyard.dev', '--timeout=20s']);
  const resources = await kubectl(['api-resources', '--api-group=switchyard.dev', '-o', 'name']);
  assert.deepEqual(resources.trim().split('\n').sort(), ['backends.switchyard.dev', 'frontends.switchyard.dev', 'healthpolicies.switchyard.dev']);

  // A namespace that does not exist yet: creating in it is refused, as NamespaceLifecycle does.
  const early = await tools.kubectl(['apply', '-f', '-'], { input: manifest(2) });
  assert.notEqual(early.code, 0);
  assert.match(early.stderr, /namespaces "shop" not found/);
  // (`apply`, not `create namespace`: kubectl ≥ 1.33's typed create commands send protobuf bodies.)
  await kubectl(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n' });
  const applied = await kubectl(['apply', '-f', '-'], { input: manifest(2) });
  assert.match(applied, /backend\.switchyard\.dev\/web created/);

  // Printer columns come from the CRDs' additionalPrinterColumns (Table output).
  const table = await kubectl(['get', 'frontends,backends', '-n', 'shop']);
  assert.match(table, /NAME\s+MODE\s+BALANCE\s+SERVERS\s+UP\s+ACCEPTED\s+PROGRAMMED\s+AGE/);
  assert.match(table, /backend\.switchyard\.dev\/web\s+http\s+leastconn/);
  assert.match(table, /frontend\.switchyard\.dev\/web\s+http\s+8080\s+web/);
  const shortName = await kubectl(['get', 'be', '-n', 'shop', '-o', 'name']);
  assert.equal(shortName.trim(), 'backend.switchyard.dev/web');

  // -o yaml: server-set metadata and the schema's defaults.
  const backend = parseYaml(await kubectl(['get', 'backend', 'web', '-n', 'shop', '-o', 'yaml']));
  assert.equal(backend.metadata.generation, 1);
  assert.match(backend.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.match(backend.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(backend.spec.hashType, 'map-based');
  assert.equal(backend.spec.servers[0].weight, 1);
  assert.ok(backend.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);

  // Re-applying the same manifest changes nothing on the server; a changed spec bumps generation.
  await kubectl(['apply', '-f', '-'], { input: manifest(2) });
  const again = parseYaml(await kubectl(['get', 'backend', 'web', '-n', 'shop', '-o', 'yaml']));
  assert.equal(again.metadata.generation, 1);
  assert.equal(again.metadata.resourceVersion, backend.metadata.resourceVersion);
  await kubectl(['apply', '-f', '-'], { input: manifest(3) });
  const changed = parseYaml(await kubectl(['get', 'backend', 'web', '-n', 'shop', '-o', 'yaml']));
  assert.equal(changed.metadata.generation, 2);
  assert.equal(changed.spec.retries, 3);

  // Schema validation: 422 naming the fields; unknown fields: kubectl's default fieldValidation=Strict.
  const bad = await tools.kubectl(['apply', '-n', 'shop', '-f', '-'], {
    input: 'apiVersion: switchyard.dev/v1alpha1\nkind: Backend\nmetadata: { name: bad }\nspec:\n  mode: udp\n  servers: [{ name: a, address: 127.0.0.1, port: 70000 }]\n',
  });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /The Backend "bad" is invalid/);
  assert.match(bad.stderr, /spec\.mode: Unsupported value: "udp": supported values: "http", "tcp"/);
  assert.match(bad.stderr, /spec\.servers\[0\]\.port: Invalid value: 70000/);
  const unknown = await tools.kubectl(['apply', '-n', 'shop', '-f', '-'], {
    input: 'apiVersion: switchyard.dev/v1alpha1\nkind: Backend\nmetadata: { name: bad }\nspec:\n  colour: blue\n',
  });
  const strict = api.requests().some((r) => r.method === 'POST' && r.url.includes('/backends?') && r.url.includes('fieldValidation=Strict'));
  if (strict) {
    // kubectl ≥ 1.25 asks for strict field validation: a 400.
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /strict decoding error: unknown field "spec\.colour"/);
    assert.equal((await call(api, 'GET', `${SWITCHYARD}/namespaces/shop/backends/bad`)).status, 404);
  } else {
    // Older kubectl (Debian's 1.20) sends none: the server prunes the field and warns.
    assert.equal(unknown.code, 0, unknown.stderr);
    assert.match(unknown.stderr, /Warning: unknown field "spec\.colour"/);
    assert.equal((await call(api, 'GET', `${SWITCHYARD}/namespaces/shop/backends/bad`)).body.spec.colour, undefined);
    await kubectl(['delete', 'backend', 'bad', '-n', 'shop']);
  }

  // kubectl wait watches until the test writes Programmed=True through the status subresource.
  const waiting = tools.kubectl(['wait', '--for=condition=Programmed', 'backend/web', '-n', 'shop', '--timeout=30s']);
  await eventually(() => assert.ok(api.requests().some((r) => r.url.includes('/backends?') && r.url.includes('watch=true') && r.url.includes('metadata.name%3Dweb'))));
  const current = (await call(api, 'GET', `${SWITCHYARD}/namespaces/shop/backends/web`)).body;
  const condition = { type: 'Programmed', status: 'True', reason: 'Programmed', message: '1/1 data planes', observedGeneration: current.metadata.generation, lastTransitionTime: new Date().toISOString() };
  const put = await call(api, 'PUT', `${SWITCHYARD}/namespaces/shop/backends/web/status`, { ...current, status: { conditions: [condition] } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const waited = await waiting;
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stdout, /backend\.switchyard\.dev\/web condition met/);
  // Missing printer-column values are null cells, which kubectl prints blank: only PROGRAMMED shows.
  assert.match(await kubectl(['get', 'backend', 'web', '-n', 'shop']), /\nweb\s+http\s+leastconn\s+True\s+\d+s\n/);

  // A finalizer holds the deletion: kubectl delete --wait=false returns, the object stays marked.
  await kubectl(['patch', 'frontend', 'web', '-n', 'shop', '--type=merge', '-p', '{"metadata":{"finalizers":["switchyard.dev/test"]}}']);
  await kubectl(['delete', 'frontend', 'web', '-n', 'shop', '--wait=false']);
  const marked = JSON.parse(await kubectl(['get', 'frontend', 'web', '-n', 'shop', '-o', 'json']));
  assert.ok(marked.metadata.deletionTimestamp);
  // A second delete waits (by watch) until the finalizer goes.
  const deleting = tools.kubectl(['delete', 'frontend', 'web', '-n', 'shop', '--timeout=30s']);
  await eventually(() => assert.ok(api.requests().some((r) => r.url.includes('/frontends?') && r.url.includes('watch=true') && r.url.includes('metadata.name%3Dweb'))));
  await kubectl(['patch', 'frontend', 'web', '-n', 'shop', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
  const deleted = await deleting;
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match((await tools.kubectl(['get', 'frontend', 'web', '-n', 'shop'])).stderr, /NotFound/);

  await kubectl(['delete', 'backend', 'web', '-n', 'shop']);
  assert.match(await kubectl(['get', 'backends', '-n', 'shop']).catch((e: Error) => e.message), /^$|No resources found/);

  // Deleting the CRDs removes their remaining objects and their types from discovery.
  await kubectl(['delete', '-f', join(REPO_ROOT, 'crds')]);
  assert.equal((await call(api, 'GET', `${SWITCHYARD}/namespaces/shop/healthpolicies/web-health`)).status, 404);
  assert.equal((await call(api, 'GET', SWITCHYARD)).status, 404);
});
