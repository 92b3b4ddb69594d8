/**
 * The Frontend examples of SPEC section 1, as the controller compiles them into ir.Rules, checked
 * on request heads parsed by the session's parser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ir } from '@switchyard/api';
import { compileRules, type CompiledRules } from './compile.ts';
import { FakeClock, FakeTable, FakeTrackers, acl, emptyRules, httpTx, requestHead, smp, stickTable, tablesOf, term, text, unless, when } from './test-support.ts';
import type { HttpTransaction, RequestVerdict } from './transaction.ts';

const clusters = new Set(['shop/api', 'shop/admin', 'shop/web', 'shop/ws', 'shop/legacy']);

function compile(rules: Partial<ir.Rules>, tables = tablesOf()): CompiledRules {
  return compileRules({ ...emptyRules(), ...rules }, { tables, clusters });
}

function get(target: string, ...headers: string[]): HttpTransaction {
  return httpTx(requestHead(`GET ${target} HTTP/1.1`, 'Host: shop.example.com', ...headers));
}

function forwardedTo(verdict: RequestVerdict): string | null {
  assert.equal(verdict.kind, 'forward');
  return verdict.kind === 'forward' ? verdict.cluster : null;
}

// acls: [{ name: is_api, criterion: "path_beg -i /api /v2" }, { name: is_admin, criterion: "path_beg /api/admin" }]
const isApi = acl('is_api', [{ sample: smp('path'), method: 'beg', ignoreCase: true, patterns: ['/api', '/v2'] }]);
const isAdmin = acl('is_admin', [{ sample: smp('path'), method: 'beg', ignoreCase: false, patterns: ['/api/admin'] }]);

test('api/admin routing: use_backend api if "is_api !is_admin", admin if "is_admin", else the default', () => {
  const rules = compile({
    useBackends: [
      { cluster: 'shop/api', condition: when([isApi, { ...isAdmin, negate: true }]) },
      { cluster: 'shop/admin', condition: when([isAdmin]) },
    ],
  });
  assert.equal(forwardedTo(rules.onHttpRequest(get('/api/orders'))), 'shop/api');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/V2/orders?page=2'))), 'shop/api');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/api/admin/users'))), 'shop/admin');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/index.html'))), null);
});

test('"is_api || { hdr(host) -i api.example.com }"', () => {
  const apiHost = term({ sample: smp('req.hdr', ['host']), method: 'str', ignoreCase: true, patterns: ['api.example.com'] });
  const rules = compile({ useBackends: [{ cluster: 'shop/api', condition: when([isApi], [apiHost]) }] });
  assert.equal(forwardedTo(rules.onHttpRequest(httpTx(requestHead('GET / HTTP/1.1', 'Host: API.Example.com')))), 'shop/api');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/api'))), 'shop/api');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/'))), null);
});

test('redirect to https unless { ssl_fc }', () => {
  const rules = compile({
    httpRequest: [{ action: 'redirect', type: 'scheme', value: [text('https')], code: 301, condition: unless([term({ sample: smp('ssl_fc'), method: 'bool', ignoreCase: false, patterns: [] })]) }],
  });
  const verdict = rules.onHttpRequest(get('/cart?item=7'));
  assert.ok(verdict.kind === 'respond');
  assert.equal(verdict.status, 301);
  assert.equal(verdict.response, 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: https://shop.example.com/cart?item=7\r\nconnection: close\r\n\r\n');
  const overTls = httpTx(requestHead('GET /cart HTTP/1.1', 'Host: shop.example.com'), { ssl: true, sni: 'shop.example.com' });
  assert.deepEqual(rules.onHttpRequest(overTls), { kind: 'forward', cluster: null });
});

test('set-header with value "%[src]"', () => {
  const rules = compile({ httpRequest: [{ action: 'set-header', name: 'X-Client-IP', value: [{ kind: 'sample', sample: smp('src'), quote: false }], condition: null }] });
  const tx = httpTx(requestHead('GET / HTTP/1.1', 'Host: shop.example.com', 'X-Client-IP: 6.6.6.6'), { src: '::ffff:198.51.100.23' });
  rules.onHttpRequest(tx);
  assert.equal(tx.req.header('x-client-ip'), '198.51.100.23');
  assert.equal(tx.req.text, 'GET / HTTP/1.1\r\nHost: shop.example.com\r\nX-Client-IP: 198.51.100.23\r\n\r\n');
});

test('IP allow-list: deny 403 unless { src 10.0.0.0/8 192.168.0.0/16 2001:db8::/32 }', () => {
  const allowed = term({ sample: smp('src'), method: 'ip', ignoreCase: false, patterns: ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32'] });
  const rules = compile({ httpRequest: [{ action: 'deny', status: 403, condition: unless([allowed]) }], useBackends: [{ cluster: 'shop/admin', condition: null }] });
  const from = (src: string): RequestVerdict => rules.onHttpRequest(httpTx(requestHead('GET /admin HTTP/1.1', 'Host: shop.example.com'), { src }));
  assert.equal(forwardedTo(from('::ffff:10.4.5.6')), 'shop/admin');
  assert.equal(forwardedTo(from('192.168.200.1')), 'shop/admin');
  assert.equal(forwardedTo(from('2001:db8:42::1')), 'shop/admin');
  const denied = from('::ffff:203.0.113.50');
  assert.ok(denied.kind === 'respond');
  assert.equal(denied.status, 403);
  assert.match(denied.response, /^HTTP\/1\.1 403 Forbidden\r\n/);
});

test('WebSocket detection by header: use_backend ws if { hdr(upgrade) -i websocket } { hdr(connection) -i upgrade }', () => {
  const upgrade = term({ sample: smp('req.hdr', ['upgrade']), method: 'str', ignoreCase: true, patterns: ['websocket'] });
  const connection = term({ sample: smp('req.hdr', ['connection']), method: 'str', ignoreCase: true, patterns: ['upgrade'] });
  const rules = compile({ useBackends: [{ cluster: 'shop/ws', condition: when([upgrade, connection]) }, { cluster: 'shop/web', condition: null }] });
  const ws = get('/chat', 'Connection: keep-alive, Upgrade', 'Upgrade: WebSocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==');
  assert.equal(forwardedTo(rules.onHttpRequest(ws)), 'shop/ws', 'each comma-separated Connection value is tried');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/chat', 'Upgrade: websocket'))), 'shop/web', 'no Connection: upgrade');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/chat'))), 'shop/web');
});

test('the fetches SPEC names, each routing a request', () => {
  const table = new FakeTable(stickTable('frontend:shop/web', [{ type: 'conn_cur' }]));
  const route = (cluster: string, ...criteria: ir.Criterion[]) => ({ cluster, condition: when(criteria.map((c) => term(c))) });
  const rules = compile(
    {
      useBackends: [
        route('shop/legacy', { sample: smp('path'), method: 'end', ignoreCase: false, patterns: ['.php'] }),
        route('shop/legacy', { sample: smp('path'), method: 'reg', ignoreCase: false, patterns: ['^/cgi-bin/[a-z]+$'] }),
        route('shop/api', { sample: smp('url_param', ['format']), method: 'str', ignoreCase: false, patterns: ['json'] }),
        route('shop/admin', { sample: smp('req.cook', ['role']), method: 'str', ignoreCase: false, patterns: ['admin'] }),
        route('shop/api', { sample: smp('method'), method: 'str', ignoreCase: false, patterns: ['PUT', 'DELETE'] }),
        route('shop/ws', { sample: smp('dst_port'), method: 'int', ignoreCase: false, patterns: [{ op: 'eq', value: 8443 }] }),
        route('shop/ws', { sample: smp('ssl_fc_sni'), method: 'str', ignoreCase: true, patterns: ['ws.example.com'] }),
        route('shop/legacy', { sample: smp('src_conn_cur', ['frontend:shop/web']), method: 'int', ignoreCase: false, patterns: [{ op: 'gt', value: 1 }] }),
        route('shop/legacy', { sample: smp('sc_conn_cur', ['0']), method: 'int', ignoreCase: false, patterns: [{ op: 'ge', value: 1 }] }),
      ],
    },
    tablesOf(table),
  );
  assert.equal(forwardedTo(rules.onHttpRequest(get('/index.php'))), 'shop/legacy');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/cgi-bin/form'))), 'shop/legacy');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/cgi-bin/form2'))), null);
  assert.equal(forwardedTo(rules.onHttpRequest(get('/items?format=json'))), 'shop/api');
  assert.equal(forwardedTo(rules.onHttpRequest(get('/', 'Cookie: lang=fr; role=admin'))), 'shop/admin');
  assert.equal(forwardedTo(rules.onHttpRequest(httpTx(requestHead('DELETE /items/3 HTTP/1.1', 'Host: a')))), 'shop/api');
  assert.equal(forwardedTo(rules.onHttpRequest(httpTx(requestHead('GET / HTTP/1.1', 'Host: a'), { dstPort: 8443 }))), 'shop/ws');
  assert.equal(forwardedTo(rules.onHttpRequest(httpTx(requestHead('GET / HTTP/1.1', 'Host: a'), { ssl: true, sni: 'WS.example.com' }))), 'shop/ws');
  const busy = table.track('192.0.2.10')!;
  busy.trackStart();
  busy.trackStart();
  assert.equal(forwardedTo(rules.onHttpRequest(get('/'))), 'shop/legacy', 'src_conn_cur of the client is 2');
  const trackers = new FakeTrackers();
  trackers.track(0, table, '192.0.2.99');
  assert.equal(forwardedTo(rules.onHttpRequest(httpTx(requestHead('GET / HTTP/1.1', 'Host: a'), { src: '192.0.2.99', trackers }))), 'shop/legacy');
  assert.equal(forwardedTo(rules.onHttpRequest(httpTx(requestHead('GET / HTTP/1.1', 'Host: a'), { src: '192.0.2.98' }))), null);
});

test('100 requests per 10 s per client: the 101st is denied with 429, until the period slides', () => {
  // stickTable: { type: ip, size: 100k, expire: 30s, store: ["http_req_rate(10s)"] }
  // httpRequest: [ { action: track-sc0, key: src }, { action: deny, status: 429, if: "{ sc_http_req_rate(0) gt 100 }" } ]
  const clock = new FakeClock();
  const table = new FakeTable(stickTable('frontend:shop/web', [{ type: 'http_req_rate', periodMs: 10_000 }]), clock);
  const overLimit = term({ sample: smp('sc_http_req_rate', ['0']), method: 'int', ignoreCase: false, patterns: [{ op: 'gt', value: 100 }] });
  const rules = compile(
    {
      httpRequest: [
        { action: 'track-sc', counter: 0, key: smp('src'), table: 'frontend:shop/web', condition: null },
        { action: 'deny', status: 429, condition: when([overLimit]) },
      ],
    },
    tablesOf(table),
  );

  // A session serving one request per transaction: it counts the request for entries already
  // tracked, runs the rules, and releases the counters when the transaction ends (HAProxy).
  const serve = (src: string, trackers = new FakeTrackers(), release = true): RequestVerdict => {
    const tx = httpTx(requestHead('GET / HTTP/1.1', 'Host: shop.example.com'), { src, trackers });
    trackers.httpRequest();
    const verdict = rules.onHttpRequest(tx);
    if (release) trackers.release();
    return verdict;
  };

  for (let i = 1; i <= 100; i++) {
    assert.equal(serve('::ffff:192.0.2.10').kind, 'forward', `request ${i}`);
    clock.now += 10; // 100 requests within one second
  }
  const denied = serve('::ffff:192.0.2.10');
  assert.ok(denied.kind === 'respond', 'the 101st request');
  assert.equal(denied.status, 429);
  assert.match(denied.response, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
  assert.equal(serve('::ffff:192.0.2.11').kind, 'forward', 'another client has its own entry');
  clock.now += 10_000;
  assert.equal(serve('::ffff:192.0.2.10').kind, 'forward', 'the period has slid');

  // The same on one keep-alive connection whose counters stay tracked between requests.
  const other = new FakeTrackers();
  for (let i = 1; i <= 100; i++) assert.equal(serve('192.0.2.20', other, false).kind, 'forward', `keep-alive request ${i}`);
  assert.equal(serve('192.0.2.20', other, false).kind, 'respond', 'the 101st keep-alive request');
});
