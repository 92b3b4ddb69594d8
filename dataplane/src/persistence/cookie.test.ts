/**
 * Cookie persistence end to end on parsed heads: the routing decision, what the server receives,
 * what the client receives, and the %tsc letters. Expected texts and letters are what HAProxy
 * 2.6.12 produces for the same configuration and headers (checked against it), except where a
 * test says otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ir } from '@switchyard/api';
import { MessageHead, parseRequestHead, parseResponseHead } from '../http/message-head.ts';
import { ServerState } from '../upstream/server-state.ts';
import { CookieDecision, CookiePersistence, acceptsPersistent } from './cookie.ts';
import { encodeQuanta, toQuanta } from './cookie-date.ts';

/** A fixed wall-clock time, Unix seconds: HAProxy wrote its dates as `awElY` then. */
const T = 1_795_237_216;
const ms = (seconds: number): number => seconds * 1000 + 250;
const date = (seconds: number): string => encodeQuanta(toQuanta(seconds));

function serverConfig(name: string, id: number, cookie: string | null): ir.Server {
  return { name, id, address: '10.0.0.' + id, port: 80, weight: 1, maxConnections: 0, backup: false, disabled: false, slowStartMs: null, cookie, proxyProtocol: null };
}

function cluster(cookies: (string | null)[] = ['s1', 's2', 's3']): ServerState[] {
  return cookies.map((cookie, i) => new ServerState('ns/web', serverConfig(`srv${i + 1}`, i + 1, cookie)));
}

function cookieConfig(config: Partial<ir.CookiePersistence> = {}): ir.CookiePersistence {
  return { name: 'SRV', mode: 'insert', indirect: false, nocache: false, maxIdleMs: null, maxLifeMs: null, secure: false, httpOnly: false, ...config };
}

function request(headers: string[], method = 'GET'): MessageHead {
  const head = new MessageHead();
  const text = `${method} / HTTP/1.1\r\nHost: example.test\r\n${headers.map((h) => h + '\r\n').join('')}\r\n`;
  assert.equal(parseRequestHead(text, head), null);
  return head;
}

function response(headers: string[] = [], status = 200): MessageHead {
  const head = new MessageHead();
  const text = `HTTP/1.1 ${status} X\r\n${headers.map((h) => h + '\r\n').join('')}Content-Length: 0\r\n\r\n`;
  assert.equal(parseResponseHead(text, head), null);
  return head;
}

/** The header lines of a head, without the first line. */
function lines(head: MessageHead): string[] {
  return head.text.split('\r\n').slice(1, -2);
}

function values(head: MessageHead, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < head.count; i++) if (head.names[i] === name) out.push(head.values[i]!);
  return out;
}

/** Runs one exchange: the request's decision, then the response of `servedBy` (the decided server, else the first). */
function exchange(p: CookiePersistence, servers: ServerState[], reqHeaders: string[], resHeaders: string[] = [], opts: { now?: number; method?: string; status?: number; servedBy?: ServerState } = {}) {
  const now = ms(opts.now ?? T);
  const req = request(reqHeaders, opts.method);
  const decision = new CookieDecision();
  p.onRequest(req, now, decision);
  const res = response(resHeaders, opts.status);
  const served = opts.servedBy ?? decision.server ?? servers[0]!;
  p.onResponse(res, served, decision, now);
  return { req, res, decision, tsc: decision.request + decision.response };
}

// ---- insert -----------------------------------------------------------------------------------

test('insert: a client without the cookie is balanced and gets one naming the server that served it', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig(), servers, true);
  const { req, res, decision, tsc } = exchange(p, servers, ['Cookie: lang=en'], [], { servedBy: servers[1] });
  assert.equal(decision.server, null);
  assert.equal(tsc, 'NI');
  assert.deepEqual(lines(req), ['Host: example.test', 'Cookie: lang=en']);
  assert.deepEqual(lines(res), ['Content-Length: 0', 'Set-Cookie: SRV=s2; path=/']);
});

test('insert: HttpOnly then Secure, in HAProxy order', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ httpOnly: true, secure: true }), servers, true);
  assert.deepEqual(values(exchange(p, servers, []).res, 'set-cookie'), ['SRV=s1; path=/; HttpOnly; Secure']);
  const secureOnly = new CookiePersistence(cookieConfig({ secure: true }), servers, true);
  assert.deepEqual(values(exchange(secureOnly, servers, []).res, 'set-cookie'), ['SRV=s1; path=/; Secure']);
});

