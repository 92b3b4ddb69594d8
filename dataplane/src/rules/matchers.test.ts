import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ir } from '@switchyard/api';
import { compileMatcher } from './matchers.ts';
import { smp } from './test-support.ts';
import type { Present } from './values.ts';

const anySample = smp('path');

function strings(method: 'str' | 'beg' | 'end' | 'sub' | 'reg' | 'dir' | 'dom', patterns: string[], ignoreCase = false): (v: Present) => boolean {
  return compileMatcher({ sample: anySample, method, ignoreCase, patterns });
}

function ints(method: 'int' | 'len', patterns: ir.IntPattern[]): (v: Present) => boolean {
  return compileMatcher({ sample: anySample, method, ignoreCase: false, patterns });
}

test('str: exact, any pattern, -i folds both sides, many patterns', () => {
  const m = strings('str', ['GET', 'HEAD']);
  assert.ok(m('GET'));
  assert.ok(m('HEAD'));
  assert.ok(!m('get'));
  assert.ok(!m('GETS'));
  assert.ok(strings('str', ['Api.Example.com'], true)('API.example.COM'));
  const hosts = strings('str', Array.from({ length: 20 }, (_, i) => `h${i}.example.com`), true);
  assert.ok(hosts('H7.example.com'));
  assert.ok(!hosts('h70.example.com'));
  assert.ok(strings('str', ['404'])(404), 'an integer sample compares in decimal');
});

test('beg, end, sub with and without -i', () => {
  assert.ok(strings('beg', ['/api', '/v2'])('/v2/users'));
  assert.ok(!strings('beg', ['/api'])('/API/x'));
  assert.ok(strings('beg', ['/api'], true)('/API/x'));
  assert.ok(strings('end', ['.jpg', '.png'])('/a/b.png'));
  assert.ok(!strings('end', ['.jpg'])('/a/b.JPG'));
  assert.ok(strings('end', ['.jpg'], true)('/a/b.JPG'));
  assert.ok(strings('sub', ['admin'])('/x/admin/y'));
  assert.ok(strings('sub', ['ADMIN'], true)('/x/admin/y'));
  assert.ok(!strings('sub', ['admin'])('/x/adm/y'));
});

test('reg: JavaScript regular expressions, -i adds the i flag', () => {
  const m = strings('reg', ['^/static/.*\\.(css|js)$']);
  assert.ok(m('/static/app.js'));
  assert.ok(!m('/static/app.JS'));
  assert.ok(strings('reg', ['\\.JS$'], true)('/static/app.js'));
  assert.ok(m('/static/x.css') && m('/static/x.css'), 'stateless across calls');
  assert.throws(() => strings('reg', ['(']));
});

test('dir matches slash-delimited segments, the pattern stripped of its slashes', () => {
  const m = strings('dir', ['api']);
  assert.ok(m('/api'));
  assert.ok(m('/api/users'));
  assert.ok(m('/v1/api/users'));
  assert.ok(m('/v1/api?x=1'), '? ends a segment too');
  assert.ok(!m('/apis/users'));
  assert.ok(!m('/myapi/users'));
  assert.ok(strings('dir', ['/api/'])('/x/api'), 'delimiters around the pattern are ignored');
  assert.ok(strings('dir', ['api/v1'])('/api/v1/x'), 'several segments');
  assert.ok(!strings('dir', ['api/v1'])('/api/v10/x'));
  assert.ok(strings('dir', ['API'], true)('/x/api/y'));
  assert.ok(!strings('dir', ['/'])('/x'), 'only delimiters never matches');
});

test('dom matches dot-delimited labels', () => {
  const m = strings('dom', ['example.com']);
  assert.ok(m('example.com'));
  assert.ok(m('www.example.com'));
  assert.ok(m('www.example.com:8080'), ': ends a label');
  assert.ok(!m('www.myexample.com'));
  assert.ok(!m('example.community'));
  assert.ok(strings('dom', ['www'])('www.example.com'));
  assert.ok(strings('dom', ['EXAMPLE'], true)('www.example.com'));
});

