/**
 * The parts of a request-target HAProxy's fetches and actions name: the path (from the first
 * slash to the `?`, with an absolute-form `http://host` prefix left out, as http_parse_path), the
 * query string, and `url_param` lookups. Absolute-form targets reach us from forward-proxy style
 * clients; `*` (OPTIONS) and CONNECT's authority-form have no path.
 */
import type { Visit } from './values.ts';

const SLASH = 0x2f;
const QUESTION = 0x3f;
const EQUALS = 0x3d;

/** Index of the path in `target`, or -1 when it has none. */
export function pathStart(target: string): number {
  if (target.charCodeAt(0) === SLASH) return 0;
  const scheme = target.indexOf('://');
  if (scheme <= 0) return -1;
  for (let i = scheme + 3; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === SLASH) return i;
    if (c === QUESTION) return -1;
  }
  return -1;
}

/** The path without the query string, or null. */
export function pathOf(target: string): string | null {
  const start = pathStart(target);
  if (start < 0) return null;
  const q = target.indexOf('?', start);
  if (q < 0) return start === 0 ? target : target.slice(start);
  return target.slice(start, q);
}

/** What follows the first `?` (possibly ''), or null without one. */
export function queryOf(target: string): string | null {
  const q = target.indexOf('?');
  return q < 0 ? null : target.slice(q + 1);
}

/** Path and query string, `/` when the target has no path (what redirect prefix/scheme append). */
export function pathAndQuery(target: string): string {
  const start = pathStart(target);
  if (start < 0) return '/';
  return start === 0 ? target : target.slice(start);
}

/**
 * `target` with its path replaced and everything else kept (HAProxy set-path): the query string,
 * and an absolute-form scheme and authority. A target without a path becomes the new path.
 */
export function replacePath(target: string, path: string): string {
  const start = pathStart(target);
  if (start < 0) return path;
  const q = target.indexOf('?', start);
  return target.slice(0, start) + path + (q < 0 ? '' : target.slice(q));
}

// The range of the value found by the last `nextParam` call.
let foundStart = 0;
let foundEnd = 0;

/**
 * The next `name=value` pair of the query string in `target` from `from` (an index inside the
 * query). Names are case-sensitive and need their `=`; returns where to continue or -1.
 */
function nextParam(target: string, from: number, name: string): number {
  const end = target.length;
  for (let pos = from; pos < end; ) {
    let stop = target.indexOf('&', pos);
    if (stop < 0) stop = end;
    if (stop - pos > name.length && target.charCodeAt(pos + name.length) === EQUALS && target.startsWith(name, pos)) {
      foundStart = pos + name.length + 1;
      foundEnd = stop;
      return stop + 1;
    }
    pos = stop + 1;
  }
  return -1;
}

function queryStart(target: string): number {
  const q = target.indexOf('?');
  return q < 0 ? -1 : q + 1;
}

/** The first value of query parameter `name` (HAProxy url_param), or null. */
export function firstParam(target: string, name: string): string | null {
  const q = queryStart(target);
  if (q < 0 || nextParam(target, q, name) < 0) return null;
  return target.slice(foundStart, foundEnd);
}

/** Visits every value of query parameter `name`; true as soon as `visit` is. */
export function someParam(target: string, name: string, visit: Visit): boolean {
  const q = queryStart(target);
  if (q < 0) return false;
  for (let pos = nextParam(target, q, name); pos >= 0; pos = nextParam(target, pos, name)) {
    if (visit(target.slice(foundStart, foundEnd))) return true;
  }
  return false;
}