test('insert without indirect: a valid cookie routes the request, reaches the server untouched, and is not re-issued', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig(), servers, true);
  const { req, res, decision, tsc } = exchange(p, servers, ['Cookie: a=1; SRV=s2; b=2']);
  assert.equal(decision.server, servers[1]);
  assert.equal(tsc, 'VN');
  assert.deepEqual(values(req, 'cookie'), ['a=1; SRV=s2; b=2']);
  assert.deepEqual(values(res, 'set-cookie'), []);
});

test('insert: the server never gets to set the persistence cookie itself, other cookies pass', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig(), servers, true);
  const fresh = exchange(p, servers, [], ['Set-Cookie: other=1', 'Set-Cookie: SRV=app; Path=/', 'Set-Cookie: SRV=second']);
  assert.deepEqual(lines(fresh.res), ['Set-Cookie: other=1', 'Content-Length: 0', 'Set-Cookie: SRV=s1; path=/']);
  assert.equal(fresh.tsc, 'NI');
  const valid = exchange(p, servers, ['Cookie: SRV=s2'], ['Set-Cookie: SRV=app; Path=/']);
  assert.deepEqual(values(valid.res, 'set-cookie'), []);
  assert.equal(valid.tsc, 'VD');
});

test('insert indirect: the cookie is removed before the server sees it, wherever it sits', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true }), servers, true);
  const seen = (...cookies: string[]): string[] => {
    const { req, decision } = exchange(p, servers, cookies.map((c) => 'Cookie: ' + c));
    assert.equal(decision.server, servers[1], cookies.join(' / '));
    return values(req, 'cookie');
  };
  assert.deepEqual(seen('a=1; SRV=s2; b=2'), ['a=1; b=2']);
  assert.deepEqual(seen('SRV=s2; b=2'), ['b=2']);
  assert.deepEqual(seen('a=1; SRV=s2'), ['a=1']);
  assert.deepEqual(seen('SRV=s2'), []);
  assert.deepEqual(seen('a=1;SRV=s2;b=2'), ['a=1; b=2']);
  assert.deepEqual(seen('a=1;  SRV=s2;  b=2'), ['a=1; b=2']);
  assert.deepEqual(seen('a=1 ; SRV=s2 ; b=2'), ['a=1; b=2']);
  assert.deepEqual(seen('a=1, SRV=s2; b=2'), ['a=1; b=2']);
  assert.deepEqual(seen('SRV=s2 ,b=2'), ['b=2']);
  assert.deepEqual(seen('x=1;y=2; SRV=s2'), ['x=1;y=2'], 'untouched runs stay byte for byte');
  assert.deepEqual(seen('a=1; SRV=s2; SRV=s1; b=2'), ['a=1; b=2'], 'every occurrence goes');
  assert.deepEqual(seen('SRV=s2; $Path=/; b=2'), ['b=2'], 'RFC 2109 attributes go with their cookie');
  assert.deepEqual(seen('flag; SRV=s2'), ['flag']);
  assert.deepEqual(seen('a="x;y"; SRV=s2'), ['a="x;y"']);
  assert.deepEqual(seen('a=1', 'SRV=s2; c=3', 'd=4'), ['a=1', 'c=3', 'd=4'], 'several Cookie headers');
  assert.deepEqual(seen('SRV=s2', 'a=1'), ['a=1']);
});

test('insert indirect: the Host and framing of the edited request stay right', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true }), servers, true);
  const req = request(['Cookie: SRV=s1', 'Content-Length: 5'], 'POST');
  p.onRequest(req, ms(T), new CookieDecision());
  assert.equal(req.text, 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\n\r\n');
  assert.equal(req.host, 'example.test');
  assert.equal(req.contentLength, 5);
});

test('insert indirect: a server Set-Cookie of the same name is removed, with or without a new cookie', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true }), servers, true);
  const valid = exchange(p, servers, ['Cookie: SRV=s2; lang=en'], ['Set-Cookie: SRV=from-app', 'Set-Cookie: lang=fr']);
  assert.deepEqual(values(valid.res, 'set-cookie'), ['lang=fr']);
  assert.equal(valid.tsc, 'VD');
  const fresh = exchange(p, servers, [], ['Set-Cookie: SRV=from-app']);
  assert.deepEqual(values(fresh.res, 'set-cookie'), ['SRV=s1; path=/']);
  assert.equal(fresh.tsc, 'NI');
});

