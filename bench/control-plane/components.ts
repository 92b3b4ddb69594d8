/**
 * Where a change's controller time goes, step by step, measured in this process on the same
 * objects the controller watched (listed from the API server): the product's own modules, called
 * in the order the controller calls them for one change (controller/src/controller.ts):
 *
 *   Store.upsert + build (the provider's world)  ->  retranslate  ->  SnapshotCache.publish
 *   (canonical-JSON hash, structuredClone, deep freeze)  ->  encodePush (JSON.stringify, once per
 *   snapshot; each stream then sends those bytes inside its own envelope)
 *
 * Not here: watch decoding, the coalescer's holdoff (a timer, 50 ms), the websocket sends and
 * the status work after the ACKs; the controller's CPU profile (--cpu-prof) shows those.
 */
import { ConditionType } from '@switchyard/api';
import { canonicalJson, retranslate, SnapshotCache, objectKey, type ResourceResult, type Translation, type VersionedSnapshot } from '@switchyard/controller';
import { encodePush } from '../../controller/src/channel/stream.ts';
import { Store } from '../../controller/src/provider/kubernetes/store.ts';
import { sliceEndpoints, type KubeClient, type Layout } from './cluster.ts';
import { distribution, type Distribution } from './stats.ts';

export interface StepTimes {
  /** Store.upsert of the changed object + Store.build (a new world). */
  world: Distribution | null;
  retranslate: Distribution | null;
  /** SnapshotCache.publish: hash of the canonical JSON, structuredClone, deep freeze. */
  publish: Distribution | null;
  /** encodePush of the new snapshot (its JSON.stringify). */
  encode: Distribution | null;
}

export interface Components {
  /** The first translation of the whole world (startup). */
  firstTranslateMs: number;
  firstPublishMs: number;
  firstEncodeMs: number;
  /** Translation mode seen for each kind of change (`full` or `endpoints`). */
  modes: { backend: string; endpoints: string };
  backend: StepTimes;
  endpoints: StepTimes;
  /** Snapshot JSON length, bytes. */
  snapshotBytes: number;
  /**
   * Heap the SnapshotCache holds per published version (its deep-frozen structuredClone of the
   * snapshot, plus the push JSON encodePush keeps for it), measured by dropping the cache between
   * two full GCs; null when this process runs without --expose-gc.
   */
  cacheRetained: { versions: number; perVersionMiB: number } | null;
  /** Inside SnapshotCache.publish, on the last snapshot (median of 5): canonicalJson for the version hash, and structuredClone. */
  publishParts: { canonicalJsonMs: number; structuredCloneMs: number };
  iterations: number;
}

interface Listed {
  items: Record<string, unknown>[];
}

const crd = (plural: string): string => `/apis/switchyard.dev/v1alpha1/${plural}`;

/** `Kind/namespace/name` -> generation of every Accepted object (controller.ts `contentsOf`). */
function contentsOf(results: readonly ResourceResult[]): Map<string, number | null> {
  const contents = new Map<string, number | null>();
  for (const r of results) {
    const accepted = r.conditions.find((c) => c.type === ConditionType.Accepted);
    if (accepted?.status === 'True') contents.set(objectKey(r.kind, r.namespace, r.name), r.generation);
  }
  return contents;
}

function time<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const value = fn();
  return [value, performance.now() - start];
}

