/**
 * The benchmark's cluster contents, written through the Kubernetes API over plain HTTP (fetch with
 * the kubeconfig's bearer token), as kubectl would: the CRDs from crds/, then N Backends with S
 * static servers each, some Frontends pointing at them, and one Backend whose servers come from a
 * Service's EndpointSlice (the provider's endpoint fast path). No health checks: nothing listens
 * on the servers' addresses and no data plane would probe them anyway.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { translate, type ResourceResult } from '@switchyard/controller';

export const NAMESPACE = 'default';
export const SERVICE = 'bench-svc';
export const SLICE = 'bench-svc-slice';
const CRD_BASE = '/apis/switchyard.dev/v1alpha1';

export interface KubeTarget {
  server: string;
  token: string | null;
}

/** The current context's server and token from a kubeconfig file (token users only). */
export function readKubeconfig(path: string): KubeTarget {
  const doc = parse(readFileSync(path, 'utf8')) as {
    'current-context'?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: { name: string; cluster: { server: string } }[];
    users?: { name: string; user: { token?: string } }[];
  };
  const context = doc.contexts?.find((c) => c.name === doc['current-context'])?.context;
  const cluster = doc.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  if (!context || !cluster) throw new Error(`${path}: no current context with a cluster`);
  const user = doc.users?.find((u) => u.name === context.user)?.user;
  return { server: cluster.server.replace(/\/$/, ''), token: user?.token ?? null };
}

export class KubeClient {
  readonly #target: KubeTarget;

  constructor(target: KubeTarget) {
    this.#target = target;
  }

