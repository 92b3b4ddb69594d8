import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONVERTERS } from '@switchyard/api';
import { CONVERTER_TABLE } from './converters.ts';
import type { Present } from './values.ts';

function convert(name: string, args: string[], value: Present): unknown {
  return CONVERTER_TABLE[name]!(args)(value);
}

test('the converter table implements exactly the catalogue', () => {
  assert.deepEqual(Object.keys(CONVERTER_TABLE).sort(), Object.keys(CONVERTERS).sort());
});

test('lower, upper, length cast their input to a string', () => {
  assert.equal(convert('lower', [], 'WwW.Example.COM'), 'www.example.com');
  assert.equal(convert('upper', [], 'get'), 'GET');
  assert.equal(convert('length', [], 'hello'), 5);
  assert.equal(convert('length', [], 12345), 5);
  assert.equal(convert('lower', [], true), '1');
});

test('regsub: first match, g for all, i for case, \\N groups, literal $', () => {
  assert.equal(convert('regsub', ['a', 'X'], 'banana'), 'bXnana');
  assert.equal(convert('regsub', ['a', 'X', 'g'], 'banana'), 'bXnXnX');
  assert.equal(convert('regsub', ['A', 'X', 'gi'], 'banana'), 'bXnXnX');
  assert.equal(convert('regsub', ['A', 'X'], 'banana'), 'banana', 'case-sensitive without i');
  assert.equal(convert('regsub', ['^/api/(v[0-9]+)/(.*)$', '/\\2?version=\\1'], '/api/v2/users'), '/users?version=v2');
  assert.equal(convert('regsub', ['(b)', '[\\0]$1'], 'abc'), 'a[b]$1c', '\\0 is the match, $1 stays literal');
  assert.equal(convert('regsub', ['x', '$&'], 'axb'), 'a$&b', 'String.replace patterns stay literal');
  assert.equal(convert('regsub', [' ', '\\x2d', 'g'], 'a b c'), 'a-b-c');
  assert.equal(convert('regsub', ['(z)?a', '<\\1>'], 'ba'), 'b<>', 'an unmatched group is empty');
  const re = CONVERTER_TABLE.regsub!(['o', '0', 'g']);
  assert.equal(re('foo'), 'f00');
  assert.equal(re('boo'), 'b00', 'a global regex is reusable across calls');
  assert.throws(() => CONVERTER_TABLE.regsub!(['a', 'b', 'x']), /flags/);
});

test('field: 1-based, empty fields count, negative from the end, no value out of range', () => {
  const value = 'a,b,,d';
  assert.equal(convert('field', ['1', ','], value), 'a');
  assert.equal(convert('field', ['3', ','], value), '');
  assert.equal(convert('field', ['4', ','], value), 'd');
  assert.equal(convert('field', ['5', ','], value), null);
  assert.equal(convert('field', ['-1', ','], value), 'd');
  assert.equal(convert('field', ['-2', ','], value), '');
  assert.equal(convert('field', ['-4', ','], value), 'a');
  assert.equal(convert('field', ['-5', ','], value), null);
  assert.equal(convert('field', ['2', ',;'], 'x;y,z'), 'y', 'any delimiter character splits');
  assert.equal(convert('field', ['1', ','], 'solo'), 'solo');
  assert.equal(convert('field', ['0', ','], value), null);
});

test('word: runs of delimiters separate non-empty words', () => {
  const value = '//api//v2/users/';
  assert.equal(convert('word', ['1', '/'], value), 'api');
  assert.equal(convert('word', ['2', '/'], value), 'v2');
  assert.equal(convert('word', ['3', '/'], value), 'users');
  assert.equal(convert('word', ['4', '/'], value), null);
  assert.equal(convert('word', ['-1', '/'], value), 'users');
  assert.equal(convert('word', ['-3', '/'], value), 'api');
  assert.equal(convert('word', ['-4', '/'], value), null);
  assert.equal(convert('word', ['1', '/'], '///'), null);
});

test('arithmetic casts to an integer, truncates division, saturates a division by zero', () => {
  assert.equal(convert('add', ['5'], 10), 15);
  assert.equal(convert('sub', ['5'], '10'), 5, 'a string is cast to an integer');
  assert.equal(convert('mul', ['-3'], 7), -21);
  assert.equal(convert('div', ['2'], 7), 3);
  assert.equal(convert('div', ['2'], -7), -3);
  assert.equal(convert('div', ['0'], 7), Number.MAX_SAFE_INTEGER);
  assert.equal(convert('add', ['1'], '12abc'), 13, 'leading digits, as HAProxy');
  assert.equal(convert('add', ['1'], ''), null, 'an empty string has no integer value');
  assert.equal(convert('add', ['1'], true), 2);
  assert.throws(() => CONVERTER_TABLE.add!(['x']), /integer/);
});

test('ipmask keeps the network of an IPv4 address', () => {
  assert.equal(convert('ipmask', ['24'], '192.168.17.42'), '192.168.17.0');
  assert.equal(convert('ipmask', ['16'], '10.200.3.4'), '10.200.0.0');
  assert.equal(convert('ipmask', ['32'], '10.200.3.4'), '10.200.3.4');
  assert.equal(convert('ipmask', ['0'], '10.200.3.4'), '0.0.0.0');
  assert.equal(convert('ipmask', ['24'], '2001:db8::1'), null, 'IPv6 needs a mask this converter does not take');
  assert.equal(convert('ipmask', ['24'], 'not-an-ip'), null);
  assert.throws(() => CONVERTER_TABLE.ipmask!(['33']), /0 to 32/);
});
