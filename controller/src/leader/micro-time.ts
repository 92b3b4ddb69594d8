/**
 * Kubernetes `MicroTime`: RFC 3339 with exactly six fractional digits, as the API server requires
 * for Lease `acquireTime`/`renewTime` (a `Date.toISOString()` value, with three, is rejected with 400).
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
