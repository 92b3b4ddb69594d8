/**
 * Header lookups as HAProxy's `hdr` family sees them, over a parsed MessageHead (names already
 * lower-case, values trimmed). `hdr` splits each line on commas outside quoted strings
 * (http_find_hdr_value_end) and trims each element; `fhdr` takes whole lines. Occurrences count
 * from 1 at the first value, and from -1 at the last.
 */
import type { MessageHead } from '../http/message-head.ts';
import { trimOws } from '../http/token.ts';
import type { Visit } from './values.ts';

/** Index of the comma ending the element that starts at `from`, or the value's length. */
function elementEnd(value: string, from: number): number {
  let quoted = false;
  for (let i = from; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++; // quoted-pair: the next character is literal
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x2c) return i;
  }
  return value.length;
}

/** Whether a value may hold several elements; most do not, and are then used without slicing. */
function isList(value: string): boolean {
  return value.indexOf(',') >= 0;
}

/** Number of comma-separated values over every `name` line (HAProxy hdr_cnt). */
export function countValues(head: MessageHead, name: string): number {
  let n = 0;
  for (let i = 0; i < head.count; i++) {
    if (head.names[i] !== name) continue;
    const value = head.values[i];
    if (!isList(value)) {
      n++;
      continue;
    }
    for (let pos = 0; ; ) {
      const end = elementEnd(value, pos);
      n++;
      if (end >= value.length) break;
      pos = end + 1;
    }
  }
  return n;
}

/** Number of `name` lines. */
export function countLines(head: MessageHead, name: string): number {
  let n = 0;
  for (let i = 0; i < head.count; i++) if (head.names[i] === name) n++;
  return n;
}

/** The `occurrence`-th comma-separated value (1 first, -1 last), or null. */
export function valueAt(head: MessageHead, name: string, occurrence: number): string | null {
  const wanted = occurrence > 0 ? occurrence : countValues(head, name) + occurrence + 1;
  if (wanted <= 0) return null;
  let n = 0;
  for (let i = 0; i < head.count; i++) {
    if (head.names[i] !== name) continue;
    const value = head.values[i];
    if (!isList(value)) {
      if (++n === wanted) return value;
      continue;
    }
    for (let pos = 0; ; ) {
      const end = elementEnd(value, pos);
      if (++n === wanted) return trimOws(value, pos, end);
      if (end >= value.length) break;
      pos = end + 1;
    }
  }
  return null;
}

/** The `occurrence`-th whole line value (1 first, -1 last), or null. */
export function lineAt(head: MessageHead, name: string, occurrence: number): string | null {
  if (occurrence > 0) {
    let n = 0;
    for (let i = 0; i < head.count; i++) if (head.names[i] === name && ++n === occurrence) return head.values[i];
    return null;
  }
  let n = 0;
  for (let i = head.count - 1; i >= 0; i--) if (head.names[i] === name && --n === occurrence) return head.values[i];
  return null;
}

/** Visits every comma-separated value of every `name` line; true as soon as `visit` is. */
export function someValue(head: MessageHead, name: string, visit: Visit): boolean {
  for (let i = 0; i < head.count; i++) {
    if (head.names[i] !== name) continue;
    const value = head.values[i];
    if (!isList(value)) {
      if (visit(value)) return true;
      continue;
    }
    for (let pos = 0; ; ) {
      const end = elementEnd(value, pos);
      if (visit(trimOws(value, pos, end))) return true;
      if (end >= value.length) break;
      pos = end + 1;
    }
  }
  return false;
}

/** Visits every whole `name` line value; true as soon as `visit` is. */
export function someLine(head: MessageHead, name: string, visit: Visit): boolean {
  for (let i = 0; i < head.count; i++) if (head.names[i] === name && visit(head.values[i])) return true;
  return false;
}
