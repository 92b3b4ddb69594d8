import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FETCHES } from '@switchyard/api';
import { FETCH_TABLE, type BoundFetch } from './fetches.ts';
import { FakeClock, FakeTable, FakeTrackers, httpTx, requestHead, responseHead, stickTable, tablesOf, tcpTx } from './test-support.ts';
import type { Transaction } from './transaction.ts';
import type { Present } from './values.ts';

function bind(name: string, args: string[] = [], tables = tablesOf()): BoundFetch {
  return FETCH_TABLE[name]!(args, { tables });
}

function valueOf(name: string, args: string[], tx: Transaction): unknown {
  return bind(name, args).value(tx);
}

/** Every value a condition sees (or the single value when the fetch has one). */
function valuesOf(name: string, args: string[], tx: Transaction): Present[] {
  const fetch = bind(name, args);
  if (fetch.each === null) {
    const v = fetch.value(tx);
    return v === null ? [] : [v];
  }
  const out: Present[] = [];
  fetch.each(tx, (v) => {
    out.push(v);
    return false;
  });
  return out;
}

test('the fetch table implements exactly the catalogue', () => {
  assert.deepEqual(Object.keys(FETCH_TABLE).sort(), Object.keys(FETCHES).sort());
});

test('connection fetches: addresses without the IPv4-mapped prefix, ports, TLS', () => {
  const tx = tcpTx({ src: '::ffff:10.1.2.3', srcPort: 5555, dst: '::ffff:10.0.0.1', dstPort: 8443 });
  assert.equal(valueOf('src', [], tx), '10.1.2.3');
  assert.equal(valueOf('src_port', [], tx), 5555);
  assert.equal(valueOf('dst', [], tx), '10.0.0.1');
  assert.equal(valueOf('dst_port', [], tx), 8443);
  assert.equal(valueOf('src', [], tcpTx({ src: '2001:db8::1' })), '2001:db8::1');
  assert.equal(valueOf('ssl_fc', [], tx), false);
  assert.equal(valueOf('ssl_fc_sni', [], tx), null, 'no SNI is no value, as HAProxy');
  assert.equal(valueOf('ssl_fc_sni', [], tcpTx({ ssl: true, sni: 'api.example.com' })), 'api.example.com');
  assert.equal(valueOf('always_true', [], tx), true);
  assert.equal(valueOf('always_false', [], tx), false);
});

test('request line fetches: method, path, url, query, base, req.ver', () => {
  const tx = httpTx(requestHead('POST /api/v1/items?id=3&x=y HTTP/1.0', 'Host: shop.example.com'));
  assert.equal(valueOf('method', [], tx), 'POST');
  assert.equal(valueOf('path', [], tx), '/api/v1/items');
  assert.equal(valueOf('url', [], tx), '/api/v1/items?id=3&x=y');
  assert.equal(valueOf('query', [], tx), 'id=3&x=y');
  assert.equal(valueOf('base', [], tx), 'shop.example.com/api/v1/items');
  assert.equal(valueOf('req.ver', [], tx), '1.0');
  assert.equal(valueOf('req.ver', [], httpTx(requestHead('GET / HTTP/1.1', 'Host: a'))), '1.1');
});

test('path and query edge cases: absolute-form, no query, empty query, asterisk', () => {
  const absolute = httpTx(requestHead('GET http://example.com:8080/a/b?q HTTP/1.1', 'Host: example.com:8080'));
  assert.equal(valueOf('path', [], absolute), '/a/b');
  assert.equal(valueOf('url', [], absolute), 'http://example.com:8080/a/b?q');
  assert.equal(valueOf('path', [], httpTx(requestHead('GET http://example.com HTTP/1.1', 'Host: example.com'))), null);
  const plain = httpTx(requestHead('GET /p HTTP/1.1', 'Host: a'));
  assert.equal(valueOf('query', [], plain), null, 'no question mark: no value');
  assert.equal(valueOf('query', [], httpTx(requestHead('GET /p? HTTP/1.1', 'Host: a'))), '');
  assert.equal(valueOf('path', [], httpTx(requestHead('OPTIONS * HTTP/1.1', 'Host: a'))), null);
  assert.equal(valueOf('base', [], httpTx(requestHead('GET /p HTTP/1.0'))), '/p', 'no Host: the path alone');
});