test('nocache: a cacheable response that gets a cookie is marked private; others are left alone', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true, nocache: true }), servers, true);
  const cacheable = exchange(p, servers, [], ['Cache-Control: max-age=60']);
  assert.deepEqual(lines(cacheable.res), ['Cache-Control: max-age=60', 'Content-Length: 0', 'Set-Cookie: SRV=s1; path=/', 'Cache-Control: private']);
  assert.deepEqual(values(exchange(p, servers, [], ['ETag: "v1"']).res, 'cache-control'), ['private']);
  // HAProxy 2.6 only marks what a cache could store: no expiry and no validator, an unsafe
  // method, a non-cacheable status or an explicit private/no-store mean no header.
  assert.deepEqual(values(exchange(p, servers, []).res, 'cache-control'), []);
  assert.deepEqual(values(exchange(p, servers, [], ['ETag: "v1"'], { method: 'POST' }).res, 'cache-control'), []);
  assert.deepEqual(values(exchange(p, servers, [], ['ETag: "v1"'], { status: 302 }).res, 'cache-control'), []);
  assert.deepEqual(values(exchange(p, servers, [], ['Cache-Control: no-store, max-age=5']).res, 'cache-control'), ['no-store, max-age=5']);
  // No cookie inserted, nothing to protect.
  const valid = exchange(p, servers, ['Cookie: SRV=s1'], ['Cache-Control: max-age=60']);
  assert.deepEqual(values(valid.res, 'cache-control'), ['max-age=60']);
  assert.deepEqual(values(valid.res, 'set-cookie'), []);
});

test('insert: a server without a cookie value makes the client forget the cookie', () => {
  const servers = cluster([null, 's2']);
  const p = new CookiePersistence(cookieConfig({ httpOnly: true }), servers, true);
  const { res, tsc } = exchange(p, servers, ['Cookie: SRV=s9']);
  assert.deepEqual(values(res, 'set-cookie'), ['SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; HttpOnly']);
  assert.equal(tsc, 'II');
});

// ---- rewrite ----------------------------------------------------------------------------------

test('rewrite: the server cookie value becomes the server identifier; requests carrying it are routed, untouched', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ mode: 'rewrite' }), servers, true);
  const first = exchange(p, servers, [], ['Set-Cookie: SRV=app-value; Path=/app; HttpOnly']);
  assert.deepEqual(values(first.res, 'set-cookie'), ['SRV=s1; Path=/app; HttpOnly']);
  assert.equal(first.tsc, 'NR');
  const spaced = exchange(p, servers, [], ['Set-Cookie: SRV = spaced ; Path=/']);
  assert.deepEqual(values(spaced.res, 'set-cookie'), ['SRV=s1 ; Path=/']);
  const again = exchange(p, servers, ['Cookie: SRV=s2; x=1'], ['Set-Cookie: SRV=new-app-value']);
  assert.equal(again.decision.server, servers[1]);
  assert.deepEqual(values(again.req, 'cookie'), ['SRV=s2; x=1']);
  assert.deepEqual(values(again.res, 'set-cookie'), ['SRV=s2']);
  assert.equal(again.tsc, 'VR');
  const quiet = exchange(p, servers, ['Cookie: SRV=s2']);
  assert.deepEqual(lines(quiet.res), ['Content-Length: 0'], 'rewrite never inserts');
  assert.equal(quiet.tsc, 'VN');
});

// HAProxy refuses `rewrite indirect` at configuration time; should a snapshot carry it, its runtime rules apply.
test('rewrite with indirect: the server cookie is dropped for a client that already has a valid one', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ mode: 'rewrite', indirect: true }), servers, true);
  assert.deepEqual(values(exchange(p, servers, ['Cookie: SRV=s2'], ['Set-Cookie: SRV=x']).res, 'set-cookie'), []);
  assert.deepEqual(values(exchange(p, servers, [], ['Set-Cookie: SRV=x']).res, 'set-cookie'), ['SRV=s1']);
});

// ---- prefix -----------------------------------------------------------------------------------

test('prefix: the server identifier is prefixed to the application value and stripped on the way in', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ name: 'JSESSIONID', mode: 'prefix' }), servers, true);
  const first = exchange(p, servers, [], ['Set-Cookie: JSESSIONID=abc123; Path=/']);
  assert.deepEqual(values(first.res, 'set-cookie'), ['JSESSIONID=s1~abc123; Path=/']);
  assert.equal(first.tsc, 'NR');
  const again = exchange(p, servers, ['Cookie: lang=en; JSESSIONID=s2~abc123; x=1']);
  assert.equal(again.decision.server, servers[1]);
  assert.deepEqual(values(again.req, 'cookie'), ['lang=en; JSESSIONID=abc123; x=1']);
  assert.deepEqual(lines(again.res), ['Content-Length: 0']);
  assert.equal(again.tsc, 'VN');
});

