import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ir } from '@switchyard/api';
import { compileCondition, compileCriterion } from './condition.ts';
import { FakeTable, FakeTrackers, acl, criterion, httpTx, requestHead, smp, stickTable, tablesOf, tcpTx, term, unless, when } from './test-support.ts';
import type { Transaction } from './transaction.ts';

const context = { tables: tablesOf() };

function get(path: string, ...headers: string[]): Transaction {
  return httpTx(requestHead(`GET ${path} HTTP/1.1`, 'Host: app.example.com', ...headers));
}

const isApi = acl('is_api', [criterion(smp('path'), 'beg', ['/api'], true)]);
const isAdmin = acl('is_admin', [criterion(smp('path'), 'beg', ['/api/admin'])]);
const apiHost = term(criterion(smp('req.hdr', ['host']), 'str', ['api.example.com'], true));

test('terms side by side are ANDed; ! negates one term (is_api !is_admin)', () => {
  const holds = compileCondition(when([isApi, { ...isAdmin, negate: true }]), context, 'http-request');
  assert.ok(holds(get('/api/users')));
  assert.ok(holds(get('/API/users')), 'the -i of is_api');
  assert.ok(!holds(get('/api/admin/users')));
  assert.ok(!holds(get('/web')));
});

test('|| separates alternatives (is_api || { hdr(host) -i api.example.com })', () => {
  const holds = compileCondition(when([isApi], [apiHost]), context, 'http-request');
  assert.ok(holds(get('/api/x')));
  assert.ok(holds(httpTx(requestHead('GET /web HTTP/1.1', 'Host: API.example.com'))));
  assert.ok(!holds(get('/web')));
});

test('unless negates the whole condition; a named ACL ORs its criteria', () => {
  const staticFiles = acl('static', [criterion(smp('path'), 'end', ['.css']), criterion(smp('path'), 'beg', ['/assets/'])]);
  const holds = compileCondition(unless([staticFiles]), context, 'http-request');
  assert.ok(!holds(get('/a.css')));
  assert.ok(!holds(get('/assets/logo.svg')));
  assert.ok(holds(get('/index.html')));
});

test('evaluation stops at the first term that decides', () => {
  const table = new FakeTable(stickTable('t', [{ type: 'gpc0' }]));
  const trackers = new FakeTrackers();
  trackers.track(0, table, '192.0.2.10');
  const tx = httpTx(requestHead('GET /web HTTP/1.1', 'Host: a'), { trackers });
  const bump = term({ sample: smp('sc_inc_gpc0', ['0']), method: 'int', ignoreCase: false, patterns: [{ op: 'gt', value: 0 }] });
  compileCondition(when([isApi, bump]), context, 'http-request')(tx);
  assert.equal(trackers.get(0)!.read('gpc0'), 0, 'is_api was false: the counter was not touched');
  compileCondition(when([bump], [bump]), context, 'http-request')(tx);
  assert.equal(trackers.get(0)!.read('gpc0'), 1, 'the first alternative held: the second never ran');
});

test('a criterion holds when any value matches; no value never matches but found tests absence', () => {
  const xff = (...values: string[]): Transaction => get('/', ...values.map((v) => `X-Forwarded-For: ${v}`));
  const internal = compileCriterion({ sample: smp('req.hdr', ['x-forwarded-for']), method: 'ip', ignoreCase: false, patterns: ['10.0.0.0/8'] }, context, 'http-request');
  assert.ok(internal(xff('203.0.113.5, 10.1.1.1')));
  assert.ok(internal(xff('203.0.113.5', '10.1.1.1')));
  assert.ok(!internal(xff('203.0.113.5')));
  assert.ok(!internal(xff()));
  const found = term({ sample: smp('req.hdr', ['x-forwarded-for']), method: 'found', ignoreCase: false, patterns: [] });
  assert.ok(compileCondition(when([found]), context, 'http-request')(xff('1.2.3.4')));
  assert.ok(!compileCondition(when([found]), context, 'http-request')(xff()));
  assert.ok(compileCondition(when([{ ...found, negate: true }]), context, 'http-request')(xff()));
  const notApi = compileCondition(when([term(criterion(smp('req.hdr', ['x-missing']), 'str', ['x']), true)]), context, 'http-request');
  assert.ok(notApi(get('/')), '! of a criterion without value is true');
});

test('converters apply to each value of a multi-valued sample', () => {
  const lowered = compileCriterion(criterion(smp('req.hdr', ['x-tag'], ['lower']), 'str', ['blue']), context, 'http-request');
  assert.ok(lowered(get('/', 'X-Tag: RED, BLUE')));
  assert.ok(!lowered(get('/', 'X-Tag: RED')));
});

test('the phase decides which fetches a condition may use', () => {
  const pathCond: ir.Condition = when([isApi]);
  assert.throws(() => compileCondition(pathCond, context, 'tcp-request'), /fetch 'path' needs the HTTP request/);
  const status = when([term({ sample: smp('status'), method: 'int', ignoreCase: false, patterns: [{ op: 'eq', value: 500 }] })]);
  assert.throws(() => compileCondition(status, context, 'http-request'), /needs the HTTP response/);
  assert.doesNotThrow(() => compileCondition(status, context, 'http-response'));
  const src = compileCondition(when([term({ sample: smp('src'), method: 'ip', ignoreCase: false, patterns: ['192.0.2.0/24'] })]), context, 'tcp-request');
  assert.ok(src(tcpTx()));
});

test('unknown fetches and converters are compile errors naming them', () => {
  assert.throws(() => compileCondition(when([term(criterion(smp('nope'), 'str', ['x']))]), context, 'http-request'), /unknown fetch 'nope'/);
  assert.throws(() => compileCondition(when([term(criterion(smp('path', [], ['nope']), 'str', ['x']))]), context, 'http-request'), /unknown converter 'nope' in 'path,nope'/);
  assert.throws(() => compileCondition(when([term(criterion(smp('path', ['x']), 'str', ['x']))]), context, 'http-request'), /takes 0 argument/);
});
