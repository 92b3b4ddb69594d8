import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CookieScanner } from './cookie-header.ts';

/** [name, value | null (no '='), delimiter char before] for each item. */
function items(text: string): [string, string | null, string][] {
  const s = new CookieScanner().reset(text);
  const out: [string, string | null, string][] = [];
  while (s.next()) {
    out.push([text.slice(s.start, s.nameEnd), s.valueStart < 0 ? null : text.slice(s.valueStart, s.valueEnd), s.delimiter < 0 ? '' : text[s.delimiter]!]);
  }
  return out;
}

test('Cookie items split on ; and , with blanks around names and values ignored', () => {
  assert.deepEqual(items('a=1; SRV=v; b=2'), [['a', '1', ''], ['SRV', 'v', ';'], ['b', '2', ';']]);
  assert.deepEqual(items('a=1;SRV=v,b=2'), [['a', '1', ''], ['SRV', 'v', ';'], ['b', '2', ',']]);
  assert.deepEqual(items('a = 1 ;\tSRV\t=\tv x '), [['a', '1', ''], ['SRV', 'v x', ';']]);
});

test('quoted values may hold delimiters; items without = and $-attributes are seen as such', () => {
  assert.deepEqual(items('q="a;b,c\\"d"; flag; $Path=/; z='), [
    ['q', '"a;b,c\\"d"', ''],
    ['flag', null, ';'],
    ['$Path', '/', ';'],
    ['z', '', ';'],
  ]);
  const s = new CookieScanner().reset('$Path=/');
  assert.ok(s.next() && s.isAttribute);
});

test('a trailing delimiter yields an empty item; an empty value yields none', () => {
  assert.deepEqual(items('a=1;'), [['a', '1', ''], ['', null, ';']]);
  assert.deepEqual(items(''), []);
});

test('names match exactly and case-sensitively, and only cookies with = match', () => {
  const s = new CookieScanner().reset('srv=1; SRVX=2; SRV; SRV =3');
  const hits: boolean[] = [];
  while (s.next()) hits.push(s.is('SRV'));
  assert.deepEqual(hits, [false, false, false, true]);
});

test('Set-Cookie: one cookie, value to the first ; or , and the rest is attributes', () => {
  const s = new CookieScanner();
  const text = ' SRV = app1 ; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT';
  assert.ok(s.resetSetCookie(text).next());
  assert.ok(s.is('SRV'));
  assert.equal(text.slice(s.valueStart, s.valueEnd), 'app1');
  assert.equal(s.next(), false);
  assert.ok(s.resetSetCookie('a,b=1').next());
  assert.equal(s.is('a,b'), true, 'a comma does not end a Set-Cookie name');
  assert.ok(s.resetSetCookie('SRV=a,b; Path=/').next());
  assert.equal(s.text.slice(s.valueStart, s.valueEnd), 'a');
  assert.ok(s.resetSetCookie('SRV; Path=/').next());
  assert.equal(s.is('SRV'), false, 'no = sign: not a cookie');
});
