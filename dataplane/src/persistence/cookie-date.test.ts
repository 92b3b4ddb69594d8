import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeQuanta, encodeQuanta, toQuanta } from './cookie-date.ts';

test('dates are written as HAProxy 2.6 writes them (values seen in its Set-Cookie headers)', () => {
  // HAProxy 2.6.12 issued SRV=s1|awElY|awElY at 1795237216 and refreshed to awEla at 1795237223.
  assert.equal(encodeQuanta(toQuanta(1_795_237_216)), 'awElY');
  assert.equal(encodeQuanta(toQuanta(1_795_237_218)), 'awElZ');
  assert.equal(encodeQuanta(toQuanta(1_795_237_220)), 'awElZ');
  assert.equal(encodeQuanta(toQuanta(1_795_237_223)), 'awEla');
  assert.equal(encodeQuanta(toQuanta(1_795_237_071)), 'awEk0');
});

test('a date is rounded up to the next 4-second quantum and reads back as that quantum', () => {
  assert.equal(toQuanta(1000), 250);
  assert.equal(toQuanta(1001), 251);
  assert.equal(toQuanta(1004), 251);
  const text = `x|${encodeQuanta(toQuanta(1_800_000_001))}`;
  assert.equal(decodeQuanta(text, 2) * 4, 1_800_000_004);
});

test('encoding covers all 30 bits, most significant digit first', () => {
  assert.equal(encodeQuanta(0), 'AAAAA');
  assert.equal(encodeQuanta(1), 'AAAAB');
  assert.equal(encodeQuanta(2 ** 30 - 1), '/////');
  assert.equal(encodeQuanta(63 * 2 ** 24), '/AAAA');
  for (const n of [0, 1, 63, 64, 4095, 448_809_304, 2 ** 30 - 1]) assert.equal(decodeQuanta(encodeQuanta(n), 0), n);
});

test('decoding refuses short input and characters outside the base64 alphabet', () => {
  assert.equal(decodeQuanta('AAAA', 0), -1);
  assert.equal(decodeQuanta('awElY', 1), -1);
  assert.equal(decodeQuanta('awE=Y', 0), -1);
  assert.equal(decodeQuanta('aw-lY', 0), -1);
  assert.equal(decodeQuanta('awé lY', 0), -1);
  assert.equal(decodeQuanta('awElYZZ', 0), decodeQuanta('awElY', 0), 'reads exactly 5 digits');
});