  /** One request; throws on a non-2xx answer with the Status message. */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#target.token) headers.authorization = `Bearer ${this.#target.token}`;
    if (body !== undefined) headers['content-type'] = contentType;
    const res = await fetch(`${this.#target.server}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not a Status
      }
      throw new Error(`${method} ${path}: ${res.status} ${message.slice(0, 500)}`);
    }
    return text === '' ? null : JSON.parse(text);
  }

  create(path: string, obj: unknown): Promise<unknown> {
    return this.request('POST', path, obj);
  }

  jsonPatch(path: string, ops: unknown[]): Promise<unknown> {
    return this.request('PATCH', path, ops, 'application/json-patch+json');
  }

  mergePatch(path: string, patch: unknown): Promise<unknown> {
    return this.request('PATCH', path, patch, 'application/merge-patch+json');
  }
}

export interface Layout {
  /** Backends in all, the last one served from the Service's EndpointSlice. */
  backends: number;
  /** Servers per Backend (static, or endpoints of the slice). */
  servers: number;
  /** Frontends, each the default backend of one Backend, spread over the Backends. */
  frontends: number;
}

export const backendName = (i: number): string => `be-${String(i).padStart(4, '0')}`;
export const frontendName = (i: number): string => `fe-${String(i).padStart(3, '0')}`;
/** The Backend whose servers are the Service's endpoints. */
export const serviceBackendIndex = (layout: Layout): number => layout.backends - 1;
export const clusterName = (i: number): string => `${NAMESPACE}/${backendName(i)}`;
export const backendPath = (i: number): string => `${CRD_BASE}/namespaces/${NAMESPACE}/backends/${backendName(i)}`;
export const slicePath = `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices/${SLICE}`;

/** Server j of static Backend i: 10.(i / 256).(i % 256).(j + 1):8080. */
export function staticServer(i: number, j: number): { name: string; address: string; port: number; weight: number } {
  return { name: `s${j}`, address: `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`, port: 8080, weight: 1 };
}

export function backendObject(i: number, layout: Layout): unknown {
  const spec: Record<string, unknown> =
    i === serviceBackendIndex(layout)
      ? { mode: 'http', balance: 'roundrobin', serviceRef: { name: SERVICE, port: 'http' } }
      : { mode: 'http', balance: 'roundrobin', servers: Array.from({ length: layout.servers }, (_, j) => staticServer(i, j)) };
  return { apiVersion: 'switchyard.dev/v1alpha1', kind: 'Backend', metadata: { name: backendName(i), namespace: NAMESPACE }, spec };
}

/** Frontend k: 127.0.0.1:(20000 + k), default backend spread evenly over the static Backends. */
export function frontendObject(k: number, layout: Layout): unknown {
  const target = Math.floor((k * Math.max(1, layout.backends - 1)) / Math.max(1, layout.frontends));
  return {
    apiVersion: 'switchyard.dev/v1alpha1',
    kind: 'Frontend',
    metadata: { name: frontendName(k), namespace: NAMESPACE },
    spec: { mode: 'http', binds: [{ address: '127.0.0.1', port: 20000 + k }], defaultBackend: { name: backendName(target) } },
  };
}

export function serviceObject(): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: SERVICE, namespace: NAMESPACE },
    spec: { selector: { app: SERVICE }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
}

/** The slice's endpoints: `count` ready addresses 10.250.(k / 250).(k % 250 + 1). */
export function sliceEndpoints(count: number): unknown[] {
  return Array.from({ length: count }, (_, k) => ({
    addresses: [`10.250.${Math.floor(k / 250)}.${(k % 250) + 1}`],
    conditions: { ready: true },
  }));
}

export function sliceObject(count: number): unknown {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: SLICE, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': SERVICE } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: sliceEndpoints(count),
  };
}

/** Applies every CRD in `dir` (POST; the emulator serves them at once). */
export async function applyCrds(kube: KubeClient, dir: string): Promise<number> {
  let n = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const obj = doc.toJS() as unknown;
      if (obj === null) continue;
      await kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', obj);
      n++;
    }
  }
  return n;
}

/** Runs `tasks` with at most `concurrency` in flight. */
export async function pool(tasks: (() => Promise<unknown>)[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
}

/** Creates the Service, its slice, the Backends and the Frontends. */
export async function populate(kube: KubeClient, layout: Layout): Promise<void> {
  await kube.create(`/api/v1/namespaces/${NAMESPACE}/services`, serviceObject());
  await kube.create(`/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`, sliceObject(layout.servers));
  await pool(
    Array.from({ length: layout.backends }, (_, i) => () => kube.create(`${CRD_BASE}/namespaces/${NAMESPACE}/backends`, backendObject(i, layout))),
    8,
  );
  await pool(
    Array.from({ length: layout.frontends }, (_, k) => () => kube.create(`${CRD_BASE}/namespaces/${NAMESPACE}/frontends`, frontendObject(k, layout))),
    8,
  );
}

const accepted = (r: ResourceResult): boolean => r.conditions.some((c) => c.type === 'Accepted' && c.status === 'True');

/** Translates everything the API server holds, in this process, and checks every Backend became a cluster. */
export async function preflight(kube: KubeClient, layout: Layout): Promise<void> {
  const objects: { object: unknown; source: null }[] = [];
  for (const plural of ['frontends', 'backends', 'healthpolicies']) {
    const list = (await kube.request('GET', `${CRD_BASE}/${plural}`)) as { items: unknown[] };
    for (const object of list.items) objects.push({ object, source: null });
  }
  const endpoints = new Map([[`${NAMESPACE}/${SERVICE}`, Array.from({ length: layout.servers }, (_, k) => ({ address: `10.250.0.${k + 1}`, port: 8080, name: 'http', servicePort: 80 }))]]);
  const result = translate({ objects, endpoints });
  const refused = result.results.filter((r) => !accepted(r));
  if (refused.length > 0 || result.snapshot.clusters.length !== layout.backends) {
    const sample = refused.slice(0, 3).map((r) => `${r.kind} ${r.name}: ${r.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
    throw new Error(`preflight: ${result.snapshot.clusters.length} of ${layout.backends} Backends would be served; refused: ${refused.length} (${sample.join(' | ')})`);
  }
}
