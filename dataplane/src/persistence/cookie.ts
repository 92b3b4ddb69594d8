/**
 * Cookie persistence with HAProxy 2.6's semantics (`cookie NAME insert|rewrite|prefix [indirect]
 * [nocache] [httponly] [secure] [maxidle] [maxlife]`), checked against HAProxy 2.6.12. The HTTP
 * session calls onRequest before balancing and onResponse once the server's final response head
 * is parsed; both edit the heads through http/head-edit.ts.
 *
 * Request: the first occurrence of NAME that names a server which takes persistent traffic
 * decides (later ones are only cleaned up); the server's own part is stripped where the server
 * must not see it: the whole cookie with insert+indirect, the `SRV~` prefix in prefix mode.
 *
 * Response, for the server that actually served (after a redispatch it is not the named one):
 * - insert: the server's own Set-Cookie NAME is removed; `Set-Cookie: NAME=<srv>[|dates]; path=/
 *   [; HttpOnly][; Secure]` is appended unless the client presented a valid cookie for this
 *   server whose dates need no refresh (`indirect` changes nothing here: HAProxy never re-inserts
 *   a valid cookie, with or without it); with nocache, `Cache-Control: private` follows when the
 *   response is otherwise cacheable;
 * - rewrite: the server's Set-Cookie NAME gets the server's cookie value as its value;
 * - prefix: the server's Set-Cookie NAME=v becomes NAME=<srv>~v;
 * - with indirect, in every mode, a server Set-Cookie NAME answering a request that came with a
 *   valid cookie is removed (HAProxy refuses rewrite+indirect at configuration time).
 *
 * A cookie naming a server that does not take persistent traffic (down or in maintenance;
 * drained and weight-0 servers still do, as in HAProxy) is ignored when the cluster redispatches,
 * and followed anyway when it does not: Switchyard's reading of HAProxy's `option persist`.
 */
import type { ir } from '@switchyard/api';
import { addHeader, deleteHeaderAt, setHeaderValueAt } from '../http/head-edit.ts';
import type { MessageHead } from '../http/message-head.ts';
import type { ServerState } from '../upstream/server-state.ts';
import { isCacheableMethod, isCacheableResponse } from './cacheability.ts';
import { CookieScanner } from '../http/cookie-header.ts';
import { DATE_LENGTH, decodeQuanta, encodeQuanta, toQuanta } from './cookie-date.ts';

/**
 * The request cookie, HAProxy's 3rd `%tsc` character: N none, I invalid (names no server, or
 * empty), D the named server is down (followed or not, see CookiePersistence), V valid, E expired
 * (idle longer than maxIdle), O too old (older than maxLife). HAProxy's U (another mechanism
 * chose the server first) cannot happen: nothing assigns a server before the cookie is read.
 */
export type RequestCookieStatus = 'N' | 'I' | 'D' | 'V' | 'E' | 'O';

/**
 * The response cookie, HAProxy's 4th `%tsc` character: N none from the server and none inserted,
 * I inserted, U only the dates of a valid cookie refreshed, P the server's cookie passed as is,
 * R the server's cookie rewritten (rewrite, prefix), D the server's cookie deleted.
 */
export type ResponseCookieStatus = 'N' | 'I' | 'U' | 'P' | 'R' | 'D';

/** Whether a server still takes requests that name it: HAProxy follows cookies to any server not stopped (down or in maintenance). */
export function acceptsPersistent(server: ServerState): boolean {
  return server.healthy && server.admin !== 'maint';
}

/** What onRequest found, carried to onResponse and the access log. One per session, reset per request. */
export class CookieDecision {
  /** The server the cookie sends the request to, instead of the balancer; null: balance. */
  server: ServerState | null = null;
  request: RequestCookieStatus = 'N';
  response: ResponseCookieStatus = 'N';
  /** The request cookie's dates in Unix seconds (multiples of 4), 0 when absent, expired or too old. */
  lastSeen = 0;
  firstSeen = 0;
  /** The request method is one a shared cache may store a response for (nocache). */
  cacheableMethod = false;

