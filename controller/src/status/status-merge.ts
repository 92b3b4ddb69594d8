/**
 * From a DesiredStatus and the object's live `.status` to the status to write (pure):
 * metav1.Condition semantics (lastTransitionTime kept while a condition's status stays the same),
 * equality for "skip if equal", and the transitions that deserve an Event.
 */
import { ConditionType } from '@switchyard/api';
import type { Condition } from '@switchyard/api';
import type { DesiredStatus, ServerCounts } from './compute.ts';

/** What the writer puts in `.status`. */
export interface WrittenStatus {
  conditions: Condition[];
  servers?: ServerCounts;
}

function liveConditions(live: unknown): Partial<Condition>[] {
  if (live === null || typeof live !== 'object') return [];
  const conditions = (live as { conditions?: unknown }).conditions;
  return Array.isArray(conditions) ? conditions.filter((c): c is Partial<Condition> => c !== null && typeof c === 'object') : [];
}

/** The status to write: the desired conditions, each keeping its live lastTransitionTime while its status is unchanged. */
export function buildStatus(desired: DesiredStatus, live: unknown, now: string): WrittenStatus {
  const previous = liveConditions(live);
  const conditions = desired.conditions.map((c): Condition => {
    const before = previous.find((p) => p.type === c.type);
    const lastTransitionTime = before !== undefined && before.status === c.status && typeof before.lastTransitionTime === 'string' ? before.lastTransitionTime : now;
    return {
      type: c.type,
      status: c.status,
      ...(c.observedGeneration === undefined ? {} : { observedGeneration: c.observedGeneration }),
      lastTransitionTime,
      reason: c.reason,
      message: c.message,
    };
  });
  return desired.servers === undefined ? { conditions } : { conditions, servers: { ...desired.servers } };
}

/** Deep equality of two statuses as JSON (key order and undefined fields do not matter). */
export function sameStatus(a: unknown, b: unknown): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

/** What a desired status says, without times: equal fingerprints need no write. */
export function fingerprint(desired: DesiredStatus): string {
  return canonical({ conditions: desired.conditions, servers: desired.servers });
}

export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export interface StatusEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * Events for a status change about to be written: the object became not Accepted, or is still not
 * Accepted for another reason (a different field). Reason = the condition's reason, message = its
 * message (which names the field). A rejected snapshot is told by FleetEvents, not here.
 */
export function statusEvents(before: unknown, after: WrittenStatus): StatusEvent[] {
  const now = after.conditions.find((c) => c.type === ConditionType.Accepted);
  if (now === undefined || now.status !== 'False') return [];
  const was = liveConditions(before).find((c) => c.type === ConditionType.Accepted);
  if (was !== undefined && was.status === 'False' && was.reason === now.reason && was.message === now.message) return [];
  return [{ type: 'Warning', reason: now.reason, message: now.message }];
}
