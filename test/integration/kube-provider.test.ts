/**
 * The Kubernetes provider against the API emulator, through client-node for real: CRDs applied
 * through the API, objects created and changed with client-node, the provider's worlds observed.
 * A TCP proxy between the provider and the emulator breaks connections on demand, to force
 * informer failures (client-node stops an informer for good on those) and a 410 Gone relist.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1CustomResourceDefinition, V1EndpointSlice } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { retranslate, translate } from '@switchyard/controller';
import type { Translation } from '@switchyard/controller';
import { KubernetesProvider, type World } from '@switchyard/controller/kubernetes';
import { startKubeApiServer } from '../kube-apiserver/index.ts';
import type { KubeApiServer } from '../kube-apiserver/index.ts';
import { REPO_ROOT } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';

/** Forwards TCP to the emulator; `pause()` resets every connection and refuses new ones until `resume()`. */
class FlakyProxy {
  readonly #sockets = new Set<Socket>();
  #paused = false;
  readonly server: Server;
  port = 0;

  constructor(targetPort: number) {
    this.server = createServer((client) => {
      if (this.#paused) {
        client.resetAndDestroy();
        return;
      }
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    assert.ok(address !== null && typeof address === 'object');
    this.port = address.port;
  }

  pause(): void {
    this.#paused = true;
    for (const s of this.#sockets) s.resetAndDestroy();
  }

  resume(): void {
    this.#paused = false;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const GROUP = 'switchyard.dev';
const VERSION = 'v1alpha1';
const NS = 'shop';
const SYSTEM_NS = 'switchyard-system';

let api: KubeApiServer;
let proxy: FlakyProxy;
let admin: KubeConfig; // straight to the emulator
let provider: KubernetesProvider;
const worlds: World[] = [];
const restarts: string[] = [];
let translation: Translation | null = null;

function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig().replace(api.url, url));
  return kc;
}

const latest = (): World => {
  const w = provider.world();
  assert.ok(w, 'no world yet');
  return w;
};
const names = (w: World, kind: string): string[] =>
  w.objects
    .map((o) => o.object as { kind: string; metadata: { name: string } })
    .filter((o) => o.kind === kind)
    .map((o) => o.metadata.name);
const addresses = (w: World, service: string): string[] | undefined => w.endpoints.get(`${NS}/${service}`)?.map((e) => e.address);

function slice(name: string, service: string, endpoints: { ip: string; ready?: boolean }[]): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: e.ready === undefined ? {} : { ready: e.ready } })),
  };
}

const custom = () => admin.makeApiClient(CustomObjectsApi);
const core = () => admin.makeApiClient(CoreV1Api);
const discovery = () => admin.makeApiClient(DiscoveryV1Api);

async function createBackend(name: string, spec: object): Promise<void> {
  await custom().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: 'backends',
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Backend', metadata: { name, namespace: NS }, spec },
  });
}