test('prefix: stripping keeps the rest of the header as sent, and applies to every occurrence and unknown prefixes', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ mode: 'prefix' }), servers, true);
  const seen = (cookie: string) => {
    const { req, decision } = exchange(p, servers, ['Cookie: ' + cookie]);
    return [decision.server?.name ?? null, values(req, 'cookie')[0], decision.request];
  };
  assert.deepEqual(seen('a=1;SRV=s2~abc;b=2'), ['srv2', 'a=1;SRV=abc;b=2', 'V']);
  assert.deepEqual(seen('SRV = s2~abc ; b=2'), ['srv2', 'SRV=abc ; b=2', 'V']);
  assert.deepEqual(seen('SRV=s2~'), ['srv2', 'SRV=', 'V']);
  assert.deepEqual(seen('SRV=s2~a~b'), ['srv2', 'SRV=a~b', 'V']);
  assert.deepEqual(seen('SRV=zz~x; SRV=s2~y'), ['srv2', 'SRV=x; SRV=y', 'V']);
  assert.deepEqual(seen('SRV=zz~abc'), [null, 'SRV=abc', 'I']);
  assert.deepEqual(seen('SRV=~abc'), [null, 'SRV=abc', 'I']);
  assert.deepEqual(seen('SRV=s2'), ['srv2', 'SRV=s2', 'V'], 'no ~: the whole value names the server, and stays');
});

test('prefix: the application cookie of a server without a cookie value passes as is', () => {
  const servers = cluster([null]);
  const p = new CookiePersistence(cookieConfig({ mode: 'prefix' }), servers, true);
  const { res, tsc } = exchange(p, servers, [], ['Set-Cookie: SRV=abc']);
  assert.deepEqual(values(res, 'set-cookie'), ['SRV=abc']);
  assert.equal(tsc, 'NP');
});

// ---- maxIdle / maxLife ------------------------------------------------------------------------

test('maxIdle/maxLife: the inserted cookie carries last-seen and first-seen dates', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true, maxIdleMs: 30_000, maxLifeMs: 3_600_000 }), servers, true);
  assert.deepEqual(values(exchange(p, servers, []).res, 'set-cookie'), ['SRV=s1|awElY|awElY; path=/']);
  const idleOnly = new CookiePersistence(cookieConfig({ maxIdleMs: 30_000 }), servers, true);
  assert.deepEqual(values(exchange(idleOnly, servers, []).res, 'set-cookie'), ['SRV=s1|awElY; path=/']);
});

test('maxIdle: a cookie seen within the current quantum is left alone; later its last-seen date is refreshed', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true, maxIdleMs: 30_000, maxLifeMs: 3_600_000 }), servers, true);
  // Issued at T+1: both dates round up to T+4 (awElZ), so the cookie is current until T+4.
  const cookie = `Cookie: SRV=s2|${date(T + 1)}|${date(T + 1)}`;
  assert.equal(cookie, 'Cookie: SRV=s2|awElZ|awElZ');
  for (const at of [T + 1, T + 3, T + 4]) {
    const same = exchange(p, servers, [cookie], [], { now: at });
    assert.equal(same.decision.server, servers[1]);
    assert.deepEqual(values(same.res, 'set-cookie'), [], `at T+${at - T}`);
    assert.equal(same.tsc, 'VN');
  }
  const later = exchange(p, servers, [cookie], [], { now: T + 5 });
  assert.equal(later.decision.server, servers[1]);
  assert.deepEqual(values(later.res, 'set-cookie'), ['SRV=s2|awEla|awElZ; path=/'], 'last seen moves on, first seen stays');
  assert.equal(later.tsc, 'VU');
});

test('maxIdle: an idle cookie is ignored (balanced as if absent) and a fresh one issued', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true, maxIdleMs: 30_000, maxLifeMs: 3_600_000 }), servers, true);
  const idle = exchange(p, servers, [`Cookie: SRV=s2|${date(T - 40)}|${date(T - 100)}; a=1`], [], { servedBy: servers[0] });
  assert.equal(idle.decision.server, null);
  assert.deepEqual(values(idle.req, 'cookie'), ['a=1'], 'still stripped');
  assert.deepEqual(values(idle.res, 'set-cookie'), ['SRV=s1|awElY|awElY; path=/'], 'a new session: first seen restarts');
  assert.equal(idle.tsc, 'EI');
  const edge = exchange(p, servers, [`Cookie: SRV=s2|${encodeQuanta((T - 28) / 4)}`]);
  assert.equal(edge.decision.server, servers[1], 'idle for exactly 28 s < 30 s');
});

