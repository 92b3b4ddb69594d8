import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ir } from '@switchyard/api';
import { parseCondition } from './condition.ts';
import type { ConditionEnv, NamedAcl } from './condition.ts';
import { parseCriterion } from './criterion.ts';
import type { Phase } from './phase.ts';
import { PREDEFINED_ACLS, predefinedAcl } from './predefined.ts';
import { errorOf, tableEnv } from './testing.ts';
import { splitWords } from './words.ts';

const env = tableEnv('http_req_rate');
const REQUEST: Phase = { allows: 'request', where: 'httpRequest rules' };
const TCP: Phase = { allows: 'none', where: 'tcpRequest rules' };

function acls(defs: Record<string, string[]>): Map<string, NamedAcl> {
  return new Map(
    Object.entries(defs).map(([name, criteria]) => [name, { criteria: criteria.map((c) => parseCriterion(c, splitWords(c), env)), defined: `spec.acls (${name})`, broken: false }]),
  );
}

const ACLS = acls({ is_api: ['path_beg /api'], is_admin: ['path_beg /admin', 'hdr(host) admin.example.com'], is_json: ['res.hdr(content-type) -m sub json'] });
const ctx = (phase: Phase = REQUEST, named = ACLS): ConditionEnv => ({ acls: named, sample: env, phase });
const cond = (text: string, phase: Phase = REQUEST, unless = false): ir.Condition => parseCondition(text, unless, ctx(phase));
const error = (text: string, phase: Phase = REQUEST): string => errorOf(() => parseCondition(text, false, ctx(phase)));
/** A condition's shape: alternatives of terms, each `!name` or `{fetch}`. */
const shape = (c: ir.Condition): string[][] => c.any.map((all) => all.map((t) => `${t.negate ? '!' : ''}${t.name ?? `{${t.criteria[0]!.sample.fetch}}`}`));

test('terms side by side are ANDed, || separates alternatives, ! negates', () => {
  assert.deepEqual(shape(cond('is_api !is_admin')), [['is_api', '!is_admin']]);
  assert.deepEqual(shape(cond('is_api || { hdr(host) -i api.example.com }')), [['is_api'], ['{req.hdr}']]);
  assert.deepEqual(shape(cond('is_api or !is_admin is_api || TRUE')), [['is_api'], ['!is_admin', 'is_api'], ['TRUE']]);
  assert.deepEqual(shape(cond('!{ src 10.0.0.0/8 } ! is_api !!is_admin ! { path / }')), [['!{src}', '!is_api', 'is_admin', '!{path}']]);
  assert.equal(cond('is_api', REQUEST, true).unless, true);
});

test('a named ACL holds every definition of that name, in order; anonymous ACLs hold one criterion', () => {
  const c = cond('is_admin { sc_http_req_rate(0) gt 100 }');
  const [named, anonymous] = c.any[0]!;
  assert.deepEqual(
    named!.criteria.map((x) => [x.sample.fetch, x.method, x.patterns]),
    [
      ['path', 'beg', ['/admin']],
      ['req.hdr', 'str', ['admin.example.com']],
    ],
  );
  assert.deepEqual(anonymous, {
    negate: false,
    name: null,
    criteria: [{ sample: { fetch: 'sc_http_req_rate', args: ['0'], converters: [] }, method: 'int', ignoreCase: false, patterns: [{ op: 'gt', value: 100 }] }],
  });
  // Two uses of one ACL are independent copies.
  const twice = cond('is_api || is_api');
  assert.notEqual(twice.any[0]![0]!.criteria[0], twice.any[1]![0]!.criteria[0]);
});