before(async () => {
  api = await startKubeApiServer();
  proxy = new FlakyProxy(api.port);
  await proxy.listen();
  admin = kubeConfigFor(api.url);

  // kubectl apply -f crds/, through client-node.
  const crdDir = join(REPO_ROOT, 'crds');
  const ext = admin.makeApiClient(ApiextensionsV1Api);
  for (const file of (await readdir(crdDir)).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(await readFile(join(crdDir, file), 'utf8'))) {
      await ext.createCustomResourceDefinition({ body: doc.toJS() as V1CustomResourceDefinition });
    }
  }
  for (const name of [NS, SYSTEM_NS]) await core().createNamespace({ body: { metadata: { name } } });
  await core().createNamespacedSecret({
    namespace: SYSTEM_NS,
    body: { metadata: { name: 'channel-token', namespace: SYSTEM_NS }, data: { token: Buffer.from('tok-1\n').toString('base64') } },
  });
  await core().createNamespacedSecret({ namespace: SYSTEM_NS, body: { metadata: { name: 'unrelated', namespace: SYSTEM_NS }, stringData: { token: 'nope' } } });
  await createBackend('web', { serviceRef: { name: 'web', port: 80 } });
  await core().createNamespacedService({
    namespace: NS,
    body: { metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
  });
  await discovery().createNamespacedEndpointSlice({ namespace: NS, body: slice('web-1', 'web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false }]) });

  provider = new KubernetesProvider({
    kubeConfig: kubeConfigFor(`http://127.0.0.1:${proxy.port}`),
    tokenSecret: { namespace: SYSTEM_NS, name: 'channel-token' },
    holdoffMs: 20,
    maxHoldoffMs: 200,
    backoff: { initialMs: 50, maxMs: 400 },
  });
  provider.onChange((w) => {
    worlds.push(w);
    translation = retranslate(translation, w);
  });
  provider.onRestart((kind, err) => restarts.push(`${kind}: ${err.message}`));
  provider.start();
});

after(async () => {
  await provider?.stop();
  await proxy?.close();
  await api?.close();
});

test('synced: the first world holds what the cluster held, endpoints resolved, token read', async () => {
  await eventually(() => assert.equal(provider.synced, true));
  await eventually(() => assert.ok(provider.world()));
  const w = latest();
  assert.deepEqual(names(w, 'Backend'), ['web']);
  assert.deepEqual(w.endpoints.get(`${NS}/web`), [{ address: '10.0.0.1', port: 8080, name: 'http', servicePort: 80 }], 'not-ready 10.0.0.2 left out');
  assert.equal(provider.token(), 'tok-1');
  const result = translation!.result;
  assert.deepEqual(
    result.snapshot.clusters.map((c) => [c.name, c.servers.map((s) => s.name)]),
    [['shop/web', ['10.0.0.1:8080']]],
  );
});

test('new objects and endpoint scaling reach the world; endpoint churn takes the fast path', async () => {
  await custom().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: 'frontends',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Frontend',
      metadata: { name: 'site', namespace: NS },
      spec: { binds: [{ address: '0.0.0.0', port: 8080 }], defaultBackend: { name: 'web' } },
    },
  });
  await createBackend('static', { servers: [{ name: 's1', address: '10.9.9.9', port: 80 }] });
  await eventually(() => {
    assert.deepEqual(names(latest(), 'Frontend'), ['site']);
    assert.deepEqual(names(latest(), 'Backend'), ['static', 'web']);
  });

  // Scale up: a second slice, and the first one's not-ready endpoint turns ready.
  const beforeScale = latest();
  await discovery().createNamespacedEndpointSlice({ namespace: NS, body: slice('web-2', 'web', [{ ip: '10.0.0.3' }]) });
  await discovery().replaceNamespacedEndpointSlice({ name: 'web-1', namespace: NS, body: slice('web-1', 'web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: true }]) });
  await eventually(() => assert.deepEqual(addresses(latest(), 'web'), ['10.0.0.1', '10.0.0.2', '10.0.0.3']));
  const scaled = latest();
  assert.equal(scaled.objects, beforeScale.objects, 'the objects did not change');
  assert.equal(scaled.changes.objects, false);
  assert.equal(translation!.stats.mode, 'endpoints');
  assert.equal(translation!.stats.backendsCompiled, 1, 'only the Backend on the Service that scaled');
  assert.deepEqual(translation!.result, translate(scaled));
  assert.deepEqual(
    translation!.result.snapshot.clusters.find((c) => c.name === 'shop/web')!.servers.map((s) => s.address),
    ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
  );

  // Scale down.
  await discovery().deleteNamespacedEndpointSlice({ name: 'web-2', namespace: NS });
  await eventually(() => assert.deepEqual(addresses(latest(), 'web'), ['10.0.0.1', '10.0.0.2']));
});

test('a status-only write is not a change', async () => {
  const revision = latest().revision;
  const current = (await custom().getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'backends', name: 'web' })) as Record<string, unknown>;
  await custom().replaceNamespacedCustomObjectStatus({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: 'backends',
    name: 'web',
    body: { ...current, status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'valid', lastTransitionTime: '2024-01-01T00:00:00Z' }] } },
  });
  // A later endpoint change makes a world; had the status write counted, it would say objects changed.
  await discovery().replaceNamespacedEndpointSlice({ name: 'web-1', namespace: NS, body: slice('web-1', 'web', [{ ip: '10.0.0.1' }]) });
  await eventually(() => assert.deepEqual(addresses(latest(), 'web'), ['10.0.0.1']));
  const after = worlds.filter((w) => w.revision > revision);
  assert.ok(after.length >= 1);
  for (const w of after) assert.equal(w.changes.objects, false, `world ${w.revision}`);
});

test('the token follows its Secret', async () => {
  await core().replaceNamespacedSecret({
    name: 'channel-token',
    namespace: SYSTEM_NS,
    body: { metadata: { name: 'channel-token', namespace: SYSTEM_NS }, data: { token: Buffer.from('tok-2').toString('base64') } },
  });
  await eventually(() => assert.equal(provider.token(), 'tok-2'));
  // Only that Secret is listed and watched: the same field selector on both requests.
  const secretRequests = api.requests().filter((r) => r.url.startsWith(`/api/v1/namespaces/${SYSTEM_NS}/secrets?`));
  assert.ok(secretRequests.some((r) => !r.url.includes('watch=true')));
  assert.ok(secretRequests.some((r) => r.url.includes('watch=true')));
  for (const r of secretRequests) assert.match(r.url, /fieldSelector=metadata\.name%3Dchannel-token/);
});

