/**
 * Status, Events and the fleet view against the Kubernetes API emulator, through client-node:
 * the CRDs from crds/ applied with kubectl, a Backend and a Frontend, the StatusWriter with a fake
 * fleet (conditions with observedGeneration, lastTransitionTime, servers, printer columns as
 * kubectl shows them, `kubectl wait --for=condition=Programmed`), a real 409 from a concurrent
 * writer, Events deduplicated by count, and FleetReporter/FleetView through real Leases across two
 * in-process replicas.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { computeStatuses } from '../../controller/src/status/compute.ts';
import { EventRecorder, kubeEventClient } from '../../controller/src/status/event-recorder.ts';
import { kubeStatusClient } from '../../controller/src/status/status-client.ts';
import type { KubeObject, StatusClient } from '../../controller/src/status/status-client.ts';
import { StatusPipeline } from '../../controller/src/status/status-pipeline.ts';
import { StatusWriter } from '../../controller/src/status/status-writer.ts';
import { FleetReporter } from '../../controller/src/fleet/fleet-reporter.ts';
import { FleetView } from '../../controller/src/fleet/fleet-view.ts';
import { kubeLeaseClient } from '../../controller/src/fleet/lease-client.ts';
import { dataplane, FakeLocalFleet } from '../../controller/src/fleet/testing/fake-local-fleet.ts';
import type { DataplaneStatus } from '../../controller/src/channel/fleet.ts';
import type { ResourceResult } from '../../controller/src/translator/types.ts';
import { cacheOf, cluster, result, server, versioned } from '../../controller/src/status/testing/builders.ts';
import { REPO_ROOT } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { kubeTools } from '../helpers/kubectl.ts';
import type { KubeTools } from '../helpers/kubectl.ts';
import { startKubeApiServer } from '../kube-apiserver/index.ts';
import type { KubeApiServer } from '../kube-apiserver/index.ts';

const MANIFEST = (retries: number) => `
apiVersion: switchyard.dev/v1alpha1
kind: Backend
metadata: { name: app, namespace: default }
spec:
  mode: http
  balance: leastconn
  retries: ${retries}
  servers:
    - { name: s1, address: 127.0.0.1, port: 9001 }
    - { name: s2, address: 127.0.0.1, port: 9002 }
    - { name: s3, address: 127.0.0.1, port: 9003 }
---
apiVersion: switchyard.dev/v1alpha1
kind: Frontend
metadata: { name: web, namespace: default }
spec:
  mode: http
  binds: [{ address: 127.0.0.1, port: 8080 }]
  defaultBackend: { name: app }
`;

const APP = { kind: 'Backend', namespace: 'default', name: 'app' };
const WEB = { kind: 'Frontend', namespace: 'default', name: 'web' };

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

let api: KubeApiServer;
let tools: KubeTools;
let kc: KubeConfig;
let objects: StatusClient;

before(async () => {
  api = await startKubeApiServer();
  tools = await kubeTools(api);
  kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig());
  objects = kubeStatusClient(kc);
  await tools.kubectlOk(['apply', '-f', join(REPO_ROOT, 'crds')]);
  await tools.kubectlOk(['wait', '--for=condition=Established', 'crd/backends.switchyard.dev', 'crd/frontends.switchyard.dev', '--timeout=20s']);
  await tools.kubectlOk(['apply', '-f', '-'], { input: MANIFEST(3) });
});

after(async () => {
  await tools?.cleanup();
  await api?.close();
});

async function read(ref: typeof APP): Promise<KubeObject> {
  return objects.get(ref);
}

function conditionsOf(o: KubeObject): Cond[] {
  return ((o.status as { conditions?: Cond[] } | undefined)?.conditions ?? []) as Cond[];
}

function condition(o: KubeObject, type: string): Cond | undefined {
  return conditionsOf(o).find((c) => c.type === type);
}

describe('StatusWriter against the API emulator', () => {
  const V1 = '1111111111111111';
  const V2 = '2222222222222222';
  const appCluster = cluster('default/app', [server('s1'), server('s2'), server('s3')]);
  const v1 = versioned(V1, { 'Backend/default/app': 1, 'Frontend/default/web': 1 }, [appCluster]);
  const v2 = versioned(V2, { 'Backend/default/app': 2, 'Frontend/default/web': 1 }, [appCluster]);
  const cache = cacheOf(v1, v2);
  const health = (states: Record<string, 'up' | 'down' | 'maint'>) =>
    Object.entries(states).map(([s, state]) => ({ cluster: 'default/app', server: s, state, reason: state === 'down' ? 'L4CON: connection refused' : '' }));
  const results = (appGeneration: number): ResourceResult[] => [result('Backend', 'app', appGeneration), result('Frontend', 'web', 1)];

  const term = new AbortController();
  let recorder: EventRecorder;
  let writer: StatusWriter;
  after(() => term.abort());

  it('writes Accepted, ResolvedRefs and Programmed with observedGeneration, and Backend servers; kubectl shows them', async () => {
    recorder = new EventRecorder({ client: kubeEventClient(kc, objects), instance: 'ctrl-test' });
    writer = new StatusWriter({ client: objects, events: recorder });
    recorder.start(term.signal);
    writer.start(term.signal);
    const fleet: DataplaneStatus[] = [
      dataplane('dp-a', { ackedVersion: V1, health: health({ s1: 'up', s2: 'up', s3: 'down' }) }),
      dataplane('dp-b', { ackedVersion: V1, health: health({ s1: 'up', s2: 'maint', s3: 'up' }) }),
    ];
    writer.update(computeStatuses({ results: results(1), current: v1, cache, fleet }));
    await writer.idle();

    const app = await read(APP);
    assert.deepEqual(
      conditionsOf(app).map((c) => [c.type, c.status, c.observedGeneration, c.reason, c.message]),
      [
        ['Accepted', 'True', 1, 'Accepted', 'valid'],
        ['ResolvedRefs', 'True', 1, 'ResolvedRefs', 'all references resolved'],
        ['Programmed', 'True', 1, 'Programmed', '2/2 data planes'],
      ],
    );
    assert.match(conditionsOf(app)[0]!.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual((app.status as { servers: unknown }).servers, { total: 3, up: 1, down: 1, maintenance: 1 });
    assert.equal(app.metadata?.generation, 1, 'a status write does not bump generation');

    await tools.kubectlOk(['wait', '--for=condition=Programmed', 'backend/app', 'frontend/web', '--timeout=10s']);
    const table = await tools.kubectlOk(['get', 'backends']);
    assert.match(table, /NAME\s+MODE\s+BALANCE\s+SERVERS\s+UP\s+ACCEPTED\s+PROGRAMMED\s+AGE/);
    assert.match(table, /\napp\s+http\s+leastconn\s+3\s+1\s+True\s+True\s+\S+/);
    const wide = await tools.kubectlOk(['get', 'frontends', '-o', 'wide']);
    assert.match(wide, /DATA PLANES/);
    assert.match(wide, /\nweb\s+http\s+8080\s+app\s+.*True\s+True\s+.*2\/2 data planes/);
  });

  it('a spec edit: Programmed follows the new generation, keeping lastTransitionTime of unchanged conditions', async () => {
    const before = await read(APP);
    await tools.kubectlOk(['apply', '-f', '-'], { input: MANIFEST(5) });
    const edited = await read(APP);
    assert.equal(edited.metadata?.generation, 2);
    // The data planes still run v1; dp-b NACKs v2.
    const fleet = [
      dataplane('dp-a', { ackedVersion: V1 }),
      dataplane('dp-b', { ackedVersion: V1, nack: { version: V2, error: 'cluster default/app: too many retries' } }),
    ];
    writer.update(computeStatuses({ results: results(2), current: v2, cache, fleet }));
    await writer.idle();
    const app = await read(APP);
    const programmed = condition(app, 'Programmed')!;
    assert.deepEqual([programmed.status, programmed.observedGeneration, programmed.reason], ['False', 2, 'Rejected']);
    assert.equal(programmed.message, 'dp-b rejected version 22222222…: cluster default/app: too many retries');
    assert.equal(condition(app, 'Accepted')!.observedGeneration, 2);
    assert.equal(condition(app, 'Accepted')!.lastTransitionTime, condition(before, 'Accepted')!.lastTransitionTime);

    writer.update(computeStatuses({ results: results(2), current: v2, cache, fleet: [dataplane('dp-a', { ackedVersion: V2 }), dataplane('dp-b', { ackedVersion: V2 })] }));
    await writer.idle();
    const done = condition(await read(APP), 'Programmed')!;
    assert.deepEqual([done.status, done.observedGeneration, done.message], ['True', 2, '2/2 data planes']);
  });

  it('retries a real 409 from a concurrent writer with a fresh read, keeping the other write', async () => {
    let raced = false;
    const racing: StatusClient = {
      async get(ref) {
        const o = await objects.get(ref);
        if (!raced && ref.name === 'app') {
          raced = true;
          // Another client changes the object between our read and our write.
          await tools.kubectlOk(['label', 'backend', 'app', 'team=payments']);
        }
        return o;
      },
      replaceStatus: (ref, o) => objects.replaceStatus(ref, o),
    };
    const w = new StatusWriter({ client: racing });
    const t = new AbortController();
    w.start(t.signal);
    w.update(computeStatuses({ results: results(2), current: v2, cache, fleet: [dataplane('dp-a', { ackedVersion: V2 })] }));
    await w.idle();
    t.abort();
    assert.equal(w.stats.conflicts, 1);
    const app = await read(APP);
    assert.equal(condition(app, 'Programmed')!.message, '1/1 data planes');
    assert.equal((app.metadata?.labels as Record<string, string> | undefined)?.team, 'payments');
  });

  it('an object that is not Accepted gets a Warning Event naming the field, deduplicated by count', async () => {
    const invalid: ResourceResult = {
      ...result('Frontend', 'web', 1),
      conditions: [
        { type: 'Accepted', status: 'False', reason: 'Invalid', message: 'spec.binds[0].port: must be 1-65535, got 0' },
        { type: 'ResolvedRefs', status: 'Unknown', reason: 'Invalid', message: 'references not checked: the object is not accepted' },
      ],
    };
    const fleet = [dataplane('dp-a', { ackedVersion: V2 })];
    writer.update(computeStatuses({ results: [result('Backend', 'app', 2), invalid], current: v2, cache, fleet }));
    await writer.idle();
    await recorder.idle();
    const web = await read(WEB);
    assert.equal(condition(web, 'Accepted')!.status, 'False');
    assert.equal(condition(web, 'Programmed')!.reason, 'Invalid');

    const core = kc.makeApiClient(CoreV1Api);
    const eventsOf = async () =>
      (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.kind=Frontend,involvedObject.name=web,involvedObject.uid=${web.metadata!.uid}` })).items;
    const [event] = await eventsOf();
    assert.ok(event, 'an Event');
    assert.deepEqual([event.type, event.reason, event.message, event.count, event.source?.component, event.reportingComponent], [
      'Warning',
      'Invalid',
      'spec.binds[0].port: must be 1-65535, got 0',
      1,
      'switchyard-controller',
      'switchyard-controller',
    ]);
    assert.equal(event.involvedObject.uid, web.metadata!.uid);

    // Accepted again, then broken the same way again within the window: the same Event, count 2.
    writer.update(computeStatuses({ results: results(2), current: v2, cache, fleet }));
    await writer.idle();
    writer.update(computeStatuses({ results: [result('Backend', 'app', 2), invalid], current: v2, cache, fleet }));
    await writer.idle();
    await recorder.idle();
    const events = await eventsOf();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.count, 2);
    const described = await tools.kubectlOk(['describe', 'frontend', 'web']);
    assert.match(described, /Warning\s+Invalid\s+.*spec\.binds\[0\]\.port: must be 1-65535, got 0/);
  });

  it('never writes for an object that does not exist', async () => {
    const w = new StatusWriter({ client: objects });
    const t = new AbortController();
    w.start(t.signal);
    w.update(computeStatuses({ results: [result('Backend', 'ghost', 1)], current: v2, cache, fleet: [] }));
    await w.idle();
    t.abort();
    assert.deepEqual([w.stats.gone, w.stats.writes, w.pending], [1, 0, 0]);
    const r = await tools.kubectl(['get', 'backend', 'ghost']);
    assert.notEqual(r.code, 0);
  });
});

describe('FleetReporter and FleetView through real Leases', () => {
  it('the leader merges the data planes of two replicas and drops a replica that stops or stops renewing', async () => {
    const leases = kubeLeaseClient(kc, 'default');
    const fleet1 = new FakeLocalFleet([dataplane('dp-a', { replica: 'ctrl-1', ackedVersion: 'v1', updatedAt: Date.now() })]);
    const fleet2 = new FakeLocalFleet([
      dataplane('dp-b', { replica: 'ctrl-2', ackedVersion: 'v1', updatedAt: Date.now(), health: [{ cluster: 'default/app', server: 's1', state: 'down', reason: 'L4TOUT' }] }),
    ]);
    const r1 = new FleetReporter({ client: leases, replica: 'ctrl-1', fleet: fleet1, intervalMs: 1000, debounceMs: 50 });
    const r2 = new FleetReporter({ client: leases, replica: 'ctrl-2', fleet: fleet2, intervalMs: 1000, debounceMs: 50 });
    const view = new FleetView({ client: leases, local: { replica: 'ctrl-1', fleet: fleet1 } });
    let changes = 0;
    view.onChange(() => changes++);
    r1.start();
    r2.start();
    view.start();
    try {
      const nodes = () => view.list().map((d) => `${d.node}@${d.replica}:${d.ackedVersion}`);
      await eventually(() => assert.deepEqual(nodes(), ['dp-a@ctrl-1:v1', 'dp-b@ctrl-2:v1']));
      assert.equal(view.synced, true);
      assert.deepEqual(view.list()[1]!.health, [{ cluster: 'default/app', server: 's1', state: 'down', reason: 'L4TOUT' }]);

      // The Lease as the API server holds it.
      const lease = JSON.parse(await tools.kubectlOk(['get', 'lease', 'switchyard-fleet-ctrl-2', '-o', 'json'])) as {
        metadata: { labels: Record<string, string>; annotations: Record<string, string> };
        spec: { holderIdentity: string; renewTime: string; leaseDurationSeconds: number };
      };
      assert.equal(lease.metadata.labels['switchyard.dev/fleet-report'], 'true');
      assert.equal(lease.spec.holderIdentity, 'ctrl-2');
      assert.equal(lease.spec.leaseDurationSeconds, 3);
      assert.match(lease.spec.renewTime, /\.\d{6}Z$/);
      assert.match(lease.metadata.annotations['switchyard.dev/dataplanes']!, /"notUp":\{"default\/app":\{"s1":"down"\}\}/);

      // A change on the other replica reaches the view through its Lease.
      const before = changes;
      fleet2.set([dataplane('dp-b', { replica: 'ctrl-2', ackedVersion: 'v2', updatedAt: Date.now() }), dataplane('dp-c', { replica: 'ctrl-2', updatedAt: Date.now() })]);
      await eventually(() => assert.deepEqual(nodes(), ['dp-a@ctrl-1:v1', 'dp-b@ctrl-2:v2', 'dp-c@ctrl-2:null']));
      assert.ok(changes > before);

      // A replica that dies without cleaning up: its report expires once it stops renewing.
      await leases.create({
        name: 'switchyard-fleet-ctrl-9',
        labels: { 'switchyard.dev/fleet-report': 'true' },
        annotations: { 'switchyard.dev/dataplanes': JSON.stringify({ v: 1, dataplanes: [{ node: 'dp-z', acked: null, nack: null, updatedAt: 1, notUp: null }] }) },
        holderIdentity: 'ctrl-9',
        leaseDurationSeconds: 1,
        renewTime: `${new Date().toISOString().slice(0, -1)}000Z`,
      });
      await eventually(() => assert.ok(nodes().includes('dp-z@ctrl-9:null')));
      await eventually(() => assert.ok(!nodes().includes('dp-z@ctrl-9:null')));

      // A replica that stops cleanly deletes its Lease: its data planes go at once.
      await r2.stop();
      await eventually(() => assert.deepEqual(nodes(), ['dp-a@ctrl-1:v1']));
      const gone = await tools.kubectl(['get', 'lease', 'switchyard-fleet-ctrl-2']);
      assert.notEqual(gone.code, 0);

      // A watch the server ends is resumed.
      api.closeWatches();
      fleet2.set([dataplane('dp-d', { replica: 'ctrl-2', updatedAt: Date.now() })]);
      r2.start();
      await eventually(() => assert.deepEqual(nodes(), ['dp-a@ctrl-1:v1', 'dp-d@ctrl-2:null']));
    } finally {
      await r2.stop();
      await r1.stop();
      await view.stop();
    }
  });
});

describe('the leader loop: StatusPipeline over a FleetView of two replicas', () => {
  it('Programmed counts the data planes of both replicas, and names the one that NACKs', async () => {
    const V3 = '3333333333333333';
    const V4 = '4444444444444444';
    const app = await read(APP);
    const generation = app.metadata!.generation!;
    const appCluster = cluster('default/app', [server('s1'), server('s2'), server('s3')]);
    const v3 = versioned(V3, { 'Backend/default/app': generation - 1 }, [appCluster]);
    const v4 = versioned(V4, { 'Backend/default/app': generation }, [appCluster]);
    const cache = cacheOf(v3, v4);
    const leases = kubeLeaseClient(kc, 'default');
    const local = new FakeLocalFleet([dataplane('dp-a', { replica: 'ctrl-1', ackedVersion: V4, updatedAt: Date.now() })]);
    const remote = new FakeLocalFleet([dataplane('dp-b', { replica: 'ctrl-2', ackedVersion: V3, updatedAt: Date.now() })]);
    const reporter = new FleetReporter({ client: leases, replica: 'ctrl-2', fleet: remote, intervalMs: 1000, debounceMs: 50 });
    const view = new FleetView({ client: leases, local: { replica: 'ctrl-1', fleet: local }, snapshots: cache });
    const writer = new StatusWriter({ client: objects });
    const pipeline = new StatusPipeline({ writer, fleet: view, cache, holdoffMs: 20 });
    const term = new AbortController();
    reporter.start();
    view.start();
    try {
      pipeline.setTranslation([result('Backend', 'app', generation)], v4);
      pipeline.start(term.signal);
      const programmed = async () => condition(await read(APP), 'Programmed');
      await eventually(async () => assert.equal((await programmed())?.message, '1/2 data planes; waiting for dp-b'));

      remote.set([dataplane('dp-b', { replica: 'ctrl-2', ackedVersion: V3, nack: { version: V4, error: 'cluster default/app: EMFILE' }, updatedAt: Date.now() })]);
      await eventually(async () => assert.equal((await programmed())?.message, 'dp-b rejected version 44444444…: cluster default/app: EMFILE'));

      remote.set([dataplane('dp-b', { replica: 'ctrl-2', ackedVersion: V4, updatedAt: Date.now() })]);
      await eventually(async () => {
        const p = await programmed();
        assert.deepEqual([p?.status, p?.observedGeneration, p?.message], ['True', generation, '2/2 data planes']);
      });
    } finally {
      term.abort();
      await reporter.stop();
      await view.stop();
    }
  });
});
