/**
 * What the fleet reporter and view need from the API server, on `coordination.k8s.io/v1` Leases
 * in one namespace: a narrow interface (faked in unit tests) and its client-node implementation.
 * Failures reject with an error whose HTTP status `httpStatus()` reads (404, 409...).
 */
import { CoordinationV1Api, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { microTimeText } from '../kube-time.ts';
import { httpStatus } from './api-errors.ts';

/** The fields of a Lease the fleet report uses. */
export interface FleetLease {
  name: string;
  /** Set by the server; required to replace. */
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime text, `2026-01-01T00:00:00.000000Z`. */
  renewTime?: string;
}

export type LeaseWatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; lease: FleetLease }
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'ERROR'; code: number | undefined; message: string };

export interface LeaseWatch {
  stop(): void;
}

export interface LeaseClient {
  /** The Lease, or null when there is none. */
  get(name: string): Promise<FleetLease | null>;
  /** Rejects with 409 when it exists. */
  create(lease: FleetLease): Promise<FleetLease>;
  /** Rejects with 409 when `resourceVersion` is stale, 404 when the Lease is gone. */
  replace(lease: FleetLease): Promise<FleetLease>;
  /** Resolves also when the Lease is already gone. */
  delete(name: string): Promise<void>;
  list(labelSelector: string): Promise<{ items: FleetLease[]; resourceVersion: string }>;
  /**
   * Watches from `resourceVersion`; `onDone` is called once when the stream ends, with the error
   * if it failed (a 410 as an ERROR event followed by `onDone()`, or as an error with status 410).
   */
  watch(labelSelector: string, resourceVersion: string, onEvent: (event: LeaseWatchEvent) => void, onDone: (err?: unknown) => void): Promise<LeaseWatch>;
}

export function fromV1Lease(lease: V1Lease): FleetLease {
  const out: FleetLease = { name: lease.metadata?.name ?? '' };
  if (lease.metadata?.resourceVersion !== undefined) out.resourceVersion = lease.metadata.resourceVersion;
  if (lease.metadata?.labels) out.labels = { ...lease.metadata.labels };
  if (lease.metadata?.annotations) out.annotations = { ...lease.metadata.annotations };
  if (lease.spec?.holderIdentity !== undefined) out.holderIdentity = lease.spec.holderIdentity;
  if (lease.spec?.leaseDurationSeconds !== undefined) out.leaseDurationSeconds = lease.spec.leaseDurationSeconds;
  const renewTime = microTimeText(lease.spec?.renewTime);
  if (renewTime !== undefined) out.renewTime = renewTime;
  return out;
}

export function toV1Lease(lease: FleetLease, namespace: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: lease.name,
      namespace,
      ...(lease.resourceVersion === undefined ? {} : { resourceVersion: lease.resourceVersion }),
      ...(lease.labels === undefined ? {} : { labels: lease.labels }),
      ...(lease.annotations === undefined ? {} : { annotations: lease.annotations }),
    },
    spec: {
      ...(lease.holderIdentity === undefined ? {} : { holderIdentity: lease.holderIdentity }),
      ...(lease.leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds: lease.leaseDurationSeconds }),
      // A string passes the serializer untouched, so the six fractional digits survive.
      ...(lease.renewTime === undefined ? {} : { renewTime: lease.renewTime as unknown as Date }),
    },
  };
}

/** LeaseClient over client-node 2.x for Leases in `namespace`. */
export function kubeLeaseClient(kc: KubeConfig, namespace: string): LeaseClient {
  const api = kc.makeApiClient(CoordinationV1Api);
  const watcher = new Watch(kc);
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  return {
    async get(name) {
      try {
        return fromV1Lease(await api.readNamespacedLease({ name, namespace }));
      } catch (err) {
        if (httpStatus(err) === 404) return null;
        throw err;
      }
    },
    async create(lease) {
      return fromV1Lease(await api.createNamespacedLease({ namespace, body: toV1Lease(lease, namespace) }));
    },
    async replace(lease) {
      return fromV1Lease(await api.replaceNamespacedLease({ name: lease.name, namespace, body: toV1Lease(lease, namespace) }));
    },
    async delete(name) {
      try {
        await api.deleteNamespacedLease({ name, namespace });
      } catch (err) {
        if (httpStatus(err) !== 404) throw err;
      }
    },
    async list(labelSelector) {
      const list = await api.listNamespacedLease({ namespace, labelSelector });
      return { items: list.items.map(fromV1Lease), resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    async watch(labelSelector, resourceVersion, onEvent, onDone) {
      const timeoutSeconds = 240 + Math.floor(Math.random() * 120);
      const controller = await watcher.watch(
        path,
        { labelSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        (type: string, object: unknown) => {
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
            onEvent({ type, lease: fromV1Lease(object as V1Lease) });
          } else if (type === 'BOOKMARK') {
            onEvent({ type, resourceVersion: (object as V1Lease).metadata?.resourceVersion ?? '' });
          } else if (type === 'ERROR') {
            const status = object as { code?: unknown; message?: unknown };
            onEvent({ type, code: typeof status.code === 'number' ? status.code : undefined, message: String(status.message ?? '') });
          }
        },
        (err?: unknown) => onDone(err ?? undefined),
      );
      return { stop: () => controller.abort() };
    },
  };
}
