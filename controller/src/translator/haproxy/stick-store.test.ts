import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStoreEntry } from './stick-store.ts';
import { errorOf } from './testing.ts';

test('counters and rates with their period', () => {
  assert.deepEqual(parseStoreEntry('http_req_rate(10s)'), [{ type: 'http_req_rate', periodMs: 10_000 }]);
  assert.deepEqual(parseStoreEntry('conn_cur'), [{ type: 'conn_cur' }]);
  assert.deepEqual(parseStoreEntry('conn_rate(1m30s),gpc0,bytes_out_rate(500ms)'), [
    { type: 'conn_rate', periodMs: 90_000 },
    { type: 'gpc0' },
    { type: 'bytes_out_rate', periodMs: 500 },
  ]);
});

test('errors name the data type and its column', () => {
  assert.equal(errorOf(() => parseStoreEntry('http_req_rate')), 'column 14: http_req_rate needs a period, e.g. http_req_rate(10s)');
  assert.equal(errorOf(() => parseStoreEntry('conn_cur(10s)')), 'column 9: conn_cur is a counter and takes no period');
  assert.equal(errorOf(() => parseStoreEntry('conn_cur,conn_rate(0s)')), 'column 20: conn_rate needs a period greater than 0 such as 10s, got "0s"');
  assert.equal(errorOf(() => parseStoreEntry('conn_rate(10 s)')), 'column 11: conn_rate needs a period greater than 0 such as 10s, got "10 s"');
  assert.equal(
    errorOf(() => parseStoreEntry('conn_cur,http_req_rat(10s)')),
    'column 10: unknown data type "http_req_rat" (did you mean http_req_rate?); expected one of conn_cur, conn_cnt, http_req_cnt, http_err_cnt, bytes_out_cnt, gpc0, conn_rate, http_req_rate, http_err_rate, bytes_out_rate, gpc0_rate',
  );
  assert.equal(errorOf(() => parseStoreEntry('server_id')), 'column 1: server_id is stored by Backend stick persistence, not by a Frontend table');
  assert.equal(errorOf(() => parseStoreEntry('')), 'column 1: expected a data type such as http_req_rate(10s) or conn_cur, got ""');
  assert.equal(errorOf(() => parseStoreEntry('conn cur')), 'column 1: expected a data type such as http_req_rate(10s) or conn_cur, got "conn cur"');
});
