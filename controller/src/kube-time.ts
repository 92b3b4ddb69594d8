/**
 * Kubernetes time formats, for every time the controller writes to or reads from the API server.
 *
 * `MicroTime`: RFC 3339 with exactly six fractional digits, as the API server requires for Lease
 * `acquireTime`/`renewTime` (a `Date.toISOString()` value, with three, is rejected with 400).
 * `Time`: RFC 3339 in whole seconds, as metav1.Condition `lastTransitionTime` and Event times are written.
 */
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

/** Formats milliseconds since the epoch (fractions kept as microseconds): `2026-11-21T10:00:00.000000Z`. */
export function formatMicroTime(epochMs: number): string {
  if (!Number.isFinite(epochMs)) throw new RangeError(`formatMicroTime: not a finite time: ${epochMs}`);
  const whole = Math.floor(epochMs);
  const micros = Math.min(999, Math.floor((epochMs - whole) * 1000));
  return `${new Date(whole).toISOString().slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

export function isMicroTime(text: string): boolean {
  return MICRO_TIME.test(text);
}

/**
 * The text of a MicroTime field as client-node returns it, or undefined when absent. client-node
 * types MicroTime fields as Dates but hands back the server's strings unparsed (its V1MicroTime
 * type is not in the serializer's map), so a string is kept as sent, with its microseconds.
 */
export function microTimeText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return formatMicroTime(value.getTime());
  return undefined;
}

/** Formats milliseconds since the epoch as a Kubernetes Time (whole seconds): `2026-11-21T10:00:00Z`. */
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
