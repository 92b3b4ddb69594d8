/**
 * Key extraction for the hashing algorithms, kept apart from the lookup (HAProxy backend.c
 * get_server_sh/uh/hh/ph): what part of the request is hashed for `source`, `uri`, `hdr` and
 * `url_param`. The proxy calls `hashRequestKey` once per request and passes the result to
 * `pick({ hash })`; undefined means "no key", and the algorithm then falls back to round robin.
 *
 * - source: the client address. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack
 *   listener reports) is hashed as the IPv4 address, so a client keeps its server across listeners.
 * - uri: the request-target up to the `?` (the whole target with `whole`), cut to the first
 *   `length` characters and to the first `depth` directories (the hash stops at the depth+1-th
 *   slash, as HAProxy counts), after removing `scheme://authority` from an absolute-form target
 *   when `pathOnly` (the default, as in the Backend schema).
 * - hdr: the value of the header named by `hashKey` (looked up lower-cased); absent or empty
 *   means no key, as in HAProxy.
 * - url_param: the value of the query parameter `hashKey` (case-sensitive, raw, not decoded);
 *   absent, without `=` or empty means no key.
 *
 * `hashRequestKey` hashes the located part of the string in place: no substring is allocated.
 */
import type { ir } from '@switchyard/api';
import { hashString } from './hash-fn.ts';

/** What a request offers to key extraction. */
export interface KeySource {
  /** Client address as the socket reports it. */
  src: string;
  /** Raw request-target, e.g. `/a/b?x=1` or `http://host/a?x=1`. */
  target: string;
  /** First value of the header with this lower-case name, or undefined. */
  header(nameLower: string): string | undefined;
}

type UriOptions = NonNullable<ir.Balance['uri']>;

const DEFAULT_URI: UriOptions = { depth: null, length: null, whole: false, pathOnly: true };

const SLASH = 0x2f;
const QUESTION = 0x3f;
const HASH = 0x23;
const EQUALS = 0x3d;
const COLON = 0x3a;

// The key located by `locate`: a range of a string, read right away by the exported functions.
let keyText = '';
let keyStart = 0;
let keyEnd = 0;

function found(text: string, start: number, end: number): boolean {
  keyText = text;
  keyStart = start;
  keyEnd = end;
  return true;
}

/** The key as a string, or undefined when the request has none (or the algorithm hashes nothing). */
export function hashKeyFor(balance: ir.Balance, req: KeySource): string | undefined {
  if (!locate(balance, req)) return undefined;
  const key = keyText.slice(keyStart, keyEnd);
  keyText = '';
  return key;
}

/** The 32-bit hash of the request's key, for `pick({ hash })`; undefined when there is no key. */
export function hashRequestKey(balance: ir.Balance, req: KeySource): number | undefined {
  if (!locate(balance, req)) return undefined;
  const hash = hashString(keyText, keyStart, keyEnd);
  keyText = '';
  return hash;
}

function locate(balance: ir.Balance, req: KeySource): boolean {
  switch (balance.algorithm) {
    case 'source':
      return locateSource(req.src);
    case 'uri':
      return locateUri(balance.uri ?? DEFAULT_URI, req.target);
    case 'hdr':
      return locateHeader(balance.hashKey, req);
    case 'url_param':
      return locateParam(balance.hashKey, req.target);
    default:
      return false;
  }
}

function locateSource(src: string): boolean {
  if (src.length === 0) return false;
  // ::ffff:a.b.c.d -> a.b.c.d
  if (src.length > 7 && src.charCodeAt(0) === COLON && src.charCodeAt(1) === COLON && src.charCodeAt(6) === COLON) {
    let mapped = true;
    for (let i = 2; i < 6; i++) mapped &&= (src.charCodeAt(i) | 0x20) === 0x66; // 'f' or 'F'
    if (mapped && src.indexOf('.', 7) !== -1 && src.indexOf(':', 7) === -1) return found(src, 7, src.length);
  }
  return found(src, 0, src.length);
}

/** Index where the path starts in an absolute-form target (`scheme://authority/path`), else 0. */
function pathStart(target: string): number {
  if (target.length === 0 || target.charCodeAt(0) === SLASH) return 0;
  const sep = target.indexOf('://');
  if (sep <= 0) return 0;
  for (let i = 0; i < sep; i++) {
    const c = target.charCodeAt(i);
    const scheme =
      (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e));
    if (!scheme) return 0;
  }
  for (let i = sep + 3; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === SLASH || c === QUESTION || c === HASH) return i;
  }
  return target.length;
}

function locateUri(options: UriOptions, target: string): boolean {
  const start = options.pathOnly ? pathStart(target) : 0;
  let end = target.length;
  if (options.length !== null && options.length > 0 && start + options.length < end) end = start + options.length;
  const stopAt = options.depth !== null && options.depth > 0 ? options.depth + 1 : 0;
  let slashes = 0;
  for (let i = start; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c === SLASH) {
      if (++slashes === stopAt) return found(target, start, i);
    } else if (c === QUESTION && !options.whole) {
      return found(target, start, i);
    }
  }
  return found(target, start, end);
}

// The last header name lower-cased, so that a steady configuration lower-cases it only once.
let headerName = '';
let headerLower = '';

function locateHeader(name: string | null, req: KeySource): boolean {
  if (name === null || name.length === 0) return false;
  if (name !== headerName) {
    headerName = name;
    headerLower = name.toLowerCase();
  }
  const value = req.header(headerLower);
  if (value === undefined || value.length === 0) return false;
  return found(value, 0, value.length);
}

function locateParam(name: string | null, target: string): boolean {
  if (name === null || name.length === 0) return false;
  let i = target.indexOf('?');
  if (i === -1) return false;
  let end = target.indexOf('#', i + 1);
  if (end === -1) end = target.length;
  const n = name.length;
  i++;
  while (i < end) {
    let next = target.indexOf('&', i);
    if (next === -1 || next > end) next = end;
    // A parameter "name=value" between i and next.
    if (i + n < next && target.charCodeAt(i + n) === EQUALS && target.startsWith(name, i)) {
      const valueStart = i + n + 1;
      return valueStart < next ? found(target, valueStart, next) : false;
    }
    i = next + 1;
  }
  return false;
}