test('broken connections restart the informers; a change missed meanwhile comes back through a 410 relist', async () => {
  const listsBefore = api.requests().filter((r) => r.url.startsWith(`/apis/${GROUP}/${VERSION}/backends`) && !r.url.includes('watch=true')).length;
  proxy.pause(); // every watch dies (client-node stops those informers for good) and reconnects are refused
  await eventually(() => {
    for (const kind of ['Frontend', 'Backend', 'HealthPolicy', 'Service', 'EndpointSlice', 'Secret']) {
      assert.ok(restarts.some((r) => r.startsWith(`${kind}: `)), `${kind} restarted: ${restarts.join('; ')}`);
    }
  });
  // Changes while the provider cannot see: then the history is compacted, so resuming the
  // watch from the last resourceVersion the informer saw gets 410 Gone and it must relist.
  await custom().deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'backends', name: 'static' });
  await createBackend('late', { servers: [{ name: 's1', address: '10.9.9.8', port: 80 }] });
  api.compactHistory();
  proxy.resume();
  await eventually(() => assert.deepEqual(names(latest(), 'Backend'), ['late', 'web']));
  const listsAfter = api.requests().filter((r) => r.url.startsWith(`/apis/${GROUP}/${VERSION}/backends`) && !r.url.includes('watch=true')).length;
  assert.ok(listsAfter > listsBefore, 'relisted');
  assert.ok(
    api.requests().some((r) => r.url.startsWith(`/apis/${GROUP}/${VERSION}/backends?`) && r.url.includes('watch=true')),
    'watching again',
  );
  assert.ok((provider.restarts().get('Backend') ?? 0) >= 1);

  // And the restarted informers keep delivering.
  await discovery().replaceNamespacedEndpointSlice({ name: 'web-1', namespace: NS, body: slice('web-1', 'web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.4' }]) });
  await eventually(() => assert.deepEqual(addresses(latest(), 'web'), ['10.0.0.1', '10.0.0.4']));
  assert.deepEqual(translation!.result, translate(latest()));
});

test('a Service deleted: its key leaves the world, and the Backend on it is not served', async () => {
  await core().deleteNamespacedService({ name: 'web', namespace: NS });
  await eventually(() => assert.equal(latest().endpoints.has(`${NS}/web`), false));
  await eventually(() => assert.equal(translation!.result.snapshot.clusters.some((c) => c.name === 'shop/web'), false));
  const web = translation!.result.results.find((r) => r.kind === 'Backend' && r.name === 'web')!;
  assert.match(web.conditions.find((c) => c.type === 'ResolvedRefs')!.message, /Service "web" not found/);
});

test('a provider started before the CRDs exist waits, unsynced, restarting with backoff, until they are applied', async () => {
  const fresh = await startKubeApiServer();
  const kc = new KubeConfig();
  kc.loadFromString(fresh.kubeconfig());
  const early = new KubernetesProvider({ kubeConfig: kc, holdoffMs: 10, maxHoldoffMs: 100, backoff: { initialMs: 20, maxMs: 100 } });
  const failures: string[] = [];
  early.onRestart((kind, err) => failures.push(`${kind}: ${err.message}`));
  const seen: World[] = [];
  early.onChange((w) => seen.push(w));
  try {
    early.start();
    await eventually(() => assert.ok(failures.some((f) => f.startsWith('Frontend: list /apis/switchyard.dev/v1alpha1/frontends: HTTP 404'))));
    assert.equal(early.synced, false);
    assert.equal(seen.length, 0, 'no world from a partial view');
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const crdDir = join(REPO_ROOT, 'crds');
    for (const file of (await readdir(crdDir)).filter((f) => f.endsWith('.yaml')).sort()) {
      for (const doc of parseAllDocuments(await readFile(join(crdDir, file), 'utf8'))) {
        await ext.createCustomResourceDefinition({ body: doc.toJS() as V1CustomResourceDefinition });
      }
    }
    await eventually(() => assert.equal(early.synced, true));
    await eventually(() => assert.equal(seen.length, 1));
    assert.deepEqual(seen[0]!.objects, []);
  } finally {
    await early.stop();
    await fresh.close();
  }
});
