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
  Programmed: 'Programmed',
  Pending: 'Pending',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
