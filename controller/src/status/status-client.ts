/**
 * What the status writer needs from the API server (faked in unit tests), and its client-node
 * implementation on the `status` subresource of the Switchyard custom resources. Failures reject
 * with an error whose HTTP status `httpStatus()` reads (404, 409...).
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '@switchyard/api';

export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; generation?: number; [key: string]: unknown };
  status?: unknown;
  [key: string]: unknown;
}

export interface StatusClient {
  /** The object as stored; rejects with 404 when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject>;
  /**
   * PUT on the status subresource: `object` is the object as read (its resourceVersion is the
   * precondition) with `.status` replaced. Rejects with 409 when the object changed since, 404
   * when it is gone.
   */
  replaceStatus(ref: ObjectRef, object: KubeObject): Promise<KubeObject>;
}

/** Plural resource names of the Switchyard kinds (the CRDs in crds/). */
export const PLURALS: Readonly<Record<string, string>> = { Frontend: 'frontends', Backend: 'backends', HealthPolicy: 'healthpolicies' };

export function pluralOf(kind: string): string {
  const plural = PLURALS[kind];
  if (plural === undefined) throw new Error(`not a Switchyard kind: ${kind}`);
  return plural;
}

/** StatusClient over client-node 2.x `CustomObjectsApi`. */
export function kubeStatusClient(kc: KubeConfig): StatusClient {
  const api = kc.makeApiClient(CustomObjectsApi);
  return {
    async get(ref) {
      return (await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ref.namespace, plural: pluralOf(ref.kind), name: ref.name })) as KubeObject;
    },
    async replaceStatus(ref, object) {
      return (await api.replaceNamespacedCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        namespace: ref.namespace,
        plural: pluralOf(ref.kind),
        name: ref.name,
        body: object,
      })) as KubeObject;
    },
  };
}