test('url_param: first value for a sample, every value for a condition, names case-sensitive', () => {
  const tx = httpTx(requestHead('GET /s?user=ann&ID=1&user=bob&empty=&flag&id=2 HTTP/1.1', 'Host: a'));
  assert.equal(valueOf('url_param', ['user'], tx), 'ann');
  assert.deepEqual(valuesOf('url_param', ['user'], tx), ['ann', 'bob']);
  assert.equal(valueOf('url_param', ['id'], tx), '2');
  assert.equal(valueOf('url_param', ['empty'], tx), '');
  assert.equal(valueOf('url_param', ['flag'], tx), null, 'a parameter without = has no value');
  assert.equal(valueOf('url_param', ['missing'], tx), null);
  assert.equal(valueOf('url_param', ['user'], httpTx(requestHead('GET /s HTTP/1.1', 'Host: a'))), null);
});

test('req.hdr: comma-split values, last by default, occurrences from both ends, every value in conditions', () => {
  const tx = httpTx(requestHead('GET / HTTP/1.1', 'Host: a', 'X-Forwarded-For: 10.0.0.1, 10.0.0.2', 'X-Forwarded-For: 10.0.0.3', 'Accept: "a,b", c'));
  assert.equal(valueOf('req.hdr', ['x-forwarded-for'], tx), '10.0.0.3');
  assert.equal(valueOf('req.hdr', ['X-Forwarded-For', '1'], tx), '10.0.0.1');
  assert.equal(valueOf('req.hdr', ['x-forwarded-for', '2'], tx), '10.0.0.2');
  assert.equal(valueOf('req.hdr', ['x-forwarded-for', '-2'], tx), '10.0.0.2');
  assert.equal(valueOf('req.hdr', ['x-forwarded-for', '4'], tx), null);
  assert.equal(valueOf('req.hdr', ['x-forwarded-for', '-4'], tx), null);
  assert.deepEqual(valuesOf('req.hdr', ['x-forwarded-for'], tx), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.deepEqual(valuesOf('req.hdr', ['x-forwarded-for', '1'], tx), ['10.0.0.1'], 'an explicit occurrence is one value');
  assert.deepEqual(valuesOf('req.hdr', ['accept'], tx), ['"a,b"', 'c'], 'commas inside quotes do not split');
  assert.equal(valueOf('req.hdr', ['x-missing'], tx), null);
  assert.deepEqual(valuesOf('req.hdr', ['x-missing'], tx), []);
});

test('req.fhdr takes whole lines; req.hdr_cnt counts comma-separated values', () => {
  const tx = httpTx(requestHead('GET / HTTP/1.1', 'Host: a', 'X-A: 1, 2', 'X-A: 3'));
  assert.equal(valueOf('req.fhdr', ['x-a'], tx), '3');
  assert.equal(valueOf('req.fhdr', ['x-a', '1'], tx), '1, 2');
  assert.equal(valueOf('req.fhdr', ['x-a', '-2'], tx), '1, 2');
  assert.deepEqual(valuesOf('req.fhdr', ['x-a'], tx), ['1, 2', '3']);
  assert.equal(valueOf('req.hdr_cnt', ['x-a'], tx), 3);
  assert.equal(valueOf('req.hdr_cnt', ['x-none'], tx), 0);
});

test('req.cook: last occurrence for a sample, every one in conditions, HAProxy cookie syntax', () => {
  const tx = httpTx(requestHead('GET / HTTP/1.1', 'Host: a', 'Cookie: SID=abc; theme = dark ;$Path=/; flag; SID=def', 'Cookie: q="x;y", SID=ghi'));
  assert.equal(valueOf('req.cook', ['SID'], tx), 'ghi');
  assert.deepEqual(valuesOf('req.cook', ['SID'], tx), ['abc', 'def', 'ghi']);
  assert.equal(valueOf('req.cook', ['theme'], tx), 'dark', 'spaces around = and the value are trimmed');
  assert.equal(valueOf('req.cook', ['q'], tx), '"x;y"', 'a quoted value keeps its separators');
  assert.equal(valueOf('req.cook', ['sid'], tx), null, 'names are case-sensitive');
  assert.equal(valueOf('req.cook', ['flag'], tx), null, 'a cookie without = is skipped');
  assert.equal(valueOf('req.cook', ['Path'], tx), null);
  assert.equal(valueOf('req.cook_cnt', ['SID'], tx), 3);
  assert.equal(valueOf('req.cook_cnt', ['none'], tx), 0);
});

test('response fetches: res.hdr, res.cook from Set-Cookie, status; no value before the response', () => {
  const req = requestHead('GET / HTTP/1.1', 'Host: a');
  const res = responseHead('HTTP/1.1 302 Found', 'Set-Cookie: JSESSIONID=s1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'Set-Cookie: lang=en', 'Vary: a, b', 'Content-Length: 0');
  const tx = httpTx(req, { res });
  assert.equal(valueOf('status', [], tx), 302);
  assert.equal(valueOf('res.cook', ['JSESSIONID'], tx), 's1');
  assert.equal(valueOf('res.cook', ['Path'], tx), null, 'only the first pair of a Set-Cookie is a cookie');
  assert.deepEqual(valuesOf('res.cook', ['lang'], tx), ['en']);
  assert.equal(valueOf('res.hdr', ['vary'], tx), 'b');
  assert.equal(valueOf('res.hdr', ['vary', '1'], tx), 'a');
  const before = httpTx(req);
  assert.equal(valueOf('status', [], before), null);
  assert.equal(valueOf('res.hdr', ['vary'], before), null);
  assert.equal(valueOf('path', [], tcpTx()), null, 'a TCP transaction has no request');
});

test('sc_* read the tracked entry, 0 when the slot tracks nothing; gpc0 increments and clears', () => {
  const clock = new FakeClock();
  const table = new FakeTable(stickTable('frontend:default/web', [{ type: 'conn_cur' }, { type: 'http_req_cnt' }, { type: 'http_req_rate', periodMs: 10_000 }, { type: 'gpc0' }]), clock);
  const trackers = new FakeTrackers();
  const tx = tcpTx({ trackers });
  assert.equal(valueOf('sc_http_req_rate', ['0'], tx), 0);
  assert.equal(valueOf('sc_inc_gpc0', ['0'], tx), 0);
  trackers.track(0, table, '192.0.2.10');
  trackers.httpRequest();
  trackers.httpRequest();
  assert.equal(valueOf('sc_conn_cur', ['0'], tx), 1);
  assert.equal(valueOf('sc_http_req_cnt', ['0'], tx), 2);
  assert.equal(valueOf('sc_http_req_rate', ['0'], tx), 2);
  assert.equal(valueOf('sc_http_req_rate', ['1'], tx), 0);
  assert.equal(valueOf('sc_conn_rate', ['0'], tx), 0, 'not stored: 0');
  assert.equal(valueOf('sc_inc_gpc0', ['0'], tx), 1);
  assert.equal(valueOf('sc_inc_gpc0', ['0'], tx), 2);
  assert.equal(valueOf('sc_get_gpc0', ['0'], tx), 2);
  assert.equal(valueOf('sc_clr_gpc0', ['0'], tx), 2, 'returns the value before clearing');
  assert.equal(valueOf('sc_get_gpc0', ['0'], tx), 0);
  for (const name of ['sc_conn_cnt', 'sc_http_err_cnt', 'sc_http_err_rate', 'sc_bytes_out_rate']) assert.equal(valueOf(name, ['2'], tx), 0, name);
});

test('src_* look the client up in the named table without creating it; src_inc_gpc0 creates', () => {
  const table = new FakeTable(stickTable('frontend:default/web', [{ type: 'conn_cur' }, { type: 'conn_cnt' }, { type: 'gpc0' }]));
  const tables = tablesOf(table);
  const tx = tcpTx({ src: '::ffff:192.0.2.10' });
  const read = (name: string): unknown => bind(name, ['frontend:default/web'], tables).value(tx);
  assert.equal(read('src_conn_cur'), 0);
  assert.equal(table.size, 0, 'a lookup does not create');
  table.track('192.0.2.10')!.trackStart();
  assert.equal(read('src_conn_cur'), 1);
  assert.equal(read('src_conn_cnt'), 1);
  assert.equal(read('src_inc_gpc0'), 1);
  assert.equal(read('src_get_gpc0'), 1);
  for (const name of ['src_conn_rate', 'src_http_req_cnt', 'src_http_req_rate', 'src_http_err_cnt', 'src_http_err_rate', 'src_bytes_out_rate']) assert.equal(read(name), 0, name);
  const fresh = tcpTx({ src: '192.0.2.99' });
  assert.equal(bind('src_inc_gpc0', ['frontend:default/web'], tables).value(fresh), 1);
  assert.equal(table.size, 2);
  assert.throws(() => bind('src_conn_cur', ['frontend:default/none'], tables), /unknown stick table 'frontend:default\/none'/);
  assert.throws(() => bind('src_conn_cur', [], tables), /stick table argument is required/);
  assert.throws(() => bind('sc_conn_cur', ['3']), /0, 1 or 2/);
});

test('invalid arguments are refused when binding', () => {
  assert.throws(() => bind('req.hdr', ['x', 'last']), /occurrence must be an integer/);
  assert.throws(() => bind('req.hdr', []), /name argument is required/);
});
