import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ir } from '@switchyard/api';
import { compileRules, type RulesContext } from './compile.ts';
import {
  FakeTable,
  FakeTrackers,
  acl,
  criterion,
  emptyRules,
  httpTx,
  logRecord,
  requestHead,
  responseHead,
  smp,
  stickTable,
  tablesOf,
  tcpTx,
  term,
  text,
  when,
} from './test-support.ts';

const clusters = new Set(['default/api', 'default/web']);
const context: RulesContext = { tables: tablesOf(), clusters };

function rules(init: Partial<ir.Rules>): ir.Rules {
  return { ...emptyRules(), ...init };
}

function request(rule: ir.HttpRequestAction, condition: ir.Condition | null = null): ir.Rule<ir.HttpRequestAction> {
  return { ...rule, condition };
}

function get(path: string, ...headers: string[]) {
  return httpTx(requestHead(`GET ${path} HTTP/1.1`, 'Host: www.example.com', ...headers));
}

const isAdmin = when([acl('is_admin', [criterion(smp('path'), 'beg', ['/admin'])])]);

test('no rule: forward to the default cluster', () => {
  const compiled = compileRules(emptyRules(), context);
  assert.deepEqual(compiled.onHttpRequest(get('/')), { kind: 'forward', cluster: null });
  assert.equal(compiled.onTcpRequest(tcpTx()), 'accept');
  assert.equal(compiled.log, null);
  assert.equal(compiled.captures, 0);
});

test('use_backend: the first whose condition holds; unknown clusters are compile errors', () => {
  const compiled = compileRules(
    rules({ useBackends: [{ cluster: 'default/api', condition: when([term(criterion(smp('path'), 'beg', ['/api']))]) }, { cluster: 'default/web', condition: null }] }),
    context,
  );
  assert.deepEqual(compiled.onHttpRequest(get('/api/x')), { kind: 'forward', cluster: 'default/api' });
  assert.deepEqual(compiled.onHttpRequest(get('/x')), { kind: 'forward', cluster: 'default/web' });
  assert.throws(() => compileRules(rules({ useBackends: [{ cluster: 'default/gone', condition: null }] }), context), /useBackends\[0\] \(default\/gone\): unknown cluster 'default\/gone'/);
});

