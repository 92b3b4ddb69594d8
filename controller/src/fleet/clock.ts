/**
 * Time for the fleet reporter and view and the status writer, injected so tests drive it by hand
 * (`ManualClock`) instead of sleeping. Same shape as the channel's and the elector's clocks, so
 * one object can serve them all.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
}

export interface Timer {
  unref?(): unknown;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/** Kubernetes MicroTime (six fractional digits, as Lease renewTime requires): `2026-11-21T10:00:00.123000Z`. */
export function formatMicroTime(epochMs: number): string {
  return `${new Date(Math.floor(epochMs)).toISOString().slice(0, -1)}000Z`;
}

/** Kubernetes Time (RFC 3339, whole seconds), as metav1.Condition lastTransitionTime is written. */
export function formatTime(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds since the epoch of an RFC 3339 time (any precision), or undefined. */
export function parseTime(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