export async function measureComponents(kube: KubeClient, layout: Layout, iterations: number): Promise<Components> {
  const store = new Store();
  const lists: [string, 'Frontend' | 'Backend' | 'HealthPolicy' | 'Service' | 'EndpointSlice'][] = [
    [crd('frontends'), 'Frontend'],
    [crd('backends'), 'Backend'],
    [crd('healthpolicies'), 'HealthPolicy'],
    ['/api/v1/services', 'Service'],
    ['/apis/discovery.k8s.io/v1/endpointslices', 'EndpointSlice'],
  ];
  let backends: Record<string, unknown>[] = [];
  let slice: Record<string, unknown> | null = null;
  for (const [path, kind] of lists) {
    const list = (await kube.request('GET', path)) as Listed;
    for (const item of list.items) store.upsert(kind, item);
    if (kind === 'Backend') backends = list.items;
    if (kind === 'EndpointSlice') slice = list.items.find((s) => (s.metadata as { name?: string }).name !== undefined) ?? null;
  }
  if (slice === null) throw new Error('no EndpointSlice listed');

  let cache: SnapshotCache | null = new SnapshotCache({ keep: 16 });
  let nonce = 0;
  const world0 = store.build()!;
  const [first, firstTranslateMs] = time(() => retranslate(null, { objects: world0.objects, endpoints: world0.endpoints }));
  // In a function of its own, so that nothing here keeps the first version alive for the heap measurement.
  const { firstPublishMs, firstEncodeMs, snapshotBytes } = ((): { firstPublishMs: number; firstEncodeMs: number; snapshotBytes: number } => {
    const [published, publishMs] = time(() => cache!.publish(first.result.snapshot, contentsOf(first.result.results)));
    const [fragments, encodeMs] = time(() => encodePush(published!, String(nonce++)));
    return { firstPublishMs: publishMs, firstEncodeMs: encodeMs, snapshotBytes: fragments.reduce((n, b) => n + b.length, 0) };
  })();

  let translation: Translation = first;
  const modes = { backend: '', endpoints: '' };
  const samples = {
    backend: { world: [] as number[], retranslate: [] as number[], publish: [] as number[], encode: [] as number[] },
    endpoints: { world: [] as number[], retranslate: [] as number[], publish: [] as number[], encode: [] as number[] },
  };
  const staticBackends = backends.filter((b) => Array.isArray((b.spec as { servers?: unknown[] }).servers) && ((b.spec as { servers: unknown[] }).servers.length > 0));
  // Values the API server does not hold already (the run changed some), so every upsert is a change.
  let sliceCount = ((slice as { endpoints?: unknown[] }).endpoints ?? []).length;
  for (let r = 0; r < iterations; r++) {
    for (const kind of ['backend', 'endpoints'] as const) {
      let changed: Record<string, unknown>;
      let storeKind: 'Backend' | 'EndpointSlice';
      if (kind === 'backend') {
        const original = staticBackends[(r * 37) % staticBackends.length]!;
        const spec = original.spec as { servers: { weight?: number }[] };
        const j = r % spec.servers.length;
        const weight = spec.servers[j]!.weight === 250 ? 251 : 250;
        const servers = spec.servers.map((s, k) => (k === j ? { ...s, weight } : s));
        const meta = original.metadata as { generation?: number };
        changed = { ...original, metadata: { ...meta, generation: (meta.generation ?? 1) + 1 + r }, spec: { ...spec, servers } };
        storeKind = 'Backend';
      } else {
        sliceCount = sliceCount === layout.servers ? layout.servers + 1 : layout.servers;
        changed = { ...slice!, endpoints: sliceEndpoints(sliceCount) };
        storeKind = 'EndpointSlice';
      }
      const [world, worldMs] = time(() => {
        store.upsert(storeKind, changed);
        return store.build();
      });
      if (world === null) throw new Error(`the ${kind} change made no new world`);
      if (kind === 'backend') staticBackends[(r * 37) % staticBackends.length] = changed;
      else slice = changed;
      const [next, retranslateMs] = time(() => retranslate(translation, { objects: world.objects, endpoints: world.endpoints }));
      translation = next;
      modes[kind] = next.stats.mode;
      const [published, publishMs] = time(() => cache!.publish(next.result.snapshot, contentsOf(next.result.results)));
      const [, encodeMs] = time(() => (published ? encodePush(published as VersionedSnapshot, String(nonce++)) : ''));
      const s = samples[kind];
      s.world.push(worldMs);
      s.retranslate.push(retranslateMs);
      s.publish.push(publishMs);
      s.encode.push(encodeMs);
    }
  }
  const times = (s: (typeof samples)['backend']): StepTimes => ({
    world: distribution(s.world),
    retranslate: distribution(s.retranslate),
    publish: distribution(s.publish),
    encode: distribution(s.encode),
  });
  const last = translation.result;
  const parts = { json: [] as number[], clone: [] as number[] };
  for (let i = 0; i < 5; i++) {
    parts.json.push(time(() => canonicalJson({ snapshot: last.snapshot, contents: [...contentsOf(last.results)] }))[1]);
    parts.clone.push(time(() => structuredClone(last.snapshot))[1]);
  }
  const publishParts = { canonicalJsonMs: distribution(parts.json)!.median, structuredCloneMs: distribution(parts.clone)!.median };

  let cacheRetained: Components['cacheRetained'] = null;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    const versions = cache.versions().length;
    gc();
    const held = process.memoryUsage().heapUsed;
    cache = null;
    gc();
    cacheRetained = { versions, perVersionMiB: (held - process.memoryUsage().heapUsed) / versions / 1024 / 1024 };
  }
  return {
    firstTranslateMs,
    firstPublishMs,
    firstEncodeMs,
    modes,
    backend: times(samples.backend),
    endpoints: times(samples.endpoints),
    snapshotBytes,
    cacheRetained,
    publishParts,
    iterations,
  };
}
