import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ir } from '@switchyard/api';
import { parseCriterion } from './criterion.ts';
import { isIPv4, isIPv6, normalizeIpPattern } from './ip-pattern.ts';
import type { SampleEnv } from './sample.ts';
import { errorOf, NO_TABLE, tableEnv } from './testing.ts';
import { splitWords } from './words.ts';

const criterion = (text: string, env: SampleEnv = NO_TABLE): ir.Criterion => parseCriterion(text, splitWords(text), env).criterion;
const error = (text: string, env: SampleEnv = NO_TABLE): string => errorOf(() => parseCriterion(text, splitWords(text), env));
const PATH = { fetch: 'path', args: [], converters: [] };
const HOST = { fetch: 'req.hdr', args: ['host'], converters: [] };

test('derived keywords pick the match method', () => {
  assert.deepEqual(criterion('path_beg -i /API /v2'), { sample: PATH, method: 'beg', ignoreCase: true, patterns: ['/api', '/v2'] });
  assert.deepEqual(criterion('hdr_beg(host) www.'), { sample: HOST, method: 'beg', ignoreCase: false, patterns: ['www.'] });
  assert.deepEqual(criterion('hdr_end(host) .com').method, 'end');
  assert.deepEqual(criterion('url_sub x').method, 'sub');
  assert.deepEqual(criterion('path_dir api').method, 'dir');
  assert.deepEqual(criterion('hdr_dom(host) example.com').method, 'dom');
  assert.deepEqual(criterion('url_reg ^/a').method, 'reg');
  assert.deepEqual(criterion('hdr_ip(x-real-ip) 10.0.0.0/8'), { sample: { fetch: 'req.hdr', args: ['x-real-ip'], converters: [] }, method: 'ip', ignoreCase: false, patterns: ['10.0.0.0/8'] });
  assert.deepEqual(criterion('path_len gt 100'), { sample: PATH, method: 'len', ignoreCase: false, patterns: [{ op: 'gt', value: 100 }] });
});

test("without -m, the sample's type decides", () => {
  assert.equal(criterion('src 10.0.0.1').method, 'ip');
  assert.equal(criterion('dst_port 80').method, 'int');
  assert.equal(criterion('ssl_fc').method, 'bool');
  assert.equal(criterion('path /').method, 'str');
  assert.equal(criterion('hdr(host),length 3').method, 'int');
});

test('-m methods and flags', () => {
  assert.deepEqual(criterion('hdr(host) -m str -i A.com'), { sample: HOST, method: 'str', ignoreCase: true, patterns: ['a.com'] });
  assert.deepEqual(criterion('hdr(x) -m found'), { sample: { fetch: 'req.hdr', args: ['x'], converters: [] }, method: 'found', ignoreCase: false, patterns: [] });
  assert.deepEqual(criterion('sc_http_req_rate(0) -m bool', tableEnv('http_req_rate')).method, 'bool');
  assert.deepEqual(criterion('hdr(x) -m ip ::1').patterns, ['::1']);
  assert.deepEqual(criterion('path -m reg -i ^/API/[a-z]+$').patterns, ['^/API/[a-z]+$'], 'regular expressions keep their case and match with the i flag');
  assert.deepEqual(criterion('path -- -x -y').patterns, ['-x', '-y']);
  assert.deepEqual(criterion('path -i -- -X').patterns, ['-x']);
  assert.deepEqual(criterion('path "a b" \'c\'').patterns, ['a b', 'c']);
});

test('int patterns: operators, bare values and ranges', () => {
  assert.deepEqual(criterion('dst_port 80 443 eq 8080 ne 1 gt 2 ge 3 lt 4 le 5').patterns, [
    { op: 'eq', value: 80 },
    { op: 'eq', value: 443 },
    { op: 'eq', value: 8080 },
    { op: 'ne', value: 1 },
    { op: 'gt', value: 2 },
    { op: 'ge', value: 3 },
    { op: 'lt', value: 4 },
    { op: 'le', value: 5 },
  ]);
  assert.deepEqual(criterion('dst_port 1024:65535 :1023 8000:').patterns, [
    { op: 'range', min: 1024, max: 65535 },
    { op: 'range', min: null, max: 1023 },
    { op: 'range', min: 8000, max: null },
  ]);
  assert.deepEqual(criterion('dst_port -- -1').patterns, [{ op: 'eq', value: -1 }]);
  assert.equal(error('dst_port gt'), 'column 10: gt needs a number after it');
  assert.equal(error('dst_port gt x'), 'column 13: expected an integer, got "x"');
  assert.equal(error('dst_port http'), 'column 10: expected an integer, a range such as 1:100, or eq|ne|gt|ge|lt|le and an integer, got "http"');
  assert.equal(error('dst_port 10:5'), 'column 10: range 10:5 is empty: 10 is greater than 5');
  assert.equal(error('dst_port :'), 'column 10: a range needs a bound on at least one side of ":"');
  assert.equal(error('dst_port 1:x'), 'column 12: expected an integer after ":", got "x"');
  assert.equal(error('dst_port 99999999999999999999'), 'column 10: expected an integer, a range such as 1:100, or eq|ne|gt|ge|lt|le and an integer, got "99999999999999999999"');
  assert.equal(error('path_len x'), 'column 10: expected a length (an integer), a range such as 1:100, or eq|ne|gt|ge|lt|le and a length (an integer), got "x"');
});