  reset(): void {
    this.server = null;
    this.request = 'N';
    this.response = 'N';
    this.lastSeen = 0;
    this.firstSeen = 0;
    this.cacheableMethod = false;
  }
}

const SECONDS_PER_DAY = 86_400;
/** What HAProxy sends for a server without a cookie value: the client forgets the cookie. */
const EXPIRED_COOKIE = '; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/';

/** Drops trailing SP and HTAB (not String.trimEnd: a header value may end in obs-text such as 0xA0). */
function trimBlanksEnd(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return end === s.length ? s : s.slice(0, end);
}

export class CookiePersistence {
  readonly config: ir.CookiePersistence;
  /** Follow a cookie to a server that is down (the cluster does not redispatch). */
  readonly persist: boolean;
  /** Servers by cookie value, in declaration order: several may share one (HAProxy takes the first that is up). */
  private readonly byCookie = new Map<string, ServerState[]>();
  private readonly maxIdleMs: number;
  private readonly maxLifeMs: number;
  private readonly scanner = new CookieScanner();
  /** Header edits of the message being processed, applied last to first so indexes stay valid. */
  private readonly editAt: number[] = [];
  private readonly editValue: (string | null)[] = [];

  /** `servers` are the cluster's for this snapshot; `redispatch` is ir.Cluster.redispatch. */
  constructor(config: ir.CookiePersistence, servers: readonly ServerState[], redispatch: boolean) {
    this.config = config;
    this.persist = !redispatch;
    this.maxIdleMs = config.maxIdleMs ?? 0;
    this.maxLifeMs = config.maxLifeMs ?? 0;
    for (const server of servers) {
      const cookie = server.config.cookie;
      if (cookie === null || cookie === '') continue;
      const list = this.byCookie.get(cookie);
      if (list) list.push(server);
      else this.byCookie.set(cookie, [server]);
    }
  }

  /**
   * Reads the request's persistence cookie into `out` (reset first) and strips from the request
   * what the server must not see. `nowMs` is wall-clock epoch milliseconds (Date.now()): cookie
   * dates travel to the client and back and must mean the same on every replica and after a
   * restart, which a monotonic clock does not give. Returns null, or why the head could not be
   * edited (cannot happen: only Cookie lines are shortened or removed).
   */
  onRequest(req: MessageHead, nowMs: number, out: CookieDecision): string | null {
    out.reset();
    out.cacheableMethod = isCacheableMethod(req.method);
    const name = this.config.name;
    this.editAt.length = 0;
    this.editValue.length = 0;
    for (let i = 0; i < req.count; i++) {
      // The substring test keeps requests without our cookie free of any parsing.
      if (req.names[i] !== 'cookie' || !req.values[i]!.includes(name)) continue;
      const edited = this.readCookieHeader(req.values[i]!, Math.floor(nowMs / 1000), out);
      if (edited !== undefined) {
        this.editAt.push(i);
        this.editValue.push(edited);
      }
    }
    return this.applyEdits(req);
  }

