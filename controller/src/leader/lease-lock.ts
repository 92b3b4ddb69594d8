/**
 * The election record and the lock that stores it: client-go's `resourcelock.Interface`, reduced
 * to the one lock type Switchyard uses (a `coordination.k8s.io/v1` Lease). Two implementations:
 * `KubernetesLeaseLock` (client-node) and `MemoryLeaseLock` (unit tests).
 */

/** client-go's `LeaderElectionRecord`, as stored in a Lease's spec. Times are MicroTime strings. */
export interface LeaderRecord {
  /** Who holds the lease; empty when nobody does (after a release). */
  holderIdentity: string;
  /** How long other candidates wait, from when they last saw the record change, before taking over. */
  leaseDurationSeconds: number;
  /** When the current holder acquired the lease (`2026-11-21T10:00:00.000000Z`). */
  acquireTime: string;
  /** When the holder last renewed it. Informational: nobody judges expiry from it. */
  renewTime: string;
  /** How many times the lease changed holders. */
  leaseTransitions: number;
}

export interface ObservedLease {
  record: LeaderRecord;
  resourceVersion: string;
}

/**
 * Storage for the election record. Every call may be cancelled through `signal`; a cancelled call
 * rejects. `create` and `update` resolve with the new resourceVersion.
 */
export interface LeaseLock {
  /** `namespace/name`, for logs. */
  readonly description: string;
  /** The current record, or null when the lease does not exist. */
  get(signal?: AbortSignal): Promise<ObservedLease | null>;
  /** Creates the lease; rejects with `LeaseConflictError` when it already exists. */
  create(record: LeaderRecord, signal?: AbortSignal): Promise<string>;
  /** Replaces the record; rejects with `LeaseConflictError` when `resourceVersion` is stale. */
  update(record: LeaderRecord, resourceVersion: string, signal?: AbortSignal): Promise<string>;
}

/** A create that found the lease already there, or an update with a stale resourceVersion (HTTP 409). */
export class LeaseConflictError extends Error {
  readonly code = 'SWY_ERR_LEASE_CONFLICT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LeaseConflictError';
  }
}

/** Compares two records field by field (client-go compares the raw serialized record). */
export function sameRecord(a: LeaderRecord | null, b: LeaderRecord | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}
