/**
 * Stick-table keys: sample text converted to the table's type, to one canonical text per value so
 * that equal addresses written differently share an entry (HAProxy stores them binary).
 * Returns null when the text does not convert (the track is then skipped, as in HAProxy).
 *
 * The ip path runs on every tracked request: a canonical dotted quad is validated without
 * allocating and returned as is.
 */
import type { ir } from '@switchyard/api';

export type KeyType = ir.StickTable['type'];

export function convertKey(type: KeyType, keyLength: number, text: string): string | null {
  switch (type) {
    case 'ip':
      return ipv4Key(text);
    case 'ipv6':
      return ipv6Key(text);
    case 'integer':
      return integerKey(text);
    case 'string':
      return truncateUtf8(text, keyLength);
  }
}

/** `a.b.c.d`, or an IPv4-mapped IPv6 address turned into it; anything else is not an IPv4 key. */
export function ipv4Key(text: string): string | null {
  if (isDottedQuad(text, 0)) return text;
  // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d.
  if (text.length > 7 && text.charCodeAt(0) === 58 && text.charCodeAt(1) === 58 && /^::ffff:/i.test(text) && isDottedQuad(text, 7)) {
    return text.slice(7);
  }
  if (text.indexOf(':') < 0) return null;
  const groups = parseIPv6(text);
  return groups !== null && isMapped(groups) ? dotted(groups) : null;
}

/** RFC 5952 text of an IPv6 address; IPv4 text becomes the IPv4-mapped address. */
export function ipv6Key(text: string): string | null {
  if (isDottedQuad(text, 0)) return `::ffff:${text}`;
  const groups = parseIPv6(text);
  return groups === null ? null : formatIPv6(groups);
}

/** Canonical decimal of a 32-bit signed integer (`+7`, `007` -> `7`); out of range does not convert. */
export function integerKey(text: string): string | null {
  const n = text.length;
  let i = 0;
  let negative = false;
  const sign = text.charCodeAt(0);
  if (sign === 43 || sign === 45) {
    negative = sign === 45;
    i = 1;
  }
  if (i === n || n - i > 11) return null;
  let value = 0;
  for (let j = i; j < n; j++) {
    const c = text.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return null;
    value = value * 10 + c;
  }
  if (negative) value = -value;
  if (value < -2147483648 || value > 2147483647) return null;
  // Already canonical: no sign but a needed minus, no leading zero.
  const canonical = (i === 0 || (negative && value !== 0)) && (text.charCodeAt(i) !== 48 || n - i === 1);
  return canonical ? text : String(value);
}

/** The longest prefix of `text` whose UTF-8 fits `maxBytes`, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4 bytes).
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let size: number;
    let units = 1;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size = 4;
      units = 2;
    } else size = 3; // lone surrogates are encoded as U+FFFD, 3 bytes
    if (bytes + size > maxBytes) return text.slice(0, i);
    bytes += size;
    i += units - 1;
  }
  return text;
}

/** Four decimal octets from `from` to the end, without leading zeros (as inet_pton). */
function isDottedQuad(text: string, from: number): boolean {
  const n = text.length;
  let octets = 0;
  let i = from;
  for (;;) {
    const begin = i;
    let value = 0;
    while (i < n) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      value = value * 10 + c;
      i++;
    }
    const digits = i - begin;
    if (digits === 0 || digits > 3 || value > 255 || (digits > 1 && text.charCodeAt(begin) === 48)) return false;
    octets++;
    if (octets === 4) return i === n;
    if (i === n || text.charCodeAt(i) !== 46) return false;
    i++;
  }
}

/** The eight 16-bit groups of an IPv6 address (no zone), or null. */
export function parseIPv6(text: string): number[] | null {
  if (text.length < 2 || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0], halves.length === 1);
  if (head === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const tail = parseGroups(halves[1], true);
  // `::` stands for at least one zero group.
  if (tail === null || head.length + tail.length > 7) return null;
  const groups = head.slice();
  while (groups.length + tail.length < 8) groups.push(0);
  return groups.concat(tail);
}

/** Colon-separated hex groups; the last may be a dotted quad (two groups) when `last` holds. */
function parseGroups(text: string, last: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (last && i === parts.length - 1 && part.includes('.')) {
      if (!isDottedQuad(part, 0)) return null;
      const o = part.split('.').map(Number);
      groups.push((o[0] << 8) | o[1], (o[2] << 8) | o[3]);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}

function isMapped(g: readonly number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

function dotted(g: readonly number[]): string {
  return `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
}

/** RFC 5952: lowercase, no leading zeros, the first longest run of two or more zero groups as `::`. */
export function formatIPv6(g: readonly number[]): string {
  if (isMapped(g)) return `::ffff:${dotted(g)}`;
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => g.slice(from, to).map((v) => v.toString(16)).join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}