test('deny answers with HAProxy error pages and stops the rules', () => {
  const compiled = compileRules(rules({ httpRequest: [request({ action: 'deny', status: 403 }, isAdmin), request({ action: 'deny', status: 429 })] }), context);
  const denied = compiled.onHttpRequest(get('/admin'));
  assert.equal(denied.kind, 'respond');
  assert.ok(denied.kind === 'respond');
  assert.equal(denied.status, 403);
  assert.match(denied.response, /^HTTP\/1\.1 403 Forbidden\r\ncontent-length: \d+\r\n/);
  assert.match(denied.response, /connection: close\r\n\r\n<html><body><h1>403 Forbidden<\/h1>\nRequest forbidden by administrative rules\.\n<\/body><\/html>\n$/);
  const limited = compiled.onHttpRequest(get('/'));
  assert.ok(limited.kind === 'respond');
  assert.match(limited.response, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
  const body = limited.response.slice(limited.response.indexOf('\r\n\r\n') + 4);
  assert.match(limited.response, new RegExp(`content-length: ${body.length}\r\n`));
});

test('return answers with the status, body and content type', () => {
  const compiled = compileRules(rules({ httpRequest: [request({ action: 'return', status: 200, body: 'héllo\n', contentType: 'text/plain; charset=utf-8' })] }), context);
  const verdict = compiled.onHttpRequest(get('/health'));
  assert.ok(verdict.kind === 'respond');
  assert.equal(verdict.status, 200);
  assert.equal(verdict.response, 'HTTP/1.1 200 OK\r\ncontent-length: 7\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\nh\u00c3\u00a9llo\n');
  const empty = compileRules(rules({ httpRequest: [request({ action: 'return', status: 204, body: null, contentType: null })] }), context).onHttpRequest(get('/'));
  assert.ok(empty.kind === 'respond');
  assert.equal(empty.response, 'HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
});

test('redirect location, prefix (with / adding nothing) and scheme', () => {
  const location = compileRules(rules({ httpRequest: [request({ action: 'redirect', type: 'location', value: [text('https://login.example.com/?from='), { kind: 'sample', sample: smp('path'), quote: false }], code: 302 })] }), context);
  const l = location.onHttpRequest(get('/account?x=1'));
  assert.ok(l.kind === 'respond');
  assert.equal(l.status, 302);
  assert.equal(l.response, 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://login.example.com/?from=/account\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n');

  const prefix = compileRules(rules({ httpRequest: [request({ action: 'redirect', type: 'prefix', value: [text('https://new.example.com')], code: 301 })] }), context);
  const p = prefix.onHttpRequest(get('/a/b?c=d'));
  assert.ok(p.kind === 'respond');
  assert.equal(p.response, 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: https://new.example.com/a/b?c=d\r\nconnection: close\r\n\r\n');
  const self = compileRules(rules({ httpRequest: [request({ action: 'redirect', type: 'prefix', value: [text('/')], code: 308 })] }), context).onHttpRequest(get('/a?b'));
  assert.ok(self.kind === 'respond');
  assert.match(self.response, /^HTTP\/1\.1 308 Permanent Redirect\r\ncontent-length: 0\r\nlocation: \/a\?b\r\nconnection/);

  const scheme = compileRules(rules({ httpRequest: [request({ action: 'redirect', type: 'scheme', value: [text('https')], code: 301 })] }), context);
  const s = scheme.onHttpRequest(httpTx(requestHead('GET /cart?id=1 HTTP/1.1', 'Host: shop.example.com:8080')));
  assert.ok(s.kind === 'respond');
  assert.match(s.response, /\r\nlocation: https:\/\/shop\.example\.com:8080\/cart\?id=1\r\n/, 'Host as sent, port included');
  const absolute = scheme.onHttpRequest(httpTx(requestHead('GET http://shop.example.com HTTP/1.1', 'Host: shop.example.com')));
  assert.ok(absolute.kind === 'respond');
  assert.match(absolute.response, /\r\nlocation: https:\/\/shop\.example\.com\/\r\n/, 'no path: /');
});

test('header rewrites and set-path go through head-edit; a refused edit is skipped', () => {
  const compiled = compileRules(
    rules({
      httpRequest: [
        request({ action: 'set-header', name: 'X-Client', value: [{ kind: 'sample', sample: smp('src'), quote: false }] }),
        request({ action: 'add-header', name: 'X-Via', value: [text('switchyard')] }),
        request({ action: 'del-header', name: 'X-Debug' }),
        request({ action: 'set-header', name: 'Host', value: [text('')] }),
        request({ action: 'set-path', value: [text('/v2'), { kind: 'sample', sample: smp('path'), quote: false }] }),
      ],
      useBackends: [{ cluster: 'default/api', condition: when([term(criterion(smp('path'), 'beg', ['/v2/']))]) }],
    }),
    context,
  );
  const tx = httpTx(requestHead('GET /users?page=2 HTTP/1.1', 'Host: www.example.com', 'X-Client: forged', 'X-Debug: 1'), { src: '::ffff:198.51.100.7' });
  assert.deepEqual(compiled.onHttpRequest(tx), { kind: 'forward', cluster: 'default/api' }, 'use_backend sees the rewritten path');
  assert.equal(tx.req.text, 'GET /v2/users?page=2 HTTP/1.1\r\nHost: www.example.com\r\nX-Client: 198.51.100.7\r\nX-Via: switchyard\r\n\r\n');
  assert.equal(tx.req.host, 'www.example.com', 'an empty Host would be malformed: that edit was skipped');
});

test('allow stops the http-request rules and goes to use_backend', () => {
  const compiled = compileRules(
    rules({
      httpRequest: [request({ action: 'allow' }, when([term({ sample: smp('src'), method: 'ip', ignoreCase: false, patterns: ['10.0.0.0/8'] })])), request({ action: 'deny', status: 403 })],
      useBackends: [{ cluster: 'default/web', condition: null }],
    }),
    context,
  );
  assert.deepEqual(compiled.onHttpRequest(httpTx(requestHead('GET / HTTP/1.1', 'Host: a'), { src: '10.1.2.3' })), { kind: 'forward', cluster: 'default/web' });
  assert.equal(compiled.onHttpRequest(httpTx(requestHead('GET / HTTP/1.1', 'Host: a'), { src: '192.0.2.1' })).kind, 'respond');
});

test('capture stores the sample truncated to its length in its slot; %hr logs it', () => {
  const compiled = compileRules(
    rules({
      captures: 2,
      httpRequest: [
        request({ action: 'capture', sample: smp('req.hdr', ['host']), length: 7, slot: 0 }),
        request({ action: 'capture', sample: smp('req.hdr', ['x-missing']), length: 10, slot: 1 }),
      ],
      log: [{ kind: 'var', name: 'hr', quote: false }],
    }),
    context,
  );
  const tx = get('/');
  tx.captures = [null, null];
  compiled.onHttpRequest(tx);
  assert.deepEqual(tx.captures, ['www.exa', null]);
  assert.equal(compiled.captures, 2);
  assert.equal(compiled.log!(tx, logRecord()), '{www.exa|}');
  assert.throws(() => compileRules(rules({ captures: 1, httpRequest: [request({ action: 'capture', sample: smp('path'), length: 5, slot: 1 })] }), context), /capture slot 1 is outside/);
});

test('track-sc tracks the key once per slot and counts the current request for a new entry', () => {
  const table = new FakeTable(stickTable('frontend:default/web', [{ type: 'http_req_cnt' }, { type: 'conn_cur' }]));
  const ctx: RulesContext = { tables: tablesOf(table), clusters };
  const compiled = compileRules(
    rules({
      httpRequest: [
        request({ action: 'track-sc', counter: 0, key: smp('src'), table: 'frontend:default/web' }),
        request({ action: 'track-sc', counter: 0, key: smp('req.hdr', ['x-user']), table: 'frontend:default/web' }),
        request({ action: 'track-sc', counter: 1, key: smp('req.hdr', ['x-user']), table: 'frontend:default/web' }),
      ],
    }),
    ctx,
  );
  const trackers = new FakeTrackers();
  const tx = httpTx(requestHead('GET / HTTP/1.1', 'Host: a'), { src: '::ffff:192.0.2.10', trackers });
  trackers.httpRequest(); // what the session does for entries tracked before the rules: none yet
  compiled.onHttpRequest(tx);
  assert.equal(trackers.trackCalls, 1, 'slot 0 was taken: its second rule did not even evaluate its key; slot 1 had no key');
  assert.equal(trackers.get(0)!.key, '192.0.2.10');
  assert.equal(trackers.get(0)!.read('http_req_cnt'), 1);
  assert.equal(trackers.get(1), null);
  // A second request on the same connection, trackers kept: the session counts it, the rule does not again.
  trackers.httpRequest();
  compiled.onHttpRequest(tx);
  assert.equal(trackers.get(0)!.read('http_req_cnt'), 2);
  assert.throws(() => compileRules(rules({ httpRequest: [request({ action: 'track-sc', counter: 0, key: smp('src'), table: 'nope' })] }), ctx), /httpRequest\[0\] \(track-sc\): unknown stick table 'nope'/);
});

test('http-response rules edit the response; nothing happens before there is one', () => {
  const compiled = compileRules(
    rules({
      httpResponse: [
        { action: 'set-header', name: 'Strict-Transport-Security', value: [text('max-age=31536000')], condition: null },
        { action: 'del-header', name: 'Server', condition: null },
        { action: 'add-header', name: 'X-Status', value: [{ kind: 'sample', sample: smp('status'), quote: false }], condition: when([term({ sample: smp('status'), method: 'int', ignoreCase: false, patterns: [{ op: 'ge', value: 500 }] })]) },
      ],
    }),
    context,
  );
  const tx = get('/');
  compiled.onHttpResponse(tx);
  tx.res = responseHead('HTTP/1.1 503 Service Unavailable', 'Server: nginx', 'Content-Length: 0');
  compiled.onHttpResponse(tx);
  assert.equal(tx.res.text, 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nStrict-Transport-Security: max-age=31536000\r\nX-Status: 503\r\n\r\n');
});

test('tcp-request rules: accept and reject decide, track-sc tracks without counting a request', () => {
  const table = new FakeTable(stickTable('frontend:default/db', [{ type: 'conn_cur' }, { type: 'http_req_cnt' }]));
  const ctx: RulesContext = { tables: tablesOf(table), clusters };
  const blocked = when([term({ sample: smp('src'), method: 'ip', ignoreCase: false, patterns: ['203.0.113.0/24'] })]);
  const compiled = compileRules(
    rules({
      tcpRequest: [
        { action: 'track-sc', counter: 1, key: smp('src'), table: 'frontend:default/db', condition: null },
        { action: 'reject', condition: blocked },
        { action: 'accept', condition: when([term({ sample: smp('dst_port'), method: 'int', ignoreCase: false, patterns: [{ op: 'eq', value: 5432 }] })]) },
        { action: 'reject', condition: null },
      ],
    }),
    ctx,
  );
  const trackers = new FakeTrackers();
  assert.equal(compiled.onTcpRequest(tcpTx({ src: '203.0.113.9', dstPort: 5432, trackers })), 'reject');
  assert.equal(trackers.get(1)!.read('conn_cur'), 1);
  assert.equal(trackers.get(1)!.read('http_req_cnt'), 0);
  assert.equal(compiled.onTcpRequest(tcpTx({ dstPort: 5432 })), 'accept');
  assert.equal(compiled.onTcpRequest(tcpTx({ dstPort: 5433 })), 'reject');
  assert.throws(
    () => compileRules(rules({ tcpRequest: [{ action: 'reject', condition: when([term(criterion(smp('path'), 'beg', ['/']))]) }] }), ctx),
    /tcpRequest\[0\] \(reject\): fetch 'path' needs the HTTP request/,
  );
});

test('compile errors name the rule and what is unknown', () => {
  assert.throws(
    () => compileRules(rules({ httpRequest: [request({ action: 'set-header', name: 'X', value: [{ kind: 'sample', sample: smp('bogus'), quote: false }] })] }), context),
    /httpRequest\[0\] \(set-header\): unknown fetch 'bogus'/,
  );
  assert.throws(() => compileRules(rules({ log: [{ kind: 'var', name: 'zz', quote: false }] }), context), /log: unknown log-format variable '%zz'/);
});
