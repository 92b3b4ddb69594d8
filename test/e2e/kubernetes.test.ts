/**
 * Switchyard on Kubernetes, end to end, every part a separate process: the API server emulator,
 * two controller replicas and two data planes, each data plane in its own network namespace (as
 * two pods are), so both bind the same Frontend port. Everything is driven with kubectl.
 *
 * The story, in order (each step builds on the last):
 *   traffic flows to the right servers -> editing a Backend reprograms both data planes and
 *   Programmed follows the generation -> an invalid Frontend is Accepted=False naming the field
 *   while the rest serves -> a data plane that NACKs is named in status -> scaling a Service's
 *   endpoints changes who gets traffic -> killing the leader moves leadership and status keeps
 *   updating -> stopping every controller leaves traffic flowing.
 */
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { curl, REPO_ROOT, spawnCli, tempDir, type CliProcess } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { startHttpServer, type FakeHttpServer } from '../helpers/fake-upstream.ts';
import { kubeTools } from '../helpers/kubectl.ts';
import { canCreateNetNamespaces, createNetNamespace, type NetNamespace } from '../helpers/netns.ts';

const TOKEN = 'e2e-channel-token-0123456789';
const LEASE = 'switchyard-controller';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
interface KubeObject {
  metadata: { name: string; generation?: number };
  status?: { conditions?: Condition[]; servers?: { total: number; up: number; down: number; maintenance: number } };
}

