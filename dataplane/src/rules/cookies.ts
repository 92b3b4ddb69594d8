/**
 * Cookie lookups as HAProxy's `req.cook`/`res.cook` do them (http_extract_cookie_value): in a
 * request's Cookie header every `name=value` pair separated by `;` or `,` counts; in a
 * response's Set-Cookie header only the first pair does (the rest are attributes). Names are
 * case-sensitive, pairs without `=` and `$attributes` are skipped, a value ends at `;` or `,`
 * outside a quoted string and is trimmed. A sample takes the last occurrence, a condition every
 * one, `req.cook_cnt` counts them.
 */
import { CookieScanner } from '../http/cookie-header.ts';
import type { MessageHead } from '../http/message-head.ts';
import type { Visit } from './values.ts';

// One scanner for every lookup: fetches run one at a time and read their result right away.
const scanner = new CookieScanner();

function scan(text: string, list: boolean): CookieScanner {
  return list ? scanner.reset(text) : scanner.resetSetCookie(text);
}

/** Whether the scanner's current item is a cookie called `name` ('' for any). */
function matches(name: string): boolean {
  return scanner.valueStart >= 0 && !scanner.isAttribute && (name === '' || scanner.is(name));
}

function value(text: string): string {
  return text.slice(scanner.valueStart, scanner.valueEnd);
}

/** The last value of cookie `name` over every `header` line ('cookie' or 'set-cookie'), or null. */
export function lastCookie(head: MessageHead, header: string, name: string): string | null {
  const list = header === 'cookie';
  // Without a name HAProxy returns the first cookie of the message, not the last.
  if (name === '') return firstCookie(head, header, list);
  for (let i = head.count - 1; i >= 0; i--) {
    if (head.names[i] !== header) continue;
    const text = head.values[i]!;
    let found: string | null = null;
    for (const s = scan(text, list); s.next(); ) if (matches(name)) found = value(text);
    if (found !== null) return found;
  }
  return null;
}

function firstCookie(head: MessageHead, header: string, list: boolean): string | null {
  for (let i = 0; i < head.count; i++) {
    if (head.names[i] !== header) continue;
    const text = head.values[i]!;
    for (const s = scan(text, list); s.next(); ) if (matches('')) return value(text);
  }
  return null;
}

/** Visits every value of cookie `name`; true as soon as `visit` is. */
export function someCookie(head: MessageHead, header: string, name: string, visit: Visit): boolean {
  const list = header === 'cookie';
  for (let i = 0; i < head.count; i++) {
    if (head.names[i] !== header) continue;
    const text = head.values[i]!;
    for (const s = scan(text, list); s.next(); ) if (matches(name) && visit(value(text))) return true;
  }
  return false;
}

/** How many times cookie `name` appears in the Cookie headers (HAProxy req.cook_cnt). */
export function countCookies(head: MessageHead, name: string): number {
  let n = 0;
  for (let i = 0; i < head.count; i++) {
    if (head.names[i] !== 'cookie') continue;
    const text = head.values[i]!;
    for (const s = scan(text, true); s.next(); ) if (matches(name)) n++;
  }
  return n;
}
