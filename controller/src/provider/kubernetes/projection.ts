/**
 * Projections: each watched object cut down to the fields that matter downstream. Change detection
 * compares projections, so status-only writes, resourceVersion and managedFields churn, resync
 * noise and fields nobody reads are dropped at the edge.
 *
 * - Frontend, Backend, HealthPolicy: what the translator reads (identity, generation, spec) plus
 *   the uid, so a deleted and recreated object is a change (its status must be written anew).
 *   The translator reads no labels or annotations; add them here the day it does.
 * - Service: its TCP ports (name -> port), which map EndpointSlice ports to Service ports.
 * - EndpointSlice: the Service it belongs to, and per TCP port the addresses of ready endpoints.
 */
import { API_VERSION } from '@switchyard/api';

export const SWITCHYARD_KINDS = ['Frontend', 'Backend', 'HealthPolicy'] as const;
export type SwitchyardKind = (typeof SWITCHYARD_KINDS)[number];

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ObjectKey {
  namespace: string;
  name: string;
}

/** What the translator receives for a Switchyard object. Frozen. */
export interface ResourceView {
  apiVersion: string;
  kind: SwitchyardKind;
  /** creationTimestamp decides which Frontend keeps a contested port (the oldest). */
  metadata: { namespace: string; name: string; uid: string | undefined; generation: number | undefined; creationTimestamp: string | undefined };
  spec: unknown;
}

export interface ServicePortView {
  /** '' for the single unnamed port. */
  name: string;
  port: number;
}

export interface ServiceView extends ObjectKey {
  /** TCP ports only: Switchyard proxies TCP. */
  ports: ServicePortView[];
}

export interface SlicePortView {
  /** '' for an unnamed port; equals the Service port's name. */
  name: string;
  /** The target port. */
  port: number;
}

export interface SliceView extends ObjectKey {
  /** The Service name from the `kubernetes.io/service-name` label. */
  service: string;
  /** TCP ports with a number (a port without one means "all ports", which a proxy cannot use). */
  ports: SlicePortView[];
  /** The first address of every endpoint whose `conditions.ready` is not false (missing counts as ready, as kube-proxy does). */
  addresses: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function metadataOf(obj: unknown): Record<string, unknown> {
  return isRecord(obj) && isRecord(obj.metadata) ? obj.metadata : {};
}

/** namespace/name of any object (namespace '' when cluster-scoped), or null when it has no name. */
export function keyOf(obj: unknown): ObjectKey | null {
  const meta = metadataOf(obj);
  const name = str(meta.name);
  return name === undefined ? null : { namespace: str(meta.namespace) ?? '', name };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The translator's view of a Switchyard object. apiVersion and kind come from the informer (list
 * items may lack them); the spec is shared with the informer cache and frozen, never copied.
 */
export function projectResource(kind: SwitchyardKind, obj: unknown): ResourceView | null {
  const key = keyOf(obj);
  if (!key) return null;
  const meta = metadataOf(obj);
  const generation = typeof meta.generation === 'number' ? meta.generation : undefined;
  return deepFreeze({
    apiVersion: API_VERSION,
    kind,
    metadata: { namespace: key.namespace || 'default', name: key.name, uid: str(meta.uid), generation, creationTimestamp: str(meta.creationTimestamp) },
    spec: isRecord(obj) ? obj.spec : undefined,
  });
}

const isTcp = (protocol: unknown): boolean => protocol === undefined || protocol === null || protocol === 'TCP';

function validPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

export function projectService(obj: unknown): ServiceView | null {
  const key = keyOf(obj);
  if (!key) return null;
  const spec = isRecord(obj) && isRecord(obj.spec) ? obj.spec : {};
  const ports: ServicePortView[] = [];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!isRecord(p) || !isTcp(p.protocol) || !validPort(p.port)) continue;
    ports.push({ name: str(p.name) ?? '', port: p.port });
  }
  return { ...key, ports };
}

/**
 * The endpoint-relevant part of an EndpointSlice, or null when it belongs to no Service or holds
 * no IP addresses (`addressType: FQDN` is deprecated and ignored by kube-proxy too).
 */
export function projectSlice(obj: unknown): SliceView | null {
  const key = keyOf(obj);
  if (!key || !isRecord(obj)) return null;
  const labels = metadataOf(obj).labels;
  const service = isRecord(labels) ? str(labels[SERVICE_NAME_LABEL]) : undefined;
  if (service === undefined) return null;
  if (obj.addressType !== 'IPv4' && obj.addressType !== 'IPv6') return null;
  const ports: SlicePortView[] = [];
  for (const p of Array.isArray(obj.ports) ? obj.ports : []) {
    if (!isRecord(p) || !isTcp(p.protocol) || !validPort(p.port)) continue;
    ports.push({ name: str(p.name) ?? '', port: p.port });
  }
  const addresses: string[] = [];
  for (const e of Array.isArray(obj.endpoints) ? obj.endpoints : []) {
    if (!isRecord(e) || !Array.isArray(e.addresses)) continue;
    const ready = isRecord(e.conditions) ? e.conditions.ready : undefined;
    if (ready === false) continue;
    // "Consumers must only use the first element" (EndpointSlice API).
    const address = str(e.addresses[0]);
    if (address !== undefined) addresses.push(address);
  }
  return { ...key, service, ports, addresses };
}

/** The value of `data[key]` of a Secret, base64-decoded and trimmed, or null when absent or empty. */
export function secretValue(obj: unknown, key: string): string | null {
  const data = isRecord(obj) && isRecord(obj.data) ? obj.data : {};
  const raw = data[key];
  if (typeof raw !== 'string') return null;
  const value = Buffer.from(raw, 'base64').toString('utf8').trim();
  return value === '' ? null : value;
}
