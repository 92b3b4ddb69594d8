import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSample, parseSampleField, stickDataOf } from './sample.ts';
import type { SampleEnv } from './sample.ts';
import { errorOf, NO_TABLE, tableEnv } from './testing.ts';

const parse = (text: string, env: SampleEnv = NO_TABLE) => parseSample(text, 0, text.length, env);
const sample = (text: string, env: SampleEnv = NO_TABLE) => parse(text, env).sample;
const error = (text: string, env: SampleEnv = NO_TABLE) => errorOf(() => parse(text, env));

test('a fetch with arguments and converters', () => {
  assert.deepEqual(sample('src'), { fetch: 'src', args: [], converters: [] });
  assert.deepEqual(sample('hdr(host),lower'), { fetch: 'req.hdr', args: ['host'], converters: [{ name: 'lower', args: [] }] });
  assert.deepEqual(sample('req.hdr(x-forwarded-for,-1)'), { fetch: 'req.hdr', args: ['x-forwarded-for', '-1'], converters: [] });
  assert.deepEqual(sample('path,field(2,/),upper,length,add(+3)'), {
    fetch: 'path',
    args: [],
    converters: [
      { name: 'field', args: ['2', '/'] },
      { name: 'upper', args: [] },
      { name: 'length', args: [] },
      { name: 'add', args: ['3'] },
    ],
  });
  assert.deepEqual(parse('dst_port').type, 'int');
  assert.deepEqual(parse('hdr(host),length').type, 'int');
  assert.deepEqual(parse('src,ipmask(24)').type, 'ip');
});

test('aliases become canonical names', () => {
  for (const [alias, canonical] of [
    ['hdr(a)', 'req.hdr'],
    ['fhdr(a)', 'req.fhdr'],
    ['cook(a)', 'req.cook'],
    ['shdr(a)', 'res.hdr'],
    ['scook(a)', 'res.cook'],
    ['urlp(a)', 'url_param'],
    ['req.method', 'method'],
    ['txn.status', 'status'],
  ] as const) {
    assert.equal(sample(alias).fetch, canonical, alias);
  }
});

test('arguments: quotes, escapes, nested parentheses, empty ones', () => {
  assert.deepEqual(sample('path,regsub("a,b",x\\,y)').converters[0]!.args, ['a,b', 'x,y']);
  assert.deepEqual(sample('path,regsub(^/(a|b)/,/,g)').converters[0]!.args, ['^/(a|b)/', '/', 'g']);
  assert.deepEqual(sample("path,regsub('\\d+',)").converters[0]!.args, ['\\d+', '']);
  assert.deepEqual(sample('src()').args, []);
});

test('sc0_/sc1_/sc2_ spellings name the counter as the first argument', () => {
  const env = tableEnv('http_req_rate', 'conn_cur', 'gpc0');
  assert.deepEqual(sample('sc0_http_req_rate', env), { fetch: 'sc_http_req_rate', args: ['0'], converters: [] });
  assert.deepEqual(sample('sc2_conn_cur', env), { fetch: 'sc_conn_cur', args: ['2'], converters: [] });
  assert.deepEqual(sample('sc_inc_gpc0(1)', env), { fetch: 'sc_inc_gpc0', args: ['1'], converters: [] });
  assert.equal(error('sc1_conn_cur(1)', env), 'column 14: sc1_conn_cur names its counter already; write sc_conn_cur(1) or sc1_conn_cur without arguments');
  assert.match(error('sc3_conn_cur', env), /^column 1: unknown fetch "sc3_conn_cur"/);
});

test("src_* fetches read the Frontend's own table, named in full", () => {
  const env = tableEnv('conn_cur', 'http_req_rate');
  assert.deepEqual(sample('src_conn_cur', env).args, ['frontend:shop/web']);
  assert.deepEqual(sample('src_http_req_rate(web)', env).args, ['frontend:shop/web']);
  assert.equal(error('src_conn_cur(other)', env), `column 14: src_conn_cur can only read this Frontend's own stick table; omit the argument (got "other")`);
  assert.equal(error('src_conn_cur'), 'column 1: src_conn_cur reads a stick table, which needs spec.stickTable (this Frontend has none)');
});