test('ip patterns are validated and normalised', () => {
  assert.deepEqual(criterion('src 10.0.0.0/8 192.168.1.1 10.0.0.0/255.255.0.0 2001:DB8::/32 ::1').patterns, ['10.0.0.0/8', '192.168.1.1', '10.0.0.0/16', '2001:db8::/32', '::1']);
  assert.equal(error('src 10.0.0.0/8 example.com'), 'column 16: "example.com" is not an IP address or network (e.g. 10.0.0.0/8, 2001:db8::/32)');
  assert.equal(normalizeIpPattern('10.0.0.0/33'), null);
  assert.equal(normalizeIpPattern('10.0.0.0/255.0.255.0'), null, 'non-contiguous mask');
  assert.equal(normalizeIpPattern('10.0.0.0/0.0.0.0'), '10.0.0.0/0');
  assert.equal(normalizeIpPattern('::/129'), null);
  assert.equal(normalizeIpPattern('fe80::1%eth0'), null);
  assert.equal(normalizeIpPattern('256.0.0.1'), null);
  assert.equal(normalizeIpPattern('10.0.0.1/'), null);
});

test('address syntax', () => {
  for (const ok of ['0.0.0.0', '255.255.255.255', '10.1.2.3']) assert.ok(isIPv4(ok), ok);
  for (const bad of ['256.1.1.1', '01.1.1.1', '1.1.1', '1.1.1.1.1', 'a.b.c.d', '1.1.1.1 ']) assert.ok(!isIPv4(bad), bad);
  for (const ok of ['::', '::1', '1::', '2001:db8::8:800:200c:417a', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::ffff:10.0.0.1', '64:ff9b::192.0.2.33', 'FE80::A']) {
    assert.ok(isIPv6(ok), ok);
  }
  for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2:3:4:5:6:7:8', '12345::', 'g::', ':1::', '1.2.3.4::', '::1.2.3', 'fe80::1%eth0']) {
    assert.ok(!isIPv6(bad), bad);
  }
});

test('regular expressions are compiled to be validated', () => {
  assert.equal(error('path_reg ^/(api'), 'column 10: invalid regular expression "^/(api": Unterminated group');
  assert.equal(error('path -m reg ok [z-a]'), 'column 16: invalid regular expression "[z-a]": Range out of order in character class');
});

test('flag and method errors', () => {
  assert.equal(error('path_beg -x /api'), 'column 10: unknown flag "-x"; expected -i, -m or -- (a pattern starting with "-" needs "--" before it)');
  assert.equal(error('path -f /etc/list'), 'column 6: -f is not supported: write the patterns in the criterion');
  assert.equal(error('path -m'), 'column 6: -m needs a match method: str, beg, end, sub, reg, dir, dom, len, ip, int, found, bool');
  assert.equal(error('path -m begs /a'), 'column 9: unknown match method "begs" (did you mean beg?); expected one of str, beg, end, sub, reg, dir, dom, len, ip, int, found, bool');
  assert.equal(error('path -m beg -m end /a'), 'column 13: -m is given twice');
  assert.equal(error('path_beg -m end /a'), 'column 10: path_beg already matches with -m beg; write path -m ... instead');
  assert.equal(error('dst_port -m beg 8'), 'column 13: -m beg compares a string, but dst_port yields an integer');
  assert.equal(error('path -m int 8'), 'column 9: -m int compares an integer, but path yields a string');
  assert.equal(error('src_port_beg 8'), 'column 1: -m beg compares a string, but src_port yields an integer');
  assert.equal(error('dst_port -i 80'), 'column 10: -i only applies to string matching, not -m int');
  assert.equal(error('src -i 10.0.0.1'), 'column 5: -i only applies to string matching, not -m ip');
});

test('pattern counts: found and bool take none, the others need one', () => {
  assert.equal(error('path'), 'column 1: path has no pattern to compare with, so it would never match; add a pattern, or use -m found to test that it exists');
  assert.equal(error('hdr(x) -m str'), 'column 1: hdr has no pattern to compare with, so it would never match; add a pattern, or use -m found to test that it exists');
  assert.equal(error('hdr(x) -m found y'), 'column 17: -m found takes no patterns, got "y"');
  assert.equal(error('ssl_fc 1'), 'column 8: -m bool takes no patterns, got "1" (ssl_fc matches on its own)');
  assert.equal(errorOf(() => parseCriterion('{ }', [], NO_TABLE, 2)), 'column 3: expected a criterion: a fetch followed by patterns');
});

test('what the sample needs is reported with the criterion', () => {
  const parsed = parseCriterion('res.hdr(x) -m found', splitWords('res.hdr(x) -m found'), NO_TABLE);
  assert.equal(parsed.needs, 'response');
  assert.equal(parsed.fetch, 'res.hdr');
  assert.equal(parseCriterion('src 1.2.3.4', splitWords('src 1.2.3.4'), NO_TABLE).needs, 'none');
});