test('maxLife: a cookie first seen too long ago is ignored and re-issued', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true, maxIdleMs: 30_000, maxLifeMs: 3_600_000 }), servers, true);
  const old = exchange(p, servers, [`Cookie: SRV=s2|${date(T)}|${date(T - 4000)}`], [], { servedBy: servers[0] });
  assert.equal(old.decision.server, null);
  assert.deepEqual(values(old.res, 'set-cookie'), ['SRV=s1|awElY|awElY; path=/']);
  assert.equal(old.tsc, 'OI');
});

test('dates more than a day ahead are treated as expired', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ maxIdleMs: 30_000, maxLifeMs: 3_600_000 }), servers, true);
  assert.equal(exchange(p, servers, [`Cookie: SRV=s2|${date(T + 90_000)}|${date(T)}`]).tsc, 'EI');
  assert.equal(exchange(p, servers, [`Cookie: SRV=s2|${date(T)}|${date(T + 90_000)}`]).tsc, 'OI');
});

test('dates: an undated cookie is accepted and upgraded; dates stay with the client across servers', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true, maxIdleMs: 30_000, maxLifeMs: 3_600_000 }), servers, true);
  const undated = exchange(p, servers, ['Cookie: SRV=s2']);
  assert.equal(undated.decision.server, servers[1]);
  assert.deepEqual(values(undated.res, 'set-cookie'), ['SRV=s2|awElY|awElY; path=/']);
  assert.equal(undated.tsc, 'VU');
  const noFirst = exchange(p, servers, [`Cookie: SRV=s2|${date(T)}`]);
  assert.deepEqual(values(noFirst.res, 'set-cookie'), ['SRV=s2|awElY|awElY; path=/'], 'maxLife adds the first-seen date');
  const unknown = exchange(p, servers, [`Cookie: SRV=zz|${date(T)}|${date(T - 100)}`], [], { servedBy: servers[1] });
  assert.deepEqual(values(unknown.res, 'set-cookie'), [`SRV=s2|awElY|${date(T - 100)}; path=/`], 'maxLife counts from the first visit');
  assert.equal(unknown.tsc, 'II');
  const malformed = exchange(p, servers, ['Cookie: SRV=s2|AAAAA|a-b'], [], { servedBy: servers[1] });
  assert.equal(malformed.decision.server, servers[1], 'unreadable dates are absent dates');
  assert.equal(malformed.tsc, 'VU');
});

test('dates are dropped from a valid cookie once maxIdle and maxLife are unset', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig(), servers, true);
  const dated = exchange(p, servers, [`Cookie: SRV=s2|${date(T)}|${date(T - 100)}`]);
  assert.equal(dated.decision.server, servers[1]);
  assert.deepEqual(values(dated.res, 'set-cookie'), ['SRV=s2; path=/']);
  assert.equal(dated.tsc, 'VU');
});

// ---- server state, unknown values, several occurrences ----------------------------------------

test('a cookie naming a down server: ignored and re-issued with redispatch, followed without', () => {
  const servers = cluster();
  servers[0]!.setHealthy(false);
  const redispatching = new CookiePersistence(cookieConfig(), servers, true);
  const balanced = exchange(redispatching, servers, ['Cookie: SRV=s1'], [], { servedBy: servers[1] });
  assert.equal(balanced.decision.server, null);
  assert.deepEqual(values(balanced.res, 'set-cookie'), ['SRV=s2; path=/']);
  assert.equal(balanced.tsc, 'DI');
  const persisting = new CookiePersistence(cookieConfig(), servers, false);
  const followed = exchange(persisting, servers, ['Cookie: SRV=s1']);
  assert.equal(followed.decision.server, servers[0]);
  assert.deepEqual(values(followed.res, 'set-cookie'), []);
  assert.equal(followed.tsc, 'DN');
});