test('stick-counter fetches need a table that stores what they read', () => {
  assert.equal(error('sc_http_req_rate(0)'), 'column 1: sc_http_req_rate reads a stick counter, which needs spec.stickTable (this Frontend has none)');
  assert.equal(
    error('sc_http_req_rate(0)', tableEnv('conn_cur')),
    'column 1: sc_http_req_rate reads http_req_rate, which spec.stickTable.store does not keep (add "http_req_rate(10s)")',
  );
  assert.equal(error('sc_clr_gpc0(0)', tableEnv('conn_cur')), 'column 1: sc_clr_gpc0 reads gpc0, which spec.stickTable.store does not keep (add "gpc0")');
  assert.equal(stickDataOf('src_inc_gpc0'), 'gpc0');
  assert.equal(stickDataOf('sc_bytes_out_rate'), 'bytes_out_rate');
});

test('arity and argument types', () => {
  assert.equal(error('hdr'), 'column 1: hdr takes 1 to 2 arguments, got 0');
  assert.equal(error('src(x)'), 'column 5: src takes no arguments, got 1');
  assert.equal(error('url_param(a,b)'), 'column 13: url_param takes 1 argument, got 2');
  assert.equal(error('hdr(a,first)'), 'column 7: argument 2 of hdr must be an integer, got "first"');
  assert.equal(error('sc_conn_cur(3)', tableEnv('conn_cur')), 'column 13: argument 1 of sc_conn_cur must be a stick counter: 0, 1 or 2, got "3"');
  assert.equal(error('path,field(x,/)'), 'column 12: argument 1 of field must be an integer, got "x"');
  assert.equal(error('path,regsub(a)'), 'column 6: regsub takes 2 to 3 arguments, got 1');
  assert.equal(error('path,regsub(\\(,x)'), 'column 13: invalid regular expression "(": Unterminated group');
  assert.equal(error('path,regsub((,x)'), 'column 12: unclosed "(" of regsub');
  assert.equal(error('path,regsub(a,b,x)'), 'column 17: regsub flags may only be i and g, got "x"');
});

test('unknown names, with a suggestion', () => {
  assert.equal(error('sc_http_rq_rate(0)'), 'column 1: unknown fetch "sc_http_rq_rate" (did you mean sc_http_req_rate?)');
  assert.equal(error('pth'), 'column 1: unknown fetch "pth" (did you mean path?)');
  assert.equal(error('constructor'), 'column 1: unknown fetch "constructor"');
  assert.equal(error('path,lowr'), 'column 6: unknown converter "lowr" (did you mean lower?)');
  assert.equal(error('path_beg'), 'column 1: unknown fetch "path_beg"', 'derived keywords are for ACL criteria only');
  assert.deepEqual(parseSample('path_beg', 0, 8, NO_TABLE, { derived: true }).derived, 'beg');
});

test('converters are type-checked along the chain', () => {
  assert.equal(error('dst_port,lower'), 'column 10: converter lower takes a string, but dst_port yields an integer');
  assert.equal(error('path,length,upper'), 'column 13: converter upper takes a string, but length yields an integer');
  assert.equal(error('path,ipmask(8)'), 'column 6: converter ipmask takes an IP address, but path yields a string');
});

test('syntax errors name what was found', () => {
  assert.equal(error(''), 'column 1: expected a sample fetch');
  assert.equal(error('(x)'), 'column 1: expected a sample fetch name, got "(x)"');
  assert.equal(error('hdr(host'), 'column 4: unclosed "(" of hdr');
  assert.equal(error('hdr(host) x'), 'column 10: unexpected " x" after hdr; converters follow a comma');
  assert.equal(error('path,'), 'column 6: expected a converter name after ","');
  assert.equal(error('hdr("host)'), 'column 5: unterminated quote " in the arguments of hdr');
});

test('positions are those of the whole source', () => {
  const text = 'value: %[pth]';
  assert.equal(
    errorOf(() => parseSample(text, 9, 12, NO_TABLE)),
    'column 10: unknown fetch "pth" (did you mean path?)',
  );
});

test('a sample field is checked against where it runs', () => {
  const tcp = { allows: 'none', where: 'tcpRequest rules' } as const;
  assert.deepEqual(parseSampleField('  src ', NO_TABLE, tcp).sample.fetch, 'src');
  assert.equal(errorOf(() => parseSampleField(' path', NO_TABLE, tcp)), 'column 2: path reads the HTTP request, which is not available in tcpRequest rules');
  assert.equal(
    errorOf(() => parseSampleField('res.cook(a)', NO_TABLE, { allows: 'request', where: 'httpRequest rules' })),
    "column 1: res.cook reads the HTTP response, which is not available in httpRequest rules (only in httpResponse rules and a Backend's storeResponse)",
  );
});