test('predefined ACLs expand into criteria; a user ACL of the same name wins', () => {
  for (const name of PREDEFINED_ACLS) assert.ok(predefinedAcl(name)!.length > 0, name);
  assert.equal(predefinedAcl('NOPE'), null);
  assert.deepEqual(cond('METH_GET').any[0]![0]!.criteria[0]!.patterns, ['GET', 'HEAD']);
  assert.deepEqual(cond('LOCALHOST').any[0]![0]!.criteria[0]!.patterns, ['127.0.0.1/8', '::1']);
  assert.deepEqual(cond('HTTP_1.0').any[0]![0]!.criteria[0]!.patterns, ['1.0']);
  assert.equal(cond('WAIT_END').any[0]![0]!.criteria[0]!.sample.fetch, 'always_true');
  assert.equal(cond('FALSE').any[0]![0]!.criteria[0]!.sample.fetch, 'always_false');
  const own = acls({ TRUE: ['path /never'] });
  assert.equal(parseCondition('TRUE', false, ctx(REQUEST, own)).any[0]![0]!.criteria[0]!.sample.fetch, 'path');
});

test('syntax errors point at the term', () => {
  assert.equal(error(''), 'column 1: empty condition');
  assert.equal(error('   '), 'column 1: empty condition');
  assert.equal(error('is_api ||'), 'column 8: || needs a term after it');
  assert.equal(error('|| is_api'), 'column 1: || needs a term before it');
  assert.equal(error('is_api || or is_admin'), 'column 11: or needs a term before it');
  assert.equal(error('is_api !'), 'column 8: "!" needs a term after it');
  assert.equal(error('is_api ! || TRUE'), 'column 8: "!" needs a term after it');
  assert.equal(error('!|| TRUE'), 'column 1: "!" needs a term after it');
  assert.equal(error('{ path_beg /a'), 'column 1: unclosed "{": an anonymous ACL ends with " }"');
  assert.equal(error('is_api !{ }'), 'column 9: empty "{ }": an anonymous ACL holds a criterion, e.g. { path_beg /api }');
  assert.equal(error('{path_beg /a }'), 'column 1: "{" must be followed by a space');
  assert.equal(error('is_api }'), 'column 8: unexpected "}" without a "{" before it');
  assert.equal(error('is_api && is_admin'), 'column 8: "&&" is not needed: terms side by side must all hold (use || for "or")');
  assert.equal(error('is_api { path_beg -z /a }'), 'column 19: unknown flag "-z"; expected -i, -m or -- (a pattern starting with "-" needs "--" before it)');
});

test('unknown ACLs, with a suggestion or the anonymous form of a fetch', () => {
  assert.equal(error('is_apii'), 'column 1: unknown ACL "is_apii" (did you mean is_api?): define it in spec.acls or use a predefined ACL');
  assert.equal(error('!METH_GTE'), 'column 2: unknown ACL "METH_GTE" (did you mean METH_GET?): define it in spec.acls or use a predefined ACL');
  assert.equal(error('ssl_fc'), 'column 1: unknown ACL "ssl_fc": to test the fetch ssl_fc, write an anonymous ACL: { ssl_fc }');
  assert.equal(error('zzz'), 'column 1: unknown ACL "zzz": define it in spec.acls or use a predefined ACL');
});

test('terms are checked against where the condition runs', () => {
  assert.equal(
    error('is_api is_json'),
    "column 8: ACL is_json (spec.acls (is_json)): res.hdr reads the HTTP response, which is not available in httpRequest rules (only in httpResponse rules and a Backend's storeResponse)",
  );
  assert.equal(error('{ src 10.0.0.1 } || { path /x }', TCP), 'column 23: path reads the HTTP request, which is not available in tcpRequest rules');
  assert.equal(error('!METH_POST', TCP), 'column 2: predefined ACL METH_POST: method reads the HTTP request, which is not available in tcpRequest rules');
  assert.deepEqual(shape(cond('LOCALHOST { sc_http_req_rate(0) gt 1 }', TCP)), [['LOCALHOST', '{sc_http_req_rate}']]);
  assert.deepEqual(shape(cond('is_json', { allows: 'response', where: 'httpResponse rules' })), [['is_json']]);
});

test('an ACL whose definition failed adds no error where it is used', () => {
  const broken = new Map<string, NamedAcl>([['bad', { criteria: [], defined: 'spec.acls[0]', broken: true }]]);
  assert.deepEqual(shape(parseCondition('bad', false, ctx(TCP, broken))), [['bad']]);
});
