/**
 * Cookie lookups as HAProxy's `req.cook`/`res.cook` do them (http_extract_cookie_value): in a
 * request's Cookie header every `name=value` pair separated by `;` or `,` counts; in a
 * response's Set-Cookie header only the first pair does (the rest are attributes). Names are
 * case-sensitive, pairs without `=` and `$attributes` are skipped, a value ends at `;` or `,`
 * outside a quoted string and is trimmed. A sample takes the last occurrence, a condition every
 * one, `req.cook_cnt` counts them.
 */
import type { MessageHead } from '../http/message-head.ts';
import type { Visit } from './values.ts';

const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DOLLAR = 0x24;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** End of a cookie value starting at `from`: the first `;` or `,` outside quotes, or the end. */
function valueEnd(text: string, from: number): number {
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) quoted = false;
    } else if (c === QUOTE) quoted = true;
    else if (c === COMMA || c === SEMICOLON) return i;
  }
  return text.length;
}

// The range of the value found by the last `nextCookie` call, read right away by the callers.
let foundStart = 0;
let foundEnd = 0;

/**
 * Looks for the next cookie called `name` ('' for any) in `text` from `from`. Returns where to
 * continue from and leaves the value's range in foundStart/foundEnd, or returns -1.
 * `list` is true for Cookie headers (several pairs), false for Set-Cookie (the first pair only).
 */
function nextCookie(text: string, from: number, name: string, list: boolean): number {
  const end = text.length;
  for (let pos = from; pos < end; ) {
    let nameStart = pos;
    while (nameStart < end && isSpace(text.charCodeAt(nameStart))) nameStart++;
    let equal = nameStart;
    let nameEnd = nameStart;
    while (equal < end) {
      const c = text.charCodeAt(equal);
      if (c === EQUALS || c === SEMICOLON || (list && c === COMMA)) break;
      equal++;
      if (!isSpace(c)) nameEnd = equal;
    }
    let next = equal;
    let start = equal;
    let stop = equal;
    if (equal < end && text.charCodeAt(equal) === EQUALS) {
      start = equal + 1;
      while (start < end && isSpace(text.charCodeAt(start))) start++;
      next = valueEnd(text, start);
      stop = next;
      while (stop > start && isSpace(text.charCodeAt(stop - 1))) stop--;
    }
    const usable = next !== equal && text.charCodeAt(nameStart) !== DOLLAR;
    if (usable && (name === '' || (nameEnd - nameStart === name.length && text.startsWith(name, nameStart)))) {
      foundStart = start;
      foundEnd = stop;
      return next + 1;
    }
    if (!list) return -1;
    pos = next + 1;
  }
  return -1;
}

/** The last value of cookie `name` over every `header` line ('cookie' or 'set-cookie'), or null. */
export function lastCookie(head: MessageHead, header: string, name: string): string | null {
  const list = header === 'cookie';
  // Without a name HAProxy returns the first cookie of the message, not the last.
  if (name === '') return firstCookie(head, header, list);
  for (let i = head.count - 1; i >= 0; i--) {
    if (head.names[i] !== header) continue;
    const text = head.values[i];
    let start = -1;
    let stop = -1;
    for (let pos = nextCookie(text, 0, name, list); pos >= 0; pos = nextCookie(text, pos, name, list)) {
      start = foundStart;
      stop = foundEnd;
    }
    if (start >= 0) return text.slice(start, stop);
  }
  return null;
}

function firstCookie(head: MessageHead, header: string, list: boolean): string | null {
  for (let i = 0; i < head.count; i++) {
    if (head.names[i] !== header) continue;
    const text = head.values[i];
    if (nextCookie(text, 0, '', list) >= 0) return text.slice(foundStart, foundEnd);
  }
  return null;
}

/** Visits every value of cookie `name`; true as soon as `visit` is. */
export function someCookie(head: MessageHead, header: string, name: string, visit: Visit): boolean {
  const list = header === 'cookie';
  for (let i = 0; i < head.count; i++) {
    if (head.names[i] !== header) continue;
    const text = head.values[i];
    for (let pos = nextCookie(text, 0, name, list); pos >= 0; pos = nextCookie(text, pos, name, list)) {
      if (visit(text.slice(foundStart, foundEnd))) return true;
    }
  }
  return false;
}

/** How many times cookie `name` appears in the Cookie headers (HAProxy req.cook_cnt). */
export function countCookies(head: MessageHead, name: string): number {
  let n = 0;
  for (let i = 0; i < head.count; i++) {
    if (head.names[i] !== 'cookie') continue;
    const text = head.values[i];
    for (let pos = nextCookie(text, 0, name, true); pos >= 0; pos = nextCookie(text, pos, name, true)) n++;
  }
  return n;
}
