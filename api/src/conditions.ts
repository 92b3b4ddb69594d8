/** Condition types and reasons written to every resource's status (metav1.Condition shape). */
export const ConditionType = {
  Accepted: 'Accepted',
  ResolvedRefs: 'ResolvedRefs',
  Programmed: 'Programmed',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  Accepted: 'Accepted',
  Invalid: 'Invalid',
  Conflicted: 'Conflicted',
  Unsupported: 'Unsupported',
  ResolvedRefs: 'ResolvedRefs',
  RefNotFound: 'RefNotFound',
  RefNotAccepted: 'RefNotAccepted',
  /** Programmed=True: every connected data plane runs the object's current generation. */
  Programmed: 'Programmed',
  /** Programmed=False: some connected data plane has not ACKed a version with the current generation yet. */
  Pending: 'Pending',
  /** Programmed=False: a data plane NACKed a version that holds the current generation. */
  Rejected: 'Rejected',
  /** Programmed=False: no data plane is connected to any controller replica. */
  NoDataPlanes: 'NoDataPlanes',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/**
 * Reasons of the Kubernetes Events the controller records (besides an Accepted=False reason, which
 * an Event about a rejected object carries as is).
 */
export const EventReason = {
  /** A data plane NACKed a version (Warning). */
  Rejected: 'Rejected',
  /** A server went down on at least one data plane serving it (Warning). */
  ServerDown: 'ServerDown',
  /** A server is up again on every data plane serving it (Normal). */
  ServerUp: 'ServerUp',
  /** A server was put in maintenance (Normal). */
  ServerMaintenance: 'ServerMaintenance',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];