test('maintenance stops persistence like down; drain and weight 0 keep it (HAProxy: only stopped servers lose it)', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig(), servers, true);
  servers[1]!.setAdmin('maint');
  assert.equal(acceptsPersistent(servers[1]!), false);
  assert.equal(exchange(p, servers, ['Cookie: SRV=s2']).tsc, 'DI');
  servers[1]!.setAdmin('drain');
  assert.equal(servers[1]!.usable, false);
  assert.equal(exchange(p, servers, ['Cookie: SRV=s2']).decision.server, servers[1]);
  servers[1]!.setAdmin('ready');
  servers[1]!.weight = 0;
  const weightless = exchange(p, servers, ['Cookie: SRV=s2']);
  assert.equal(weightless.decision.server, servers[1]);
  assert.equal(weightless.tsc, 'VN');
});

test('a cookie naming no known server, or empty, is ignored and replaced', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true }), servers, true);
  const unknown = exchange(p, servers, ['Cookie: SRV=nope; a=1']);
  assert.equal(unknown.decision.server, null);
  assert.deepEqual(values(unknown.req, 'cookie'), ['a=1']);
  assert.deepEqual(values(unknown.res, 'set-cookie'), ['SRV=s1; path=/']);
  assert.equal(unknown.tsc, 'II');
  assert.equal(exchange(p, servers, ['Cookie: SRV=']).tsc, 'II');
  assert.equal(exchange(p, servers, ['Cookie: srv=s2']).tsc, 'NI', 'names are case-sensitive');
});

test('several occurrences: the first that names a usable server decides', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig(), servers, true);
  assert.equal(exchange(p, servers, ['Cookie: SRV=s1; SRV=s2']).decision.server, servers[0]);
  const second = exchange(p, servers, ['Cookie: SRV=zz', 'Cookie: SRV=s2']);
  assert.equal(second.decision.server, servers[1]);
  assert.equal(second.tsc, 'VN');
  servers[0]!.setHealthy(false);
  assert.equal(exchange(p, servers, ['Cookie: SRV=s1; SRV=zz']).tsc, 'DI', 'an invalid occurrence does not hide a down one');
});

test('servers sharing a cookie value: the first one up takes the request', () => {
  const servers = cluster(['shared', 'shared']);
  const p = new CookiePersistence(cookieConfig(), servers, true);
  assert.equal(exchange(p, servers, ['Cookie: SRV=shared']).decision.server, servers[0]);
  servers[0]!.setHealthy(false);
  const next = exchange(p, servers, ['Cookie: SRV=shared']);
  assert.equal(next.decision.server, servers[1]);
  assert.equal(next.tsc, 'VN');
});

// From HAProxy's code (a redispatch clears SF_DIRECT), not observed: its connect retries cannot be staged here.
test('a request redispatched to another server gets a cookie for the server that served it', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ mode: 'insert', indirect: true }), servers, false);
  const { res, tsc } = exchange(p, servers, ['Cookie: SRV=s1'], ['Set-Cookie: SRV=app'], { servedBy: servers[2] });
  assert.deepEqual(values(res, 'set-cookie'), ['SRV=s3; path=/']);
  assert.equal(tsc, 'VI');
});

test('interim responses are left alone; the decision object is reset for each request', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig(), servers, true);
  const decision = new CookieDecision();
  p.onRequest(request(['Cookie: SRV=s2']), ms(T), decision);
  const interim = response([], 100);
  const before = interim.text;
  p.onResponse(interim, servers[0]!, decision, ms(T));
  assert.equal(interim.text, before);
  assert.equal(decision.response, 'N');
  p.onRequest(request([]), ms(T), decision);
  assert.equal(decision.server, null);
  assert.equal(decision.request, 'N');
});

test('requests without the cookie name are not parsed nor edited', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig({ indirect: true }), servers, true);
  const req = request(['Cookie: a=1;b=2 ,  c=3']);
  const before = req.text;
  const decision = new CookieDecision();
  p.onRequest(req, ms(T), decision);
  assert.equal(req.text, before);
  assert.equal(decision.request, 'N');
  assert.equal(decision.cacheableMethod, true);
});

test('a response head that cannot take the cookie reports why (HAProxy answers 500)', () => {
  const servers = cluster();
  const p = new CookiePersistence(cookieConfig(), servers, true);
  const decision = new CookieDecision();
  assert.equal(p.onRequest(request([]), ms(T), decision), null);
  const full = response(Array.from({ length: 99 }, (_, i) => `X-${i}: ${i}`));
  assert.equal(p.onResponse(full, servers[0]!, decision, ms(T)), 'too many headers');
  assert.equal(decision.response, 'N');
  assert.equal(full.header('set-cookie'), undefined);
});