test('Switchyard on Kubernetes: controllers, data planes, status and failover', { skip: !canCreateNetNamespaces() && 'needs root and iproute2 for network namespaces', timeout: 300_000 }, async (t) => {
  const tmp = await tempDir('swy-e2e-');
  const cleanups: (() => Promise<void> | void)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c();
    await tmp.remove();
  });

  // --- The cluster: the emulator as its own process, CRDs and the channel token Secret.
  const kubeconfigPath = join(tmp.path, 'kubeconfig');
  const apiserver = spawn(process.execPath, [join(REPO_ROOT, 'test/kube-apiserver/main.ts'), '--port', '0', '--kubeconfig', kubeconfigPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => stopChild(apiserver));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    apiserver.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (out.includes('kube-apiserver listening on')) resolve();
    });
    apiserver.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
  const kube = await kubeTools({ writeKubeconfig: (path) => copyFile(kubeconfigPath, path) });
  cleanups.push(() => kube.cleanup());
  await kube.kubectlOk(['apply', '-f', join(REPO_ROOT, 'crds')]);
  await kube.kubectlOk(['apply', '-f', '-'], {
    input: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"switchyard-channel","namespace":"default"},"stringData":{"token":"${TOKEN}"}}`,
  });

  // --- Two "pods" for the data planes, and upstream servers on the host.
  const nsA = createNetNamespace('a');
  cleanups.push(() => nsA.destroy());
  const nsB = createNetNamespace('b');
  cleanups.push(() => nsB.destroy());
  const host = nsA.hostAddress; // reachable from both namespaces (their default route is the host)
  const upstreams: FakeHttpServer[] = [];
  for (const name of ['s1', 's2', 's3', 'e1', 'e2']) {
    const u = await startHttpServer(name, { host: '0.0.0.0' });
    upstreams.push(u);
    cleanups.push(() => u.stop());
  }
  const [s1, s2, s3, e1, e2] = upstreams as [FakeHttpServer, FakeHttpServer, FakeHttpServer, FakeHttpServer, FakeHttpServer];

  // --- Two controller replicas with short leader-election timings.
  const startController = (name: string): CliProcess => {
    const p = spawnCli([
      'controller',
      '--kubeconfig', kubeconfigPath,
      '--name', name,
      '--namespace', 'default',
      '--listen', '0.0.0.0:0',
      '--admin-listen', '127.0.0.1:0',
      '--token-secret', 'default/switchyard-channel',
      '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '500ms',
      '--log-level', 'info',
    ]);
    cleanups.push(() => p.kill());
    return p;
  };
  const controllers = new Map<string, CliProcess>([
    ['ctrl-a', startController('ctrl-a')],
    ['ctrl-b', startController('ctrl-b')],
  ]);
  const channelPorts: number[] = [];
  for (const [name, p] of controllers) {
    const line = await eventually(() => {
      const l = p.logs().find((x) => x.msg === 'controller listening');
      assert.ok(l, `${name} is not listening yet:\n${p.stderr()}${p.stdout().slice(-2000)}`);
      return l;
    }, { timeoutMs: 30_000 });
    channelPorts.push(Number(String(line.channel).split(':').pop()));
  }

  // --- Two data planes, each in its namespace, knowing both controllers.
  const tokenFile = join(tmp.path, 'token');
  await writeFile(tokenFile, TOKEN + '\n');
  const controllerUrls = channelPorts.map((port) => `ws://${host}:${port}`).join(',');
  const startDataplane = (name: string, ns: NetNamespace): CliProcess => {
    const p = spawnCli(['dataplane', '--controller', controllerUrls, '--token-file', tokenFile, '--name', name, '--log-level', 'info'], { prefix: ns.exec });
    cleanups.push(() => p.kill());
    return p;
  };
  const dpA = startDataplane('dp-a', nsA);
  const dpB = startDataplane('dp-b', nsB);
  void dpA;

  const apply = (yaml: string): Promise<string> => kube.kubectlOk(['apply', '-f', '-'], { input: yaml });
  const get = async (kind: string, name: string): Promise<KubeObject> => JSON.parse(await kube.kubectlOk(['get', kind, name, '-o', 'json'])) as KubeObject;
  const condition = (o: KubeObject, type: string): Condition | undefined => o.status?.conditions?.find((c) => c.type === type);
  /** Waits until `kind/name` is Programmed=True for its current generation on both data planes. */
  const programmed = (kind: string, name: string, timeoutMs = 30_000): Promise<KubeObject> =>
    eventually(async () => {
      const o = await get(kind, name);
      const c = condition(o, 'Programmed');
      assert.equal(c?.status, 'True', `${kind}/${name} Programmed: ${JSON.stringify(c)}`);
      assert.equal(c?.observedGeneration, o.metadata.generation);
      assert.match(c?.message ?? '', /2\/2 data planes/);
      return o;
    }, { timeoutMs, intervalMs: 250 });
  /** Names of the servers answering `n` requests through one data plane. */
  const servedBy = async (ns: NetNamespace, port: number, n = 12): Promise<Set<string>> => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const r = await curl(`http://${ns.address}:${port}/`);
      assert.equal(r.status, 200, `via ${ns.name}:${port}: ${r.status} ${r.stderr}${r.body}`);
      seen.add(r.body.trim());
    }
    return seen;
  };
  const backendYaml = (servers: FakeHttpServer[]): string => `
apiVersion: switchyard.dev/v1alpha1
kind: Backend
metadata: { name: web, namespace: default }
spec:
  mode: http
  balance: roundrobin
  healthPolicyRef: { name: web-health }
  servers:
${servers.map((s) => `    - { name: ${s.name}, address: ${host}, port: ${s.port} }`).join('\n')}
`;

  await t.test('traffic flows to the right backends through both data planes', async () => {
    await apply(`
apiVersion: switchyard.dev/v1alpha1
kind: HealthPolicy
metadata: { name: web-health, namespace: default }
spec:
  interval: 500ms
  rise: 1
  fall: 2
  http: { path: /healthz }
---
apiVersion: switchyard.dev/v1alpha1
kind: Frontend
metadata: { name: web, namespace: default }
spec:
  mode: http
  binds: [{ address: 0.0.0.0, port: 8080 }]
  defaultBackend: { name: web }
---${backendYaml([s1, s2])}`);
    // What an operator types: kubectl wait on the condition the leader writes.
    await kube.kubectlOk(['wait', '--for=condition=Programmed', 'frontend/web', 'backend/web', 'healthpolicy/web-health', '--timeout=60s']);
    await programmed('frontend', 'web');
    await programmed('backend', 'web');
    for (const ns of [nsA, nsB]) {
      await eventually(async () => assert.deepEqual([...(await servedBy(ns, 8080))].sort(), ['s1', 's2']), { timeoutMs: 15_000 });
    }
    const backend = await eventually(async () => {
      const o = await get('backend', 'web');
      assert.deepEqual(o.status?.servers, { total: 2, up: 2, down: 0, maintenance: 0 });
      return o;
    }, { timeoutMs: 15_000, intervalMs: 250 });
    assert.equal(condition(backend, 'Accepted')?.status, 'True');
    const table = await kube.kubectlOk(['get', 'frontends,backends']);
    assert.match(table, /web/);
  });

  await t.test('editing a Backend reprograms both data planes and Programmed follows the generation', async () => {
    const before = await get('backend', 'web');
    await apply(backendYaml([s1, s2, s3]));
    const after = await programmed('backend', 'web');
    assert.ok(after.metadata.generation! > before.metadata.generation!);
    for (const ns of [nsA, nsB]) {
      await eventually(async () => assert.ok((await servedBy(ns, 8080)).has('s3')), { timeoutMs: 15_000 });
    }
  });

  await t.test('an invalid Frontend is Accepted=False naming the field while the others keep serving', async () => {
    await apply(`
apiVersion: switchyard.dev/v1alpha1
kind: Frontend
metadata: { name: clash, namespace: default }
spec:
  mode: http
  binds: [{ address: 0.0.0.0, port: 8080 }]
  defaultBackend: { name: web }
`);
    const clash = await eventually(async () => {
      const o = await get('frontend', 'clash');
      assert.equal(condition(o, 'Accepted')?.status, 'False');
      return o;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    assert.match(condition(clash, 'Accepted')!.message, /spec\.binds\[0\]/);
    assert.equal(condition(clash, 'Programmed')?.status, 'False');
    const events = await kube.kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=clash', '-o', 'json']);
    assert.ok((JSON.parse(events) as { items: unknown[] }).items.length > 0, 'an Event records the rejection');
    await programmed('frontend', 'web');
    assert.equal((await servedBy(nsB, 8080, 6)).size > 0, true);
    await kube.kubectlOk(['delete', 'frontend', 'clash']);
  });

  await t.test('a data plane that NACKs is named in status', async () => {
    // Port 9090 is taken inside dp-b's namespace only, so dp-b cannot bind it and must refuse the snapshot.
    const blocker = spawn('ip', ['netns', 'exec', nsB.name, process.execPath, '-e', "require('net').createServer().listen(9090, '0.0.0.0', () => console.log('bound'))"], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => stopChild(blocker));
    await new Promise<void>((resolve) => blocker.stdout!.once('data', () => resolve()));
    await apply(`
apiVersion: switchyard.dev/v1alpha1
kind: Frontend
metadata: { name: blocked, namespace: default }
spec:
  mode: http
  binds: [{ address: 0.0.0.0, port: 9090 }]
  defaultBackend: { name: web }
`);
    const blocked = await eventually(async () => {
      const o = await get('frontend', 'blocked');
      const c = condition(o, 'Programmed');
      assert.equal(c?.status, 'False');
      assert.equal(c?.reason, 'Rejected');
      return c!;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    assert.match(blocked.message, /dp-b/);
    assert.match(blocked.message, /EADDRINUSE|9090/);
    assert.doesNotMatch(blocked.message, /dp-a rejected/);
    assert.ok((await servedBy(nsA, 9090, 3)).size > 0, 'dp-a serves the new Frontend');
    // dp-b keeps serving its last good snapshot.
    assert.ok((await servedBy(nsB, 8080, 3)).size > 0);
    await kube.kubectlOk(['delete', 'frontend', 'blocked']);
    await stopChild(blocker);
    await programmed('frontend', 'web');
  });

  await t.test("scaling a Service's endpoints changes the servers that receive traffic", async () => {
    // The two fake endpoints share the host address and differ by port: one slice each, as an
    // endpoints controller writes for pods whose target ports differ.
    const sliceFor = (name: string, server: FakeHttpServer): string => `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}
  namespace: default
  labels: { kubernetes.io/service-name: api }
addressType: IPv4
ports: [{ name: http, port: ${server.port}, protocol: TCP }]
endpoints:
  - { addresses: ["${host}"], conditions: { ready: true } }
`;
    await apply(`
apiVersion: v1
kind: Service
metadata: { name: api, namespace: default }
spec:
  ports: [{ name: http, port: 80, protocol: TCP }]
---${sliceFor('api-1', e1)}
---
apiVersion: switchyard.dev/v1alpha1
kind: Backend
metadata: { name: api, namespace: default }
spec:
  mode: http
  serviceRef: { name: api, port: http }
---
apiVersion: switchyard.dev/v1alpha1
kind: Frontend
metadata: { name: api, namespace: default }
spec:
  mode: http
  binds: [{ address: 0.0.0.0, port: 8081 }]
  defaultBackend: { name: api }
`);
    await programmed('backend', 'api');
    for (const ns of [nsA, nsB]) await eventually(async () => assert.deepEqual([...(await servedBy(ns, 8081, 6))], ['e1']), { timeoutMs: 15_000 });
    await apply(sliceFor('api-2', e2));
    for (const ns of [nsA, nsB]) {
      await eventually(async () => assert.deepEqual([...(await servedBy(ns, 8081, 8))].sort(), ['e1', 'e2']), { timeoutMs: 15_000 });
    }
    await kube.kubectlOk(['delete', 'endpointslice', 'api-1']);
    for (const ns of [nsA, nsB]) await eventually(async () => assert.deepEqual([...(await servedBy(ns, 8081, 6))], ['e2']), { timeoutMs: 15_000 });
  });

  await t.test('killing the leader moves leadership and status keeps updating', async () => {
    const holder = async (): Promise<string> => (await kube.kubectlOk(['get', 'lease', LEASE, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
    const leader = await eventually(async () => {
      const h = await holder();
      assert.ok(controllers.has(h), `lease holder "${h}"`);
      return h;
    });
    await controllers.get(leader)!.kill(); // SIGKILL: no release, the survivor must wait for expiry
    controllers.delete(leader);
    const survivor = [...controllers.keys()][0]!;
    await eventually(async () => assert.equal(await holder(), survivor), { timeoutMs: 30_000, intervalMs: 250 });
    // Data planes that were on the dead replica reconnect to the survivor; status keeps following.
    const before = await get('backend', 'web');
    await apply(backendYaml([s2, s3]));
    const after = await programmed('backend', 'web', 45_000);
    assert.ok(after.metadata.generation! > before.metadata.generation!);
    for (const ns of [nsA, nsB]) await eventually(async () => assert.ok(!(await servedBy(ns, 8080)).has('s1')), { timeoutMs: 15_000 });
  });

  await t.test('stopping every controller leaves traffic flowing', async () => {
    for (const p of controllers.values()) await p.stop('SIGTERM');
    for (const ns of [nsA, nsB]) {
      assert.deepEqual([...(await servedBy(ns, 8080))].sort(), ['s2', 's3']);
      assert.deepEqual([...(await servedBy(ns, 8081, 4))], ['e2']);
    }
    assert.equal(dpB.exit(), null, 'data planes keep running without a controller');
  });
});

async function stopChild(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

