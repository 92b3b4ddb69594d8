/**
 * The translator's contract: raw objects in, a snapshot and one result per Switchyard object out.
 */
import type { ir } from '@switchyard/api';

/** A parsed YAML/JSON document and where it came from. */
export interface RawObject {
  object: unknown;
  /** `file.yaml`, or `file.yaml#2` for the third document of a multi-document file; null in-cluster. */
  source: string | null;
}

/** One ready endpoint of a Service. */
export interface Endpoint {
  address: string;
  /** The port to connect to (EndpointSlice port, i.e. the target port). */
  port: number;
  /** The port's name (EndpointSlice port name = the Service port's name). */
  name?: string;
  /**
   * The Service port number this endpoint port serves, when known. A numeric `serviceRef.port`
   * matches `servicePort` when present, else `port`.
   */
  servicePort?: number;
}

export interface TranslateInput {
  objects: readonly RawObject[];
  /**
   * `namespace/service` -> ready endpoints (Kubernetes mode). Absent standalone: a Backend with a
   * serviceRef then cannot be resolved.
   */
  endpoints?: ReadonlyMap<string, readonly Endpoint[]>;
}

/** A problem with one field, e.g. `{ path: 'spec.servers[1].port', message: 'must be 1-65535, got 70000' }`. */
export interface FieldError {
  path: string;
  message: string;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A metav1.Condition without observedGeneration and lastTransitionTime (the status writer adds them). */
export interface ResultCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export interface ResourceResult {
  kind: string;
  namespace: string;
  name: string;
  generation: number | null;
  source: string | null;
  /** Accepted then ResolvedRefs. */
  conditions: ResultCondition[];
  /** Every problem found: invalid, unsupported and conflicting fields, and unresolved references. */
  errors: FieldError[];
}

export interface TranslateResult {
  snapshot: ir.Snapshot;
  /** Sorted by kind, namespace, name (then input order, for duplicates). */
  results: ResourceResult[];
}