test('len compares the string length with integer patterns', () => {
  const m = ints('len', [{ op: 'gt', value: 3 }]);
  assert.ok(m('abcd'));
  assert.ok(!m('abc'));
  assert.ok(ints('len', [{ op: 'range', min: 1, max: 3 }])('ab'));
  assert.ok(!ints('len', [{ op: 'range', min: 1, max: 3 }])(''));
});

test('int: operators, ranges, several patterns, string samples cast', () => {
  assert.ok(ints('int', [{ op: 'gt', value: 100 }])(101));
  assert.ok(!ints('int', [{ op: 'gt', value: 100 }])(100));
  assert.ok(ints('int', [{ op: 'ge', value: 100 }])(100));
  assert.ok(ints('int', [{ op: 'lt', value: 100 }])(99));
  assert.ok(ints('int', [{ op: 'le', value: 100 }])(100));
  assert.ok(ints('int', [{ op: 'eq', value: 443 }])(443));
  assert.ok(ints('int', [{ op: 'ne', value: 443 }])(80));
  assert.ok(ints('int', [{ op: 'range', min: 200, max: 299 }])(204));
  assert.ok(!ints('int', [{ op: 'range', min: 200, max: 299 }])(300));
  assert.ok(ints('int', [{ op: 'range', min: null, max: 10 }])(-5));
  assert.ok(ints('int', [{ op: 'range', min: 500, max: null }])(503));
  const ports = ints('int', [{ op: 'eq', value: 80 }, { op: 'eq', value: 443 }]);
  assert.ok(ports(443) && ports(80) && !ports(8080));
  assert.ok(ints('int', [{ op: 'eq', value: 42 }])('42'));
  assert.ok(!ints('int', [{ op: 'eq', value: 0 }])(''), 'an empty string has no integer');
  assert.ok(ints('int', [{ op: 'eq', value: 1 }])(true));
});

test('ip: addresses and CIDRs, IPv4 and IPv6, IPv4-mapped clients, dotted masks', () => {
  const m = compileMatcher({ sample: anySample, method: 'ip', ignoreCase: false, patterns: ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '172.16.0.0/255.240.0.0'] });
  assert.ok(m('10.20.30.40'));
  assert.ok(m('::ffff:10.20.30.40'));
  assert.ok(m('192.168.1.7'));
  assert.ok(!m('192.168.1.8'));
  assert.ok(m('2001:db8:1::5'));
  assert.ok(!m('2001:db9::1'));
  assert.ok(m('172.31.255.255'));
  assert.ok(!m('172.32.0.0'));
  assert.ok(!m('11.0.0.1'));
  assert.ok(!m('not an address'));
  assert.ok(!m(10), 'integers are not addresses');
  const mapped = compileMatcher({ sample: anySample, method: 'ip', ignoreCase: false, patterns: ['::ffff:10.0.0.0/104'] });
  assert.ok(mapped('10.1.1.1'), 'an IPv4 client against an IPv4-mapped IPv6 network');
  assert.throws(() => compileMatcher({ sample: anySample, method: 'ip', ignoreCase: false, patterns: ['10.0.0.0/40'] }), /prefix/);
  assert.throws(() => compileMatcher({ sample: anySample, method: 'ip', ignoreCase: false, patterns: ['nope'] }), /not an IP/);
});

test('bool is true for non-zero and true; found for any value', () => {
  const bool = compileMatcher({ sample: anySample, method: 'bool', ignoreCase: false, patterns: [] });
  assert.ok(bool(true));
  assert.ok(!bool(false));
  assert.ok(bool(3));
  assert.ok(!bool(0));
  assert.ok(bool('1'));
  assert.ok(!bool('0'));
  const found = compileMatcher({ sample: anySample, method: 'found', ignoreCase: false, patterns: [] });
  assert.ok(found(''));
});
