/**
 * What a sample yields and HAProxy's casts between its types. A value is a string (`str` and
 * `ip` samples: addresses travel as text), a number (`int`) or a boolean (`bool`); null is
 * "no value" (a header that is absent, a converter that failed), which HAProxy tells apart from
 * an empty string.
 */

export type Present = string | number | boolean;
export type SampleValue = Present | null;

/** Receives one value of a multi-valued sample; returning true stops the iteration (a match was found). */
export type Visit = (value: Present) => boolean;

/** HAProxy's cast to a string: integers in decimal, booleans as 1 and 0 (as logs print them). */
export function toText(value: Present): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return value ? '1' : '0';
}

/**
 * HAProxy's cast to an integer (sample.c c_str2int): an optional sign then the leading digits,
 * so `12abc` is 12 and `abc` is 0; only the empty string has no integer value.
 */
export function toInt(value: Present): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return readInt(value);
}

export function readInt(text: string): number | null {
  const length = text.length;
  if (length === 0) return null;
  let i = 0;
  let negative = false;
  const first = text.charCodeAt(0);
  if (first === 0x2d || first === 0x2b) {
    negative = first === 0x2d;
    i = 1;
  }
  let n = 0;
  for (; i < length; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/** HAProxy's cast to a boolean: true when non-zero. */
export function toBool(value: Present): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  const n = readInt(value);
  return n !== null && n !== 0;
}

/** A client or local address as the socket reports it, with an IPv4-mapped IPv6 prefix removed (`::ffff:10.0.0.1` is `10.0.0.1`). */
export function unmapAddress(address: string): string {
  return address.startsWith('::ffff:') && address.indexOf('.', 7) > 0 ? address.slice(7) : address;
}