  /**
   * Adjusts the final response head of `server` (the one that served, which differs from
   * decision.server after a redispatch) and sets decision.response. Interim 1xx responses other
   * than 101 are left alone, as HAProxy does. `nowMs` as for onRequest. Returns null, or why the
   * head could not be edited (a head already at MAX_HEADERS cannot take the Set-Cookie): HAProxy
   * answers 500 when it cannot add its cookie.
   */
  onResponse(res: MessageHead, server: ServerState, decision: CookieDecision, nowMs: number): string | null {
    if (res.status < 200 && res.status !== 101) return null;
    const { name, mode, indirect } = this.config;
    const direct = decision.server !== null && decision.server === server;
    const serverCookie = server.config.cookie;
    const scanner = this.scanner;
    this.editAt.length = 0;
    this.editValue.length = 0;
    for (let i = 0; i < res.count; i++) {
      if (res.names[i] !== 'set-cookie') continue;
      const value = res.values[i]!;
      if (!scanner.resetSetCookie(value).next() || !scanner.is(name)) continue;
      decision.response = 'P';
      if (mode === 'insert' || (direct && indirect)) {
        // Insert mode owns the cookie (a fresh one follows if needed); indirect hides it from clients that have one.
        this.editAt.push(i);
        this.editValue.push(null);
        decision.response = 'D';
      } else if (serverCookie !== null) {
        const newValue = mode === 'rewrite' ? serverCookie : `${serverCookie}~${value.slice(scanner.valueStart, scanner.valueEnd)}`;
        this.editAt.push(i);
        this.editValue.push(value.slice(0, scanner.nameEnd) + '=' + newValue + value.slice(scanner.valueEnd));
        decision.response = 'R';
      }
    }
    const error = this.applyEdits(res);
    if (error !== null || mode !== 'insert') return error;
    const nowSec = Math.floor(nowMs / 1000);
    if (!this.needsInsert(direct, decision, nowSec)) return null;
    const inserted = addHeader(res, 'Set-Cookie', this.insertedCookie(serverCookie, decision, nowSec));
    if (inserted !== null) return inserted;
    decision.response = serverCookie !== null && direct ? 'U' : 'I';
    if (this.config.nocache && isCacheableResponse(res, decision.cacheableMethod)) return addHeader(res, 'Cache-Control', 'private');
    return null;
  }

  /**
   * HAProxy's insert condition: the client has no valid cookie for this server, or its
   * last-seen date has passed (so a valid cookie is refreshed at most once per 4-second quantum),
   * or the first-seen date must be added (maxLife set) or dropped (maxLife unset).
   */
  private needsInsert(direct: boolean, decision: CookieDecision, nowSec: number): boolean {
    if (!direct) return true;
    const last = decision.lastSeen;
    if ((this.maxIdleMs > 0 || last > 0) && (last === 0 || last < nowSec)) return true;
    return this.maxLifeMs > 0 ? decision.firstSeen === 0 : decision.firstSeen > 0;
  }

  /** The inserted Set-Cookie value; a server without a cookie value gets the cookie cleared. */
  private insertedCookie(serverCookie: string | null, decision: CookieDecision, nowSec: number): string {
    let value: string;
    if (serverCookie === null) value = this.config.name + '=' + EXPIRED_COOKIE;
    else {
      value = this.config.name + '=' + serverCookie;
      if (this.maxIdleMs > 0 || this.maxLifeMs > 0) {
        value += '|' + encodeQuanta(toQuanta(nowSec));
        // The first-seen date survives refreshes and redispatches: maxLife bounds the client's session, not one server's.
        if (this.maxLifeMs > 0) value += '|' + encodeQuanta(decision.firstSeen > 0 ? decision.firstSeen / 4 : toQuanta(nowSec));
      }
      value += '; path=/';
    }
    if (this.config.httpOnly) value += '; HttpOnly';
    if (this.config.secure) value += '; Secure';
    return value;
  }

  /**
   * Walks one Cookie header: decides on each NAME occurrence until one names a server, and
   * returns the header's new value (null: remove the header) or undefined when unchanged.
   * Removing a cookie keeps the delimiter before the next one, followed by one space, and leaves
   * the rest of the header byte for byte (HAProxy's http_del_hdr_value).
   */
  private readCookieHeader(text: string, nowSec: number, out: CookieDecision): string | null | undefined {
    const { name, mode, indirect } = this.config;
    const scanner = this.scanner.reset(text);
    let result = '';
    let changed = false;
    let anyKept = false;
    let previousKept = true;
    let cookieKept = true;
    while (scanner.next()) {
      let keep = true;
      let strippedFrom = -1;
      if (scanner.isAttribute) keep = cookieKept; // `$Path` and the like go with their cookie
      else if (scanner.is(name)) {
        const tilde = mode === 'prefix' ? text.indexOf('~', scanner.valueStart) : -1;
        const prefixEnd = tilde >= 0 && tilde < scanner.valueEnd ? tilde : -1;
        if (out.server === null) this.evaluate(text, prefixEnd, nowSec, out);
        if (prefixEnd >= 0) strippedFrom = prefixEnd + 1;
        else if (mode === 'insert' && indirect) keep = false;
        cookieKept = keep;
      } else cookieKept = true;
      if (!keep) {
        changed = true;
        previousKept = false;
        continue;
      }
      // The item's text, from its delimiter when it follows a kept one, so untouched runs stay as sent.
      let from = scanner.start;
      if (anyKept) {
        if (previousKept) from = scanner.delimiter;
        else result = trimBlanksEnd(result) + text[scanner.delimiter] + ' ';
      }
      if (strippedFrom >= 0) {
        result += text.slice(from, scanner.start) + name + '=' + text.slice(strippedFrom, scanner.end);
        changed = true;
      } else result += text.slice(from, scanner.end);
      anyKept = true;
      previousKept = true;
    }
    if (!changed) return undefined;
    result = trimBlanksEnd(result);
    return result === '' ? null : result;
  }

