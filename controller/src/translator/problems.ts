/** Problems found while translating, with the condition they count against. */
import { ConditionType, parseDuration, Reason } from '@switchyard/api';

export interface Problem {
  path: string;
  message: string;
  /** Accepted problems keep the object out; ResolvedRefs problems are about what it points to. */
  condition: typeof ConditionType.Accepted | typeof ConditionType.ResolvedRefs;
  reason: Reason;
}

export const invalid = (path: string, message: string): Problem => ({ path, message, condition: ConditionType.Accepted, reason: Reason.Invalid });

export const unsupported = (path: string): Problem => ({
  path,
  message: 'not supported yet',
  condition: ConditionType.Accepted,
  reason: Reason.Unsupported,
});

export const conflicted = (path: string, message: string): Problem => ({
  path,
  message,
  condition: ConditionType.Accepted,
  reason: Reason.Conflicted,
});

export const refProblem = (
  reason: typeof Reason.RefNotFound | typeof Reason.RefNotAccepted | typeof Reason.Invalid,
  path: string,
  message: string,
): Problem => ({ path, message, condition: ConditionType.ResolvedRefs, reason });

/** Plain code-unit order: deterministic, independent of locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Intervals and timeouts must be positive: zero would spin or fail at once. Returns milliseconds. */
export function positiveDuration(text: string, path: string, problems: Problem[]): number {
  const ms = parseDuration(text);
  if (ms <= 0) problems.push(invalid(path, `must be greater than 0, got ${JSON.stringify(text)}`));
  return ms;
}
