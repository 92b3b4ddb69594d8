import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertKey, integerKey, ipv4Key, ipv6Key, truncateUtf8 } from './keys.ts';

test('ip keys: dotted quads as they are, IPv4-mapped addresses unmapped, anything else rejected', () => {
  assert.equal(ipv4Key('10.0.0.1'), '10.0.0.1');
  assert.equal(ipv4Key('255.255.255.255'), '255.255.255.255');
  assert.equal(ipv4Key('0.0.0.0'), '0.0.0.0');
  assert.equal(ipv4Key('::ffff:192.168.1.2'), '192.168.1.2');
  assert.equal(ipv4Key('::FFFF:192.168.1.2'), '192.168.1.2');
  assert.equal(ipv4Key('0:0:0:0:0:ffff:c0a8:0102'), '192.168.1.2');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4 ', '1..2.3', '::1', '2001:db8::1', 'example.com', '::ffff:1.2.3', '1.2.3.4%eth0']) {
    assert.equal(ipv4Key(bad), null, bad);
  }
});

test('ipv6 keys: canonical RFC 5952 text, IPv4 mapped', () => {
  assert.equal(ipv6Key('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(ipv6Key('2001:db8:0000::0001'), '2001:db8::1');
  assert.equal(ipv6Key('::'), '::');
  assert.equal(ipv6Key('::1'), '::1');
  assert.equal(ipv6Key('1::'), '1::');
  // The first of two equally long zero runs is compressed; a single zero group is not.
  assert.equal(ipv6Key('1:0:0:2:0:0:3:4'), '1::2:0:0:3:4');
  assert.equal(ipv6Key('1:0:2:3:4:5:6:7'), '1:0:2:3:4:5:6:7');
  assert.equal(ipv6Key('10.1.2.3'), '::ffff:10.1.2.3');
  assert.equal(ipv6Key('::ffff:0a01:0203'), '::ffff:10.1.2.3');
  assert.equal(ipv6Key('64:ff9b::192.0.2.33'), '64:ff9b::c000:221');
  for (const bad of ['', ':', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '1:2:3:4::5:6:7:8', '12345::', 'g::', 'fe80::1%eth0', '1.2.3']) {
    assert.equal(ipv6Key(bad), null, bad);
  }
});

test('integer keys: canonical decimal within 32 bits', () => {
  assert.equal(integerKey('42'), '42');
  assert.equal(integerKey('-42'), '-42');
  assert.equal(integerKey('+42'), '42');
  assert.equal(integerKey('0042'), '42');
  assert.equal(integerKey('0'), '0');
  assert.equal(integerKey('-0'), '0');
  assert.equal(integerKey('2147483647'), '2147483647');
  assert.equal(integerKey('-2147483648'), '-2147483648');
  for (const bad of ['', '-', '2147483648', '-2147483649', '1.5', '12a', ' 1', '99999999999999']) {
    assert.equal(integerKey(bad), null, bad);
  }
});

test('string keys are cut to keyLength bytes of UTF-8, on a character boundary', () => {
  assert.equal(truncateUtf8('abcdef', 4), 'abcd');
  assert.equal(truncateUtf8('abc', 32), 'abc');
  // é is 2 bytes: 'aé' is 3 bytes, 'aéb' 4.
  assert.equal(truncateUtf8('aébc', 4), 'aéb');
  assert.equal(truncateUtf8('aébc', 2), 'a');
  // 😀 is 4 bytes in one surrogate pair: never split.
  assert.equal(truncateUtf8('a😀', 4), 'a');
  assert.equal(truncateUtf8('a😀', 5), 'a😀');
  assert.equal(Buffer.byteLength(truncateUtf8('€'.repeat(20), 32)), 30);
  assert.equal(convertKey('string', 3, 'abcdef'), 'abc');
});