  /**
   * One NAME occurrence, while no earlier one chose a server: reads the server part (up to `~` in
   * prefix mode, else up to the first `|`) and the dates after it, applies maxLife then maxIdle,
   * and looks the server up. `prefixEnd` is the offset of the `~` in prefix mode, or -1. Statuses
   * follow HAProxy: D, E and O are set by the occurrence that finds them, I only over N.
   */
  private evaluate(text: string, prefixEnd: number, nowSec: number, out: CookieDecision): void {
    const scanner = this.scanner;
    const start = scanner.valueStart;
    const end = scanner.valueEnd;
    let idEnd = end;
    if (this.config.mode === 'prefix') {
      if (prefixEnd >= 0) idEnd = prefixEnd;
    } else {
      const bar = text.indexOf('|', start);
      if (bar >= 0 && bar < end) {
        idEnd = bar;
        const last = end - (bar + 1) >= DATE_LENGTH ? decodeQuanta(text, bar + 1) : -1;
        if (last > 0) out.lastSeen = last * 4;
        const bar2 = text.indexOf('|', bar + 1);
        if (bar2 >= 0 && end - bar2 > DATE_LENGTH) {
          const first = decodeQuanta(text, bar2 + 1);
          if (first > 0) out.firstSeen = first * 4;
        }
      }
    }
    // Dates more than a day ahead are forged or from a wrong clock: treated as out of bounds.
    const first = out.firstSeen;
    const last = out.lastSeen;
    if (first > 0 && this.maxLifeMs > 0 && ((nowSec - first) * 1000 > this.maxLifeMs || first - nowSec > SECONDS_PER_DAY)) {
      this.ignoreDated(out, 'O');
      return;
    }
    if (last > 0 && this.maxIdleMs > 0 && ((nowSec - last) * 1000 > this.maxIdleMs || last - nowSec > SECONDS_PER_DAY)) {
      this.ignoreDated(out, 'E');
      return;
    }
    const candidates = idEnd > start ? this.byCookie.get(text.slice(start, idEnd)) : undefined;
    if (candidates !== undefined) {
      for (const server of candidates) {
        const up = acceptsPersistent(server);
        if (up || this.persist) {
          out.server = server;
          out.request = up ? 'V' : 'D';
          return;
        }
        out.request = 'D';
      }
    }
    if (out.request === 'N') out.request = 'I';
  }

  private ignoreDated(out: CookieDecision, status: 'E' | 'O'): void {
    out.request = status;
    out.lastSeen = 0;
    out.firstSeen = 0;
  }

  /**
   * Applies the collected edits, last header first so that earlier indexes stay valid. Each keeps
   * the head valid (a Cookie or Set-Cookie line removed, or given a value made of its own
   * characters and a server cookie), so the first error is only passed on.
   */
  private applyEdits(head: MessageHead): string | null {
    let error: string | null = null;
    for (let k = this.editAt.length - 1; k >= 0; k--) {
      const value = this.editValue[k]!;
      const failed = value === null ? deleteHeaderAt(head, this.editAt[k]!) : setHeaderValueAt(head, this.editAt[k]!, value);
      error ??= failed;
    }
    this.editAt.length = 0;
    this.editValue.length = 0;
    return error;
  }
}
