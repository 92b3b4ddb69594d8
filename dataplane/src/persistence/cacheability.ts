/**
 * Whether a shared cache could store a response, as HAProxy 2.6 judges it before `cookie ...
 * nocache` marks a response carrying an inserted cookie `Cache-Control: private`: HAProxy only
 * adds the header to responses it considers cacheable, so a response that already says private,
 * no-store... or that no cache would keep (no freshness, no validator) goes out unchanged.
 * Checked against HAProxy 2.6.12 (http_wait_for_response + http_check_response_for_cacheability).
 */
import type { MessageHead } from '../http/message-head.ts';

/** RFC 7231 section 6.1: the statuses cacheable by default (the list HAProxy uses). */
const CACHEABLE_STATUS = new Set([200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501]);

/** The safe methods (RFC 7231 section 4.2.1), the only ones HAProxy marks cacheable. */
export function isCacheableMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'TRACE';
}

/** The comma-separated elements of a header value, trimmed (commas inside quotes do not split). */
function elements(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0x2c;
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x2c) {
      const element = value.slice(start, i).trim();
      if (element !== '') out.push(element);
      start = i + 1;
    }
  }
  return out;
}

/** Whether the response to a request (whose method was `methodCacheable`) may be stored by a shared cache. */
export function isCacheableResponse(res: MessageHead, methodCacheable: boolean): boolean {
  if (res.status < 200) return false;
  let cacheable = methodCacheable && CACHEABLE_STATUS.has(res.status);
  // HTTP/1.0 caches: only the first Pragma header, as a whole, counts (HAProxy).
  const pragma = res.header('pragma');
  if (pragma !== undefined && pragma.toLowerCase() === 'no-cache') return false;
  let freshness = false;
  let validator = false;
  for (let i = 0; i < res.count; i++) {
    const name = res.names[i];
    if (name === 'expires') freshness = true;
    else if (name === 'etag' || name === 'last-modified') validator = true;
    else if (name === 'cache-control') {
      // In order: an explicit "public" makes even a POST or a 302 cacheable again.
      for (const directive of elements(res.values[i]!)) {
        const d = directive.toLowerCase();
        if (d === 'public') cacheable = true;
        else if (d === 'private' || d === 'no-cache' || d === 'no-store' || d === 'max-age=0' || d === 's-maxage=0') cacheable = false;
        else if (d.startsWith('no-cache="set-cookie')) continue;
        else if (d.startsWith('s-maxage') || d.startsWith('max-age')) freshness = true;
      }
    }
  }
  // RFC 7234 section 3: no cache keeps what has neither an expiry nor a validator.
  return cacheable && (freshness || validator);
}
