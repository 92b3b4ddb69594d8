import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorOf } from './testing.ts';
import { splitWords, unquote } from './words.ts';

test('words are separated by spaces and keep their position', () => {
  assert.deepEqual(splitWords('  path_beg -i  /api\t/v2 '), [
    { text: 'path_beg', start: 2 },
    { text: '-i', start: 11 },
    { text: '/api', start: 15 },
    { text: '/v2', start: 20 },
  ]);
  assert.deepEqual(splitWords(''), []);
  assert.deepEqual(splitWords('   '), []);
});

test('quotes and backslashes protect spaces; unquote gives the value', () => {
  const words = splitWords(`hdr(x) "a b" 'c d' e\\ f "g\\"h"`);
  assert.deepEqual(
    words.map((w) => w.text),
    ['hdr(x)', '"a b"', "'c d'", 'e\\ f', '"g\\"h"'],
  );
  assert.deepEqual(
    words.map((w) => unquote(w.text)),
    ['hdr(x)', 'a b', 'c d', 'e f', 'g"h'],
  );
  assert.equal(unquote(`'a\\b'`), 'a\\b', 'single quotes keep backslashes');
  assert.equal(unquote('x"y z"w'), 'xy zw');
});

test('spaces inside the parentheses of a name do not split it; elsewhere parentheses are plain text', () => {
  assert.deepEqual(
    splitWords('hdr(host),regsub(a b,c) ^/(x y'),
    [
      { text: 'hdr(host),regsub(a b,c)', start: 0 },
      { text: '^/(x', start: 24 },
      { text: 'y', start: 29 },
    ],
  );
});

test('unterminated quotes and parentheses are errors at their column', () => {
  assert.equal(errorOf(() => splitWords('path "abc')), 'column 6: unterminated quote " (write \\" for a literal ")');
  assert.equal(errorOf(() => splitWords("a b'c")), "column 4: unterminated quote ' (write \\' for a literal ')");
  assert.equal(errorOf(() => splitWords('x hdr(host gt 1')), 'column 6: unclosed "(": add ")" or quote the text');
});

test('a range of the source can be split alone', () => {
  assert.deepEqual(splitWords('{ a b } c', 1, 6), [
    { text: 'a', start: 2 },
    { text: 'b', start: 4 },
  ]);
});
