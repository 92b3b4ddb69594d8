import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageHead, parseResponseHead } from '../http/message-head.ts';
import { isCacheableMethod, isCacheableResponse } from './cacheability.ts';

function response(status: number, ...headers: string[]): MessageHead {
  const head = new MessageHead();
  const text = `HTTP/1.1 ${status} X\r\n${headers.map((h) => h + '\r\n').join('')}Content-Length: 0\r\n\r\n`;
  assert.equal(parseResponseHead(text, head), null);
  return head;
}

test('safe methods only', () => {
  assert.deepEqual(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'POST', 'PUT', 'DELETE', 'get'].map(isCacheableMethod), [true, true, true, true, false, false, false, false]);
});

// Each case was checked against HAProxy 2.6.12 (`cookie SRV insert nocache`: does it add Cache-control: private?).
const cases: [string, number, boolean, string[], boolean][] = [
  ['no caching headers: no cache would keep it', 200, true, [], false],
  ['ETag', 200, true, ['ETag: "x"'], true],
  ['Last-Modified', 200, true, ['Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT'], true],
  ['Expires, whatever its value', 200, true, ['Expires: 0'], true],
  ['max-age', 200, true, ['Cache-Control: max-age=60'], true],
  ['MAX-AGE in capitals', 200, true, ['Cache-Control: MAX-AGE=5'], true],
  ['404 with max-age', 404, true, ['Cache-Control: max-age=10'], true],
  ['204 with max-age', 204, true, ['Cache-Control: max-age=10'], true],
  ['302 is not cacheable by default', 302, true, ['Cache-Control: max-age=10'], false],
  ['POST', 200, false, ['ETag: "x"'], false],
  ['POST made public', 200, false, ['Cache-Control: public, max-age=10'], true],
  ['public alone gives no freshness', 200, true, ['Cache-Control: public'], false],
  ['already private', 200, true, ['Cache-Control: PRIVATE, max-age=5'], false],
  ['max-age=0', 200, true, ['Cache-Control: max-age=0'], false],
  ['max-age=0 then s-maxage', 200, true, ['Cache-Control: max-age=0, s-maxage=10'], false],
  ['max-age=0 then public (in order)', 200, true, ['Cache-Control: max-age=0, public', 'ETag: "x"'], true],
  ['private, public, max-age', 200, true, ['Cache-Control: private, public, max-age=5'], true],
  ['no-store, then public on a second header', 200, true, ['Cache-Control: no-store', 'Cache-Control: public, max-age=3'], true],
  ['no-cache="set-cookie" still cacheable', 200, true, ['Cache-Control: no-cache="set-cookie", max-age=5'], true],
  ['Pragma: no-cache', 200, true, ['Pragma: no-cache', 'Cache-Control: max-age=10'], false],
  ['Pragma: only the first header, whole', 200, true, ['Pragma: x', 'Pragma: no-cache', 'Cache-Control: max-age=10'], true],
  ['Pragma: a list is not no-cache', 200, true, ['Pragma: no-cache, x', 'Cache-Control: max-age=10'], true],
];

for (const [name, status, methodCacheable, headers, expected] of cases) {
  test(`cacheable response: ${name}`, () => {
    assert.equal(isCacheableResponse(response(status, ...headers), methodCacheable), expected);
  });
}

test('interim responses are never cacheable', () => {
  const head = new MessageHead();
  assert.equal(parseResponseHead('HTTP/1.1 100 Continue\r\nCache-Control: public, max-age=5\r\n\r\n', head), null);
  assert.equal(isCacheableResponse(head, true), false);
});
