import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ir } from '@switchyard/api';
import { hashString } from './hash-fn.ts';
import { hashKeyFor, hashRequestKey, type KeySource } from './hash-key.ts';
import { balance } from './testkit.ts';

function req(target: string, headers: Record<string, string> = {}, src = '192.0.2.7'): KeySource {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    src,
    target,
    header: (name) => {
      assert.equal(name, name.toLowerCase(), 'header() is called with a lower-case name');
      return lower[name];
    },
  };
}

type UriOptions = NonNullable<ir.Balance['uri']>;

function uri(target: string, options: Partial<UriOptions> = {}): string | undefined {
  const b = balance({ algorithm: 'uri', uri: { depth: null, length: null, whole: false, pathOnly: true, ...options } });
  return hashKeyFor(b, req(target));
}

describe('hash-key', () => {
  describe('source', () => {
    const b = balance({ algorithm: 'source' });

    it('is the client address', () => {
      assert.equal(hashKeyFor(b, req('/', {}, '203.0.113.9')), '203.0.113.9');
      assert.equal(hashKeyFor(b, req('/', {}, '2001:db8::1')), '2001:db8::1');
    });

    it('hashes an IPv4-mapped IPv6 address as the IPv4 address', () => {
      assert.equal(hashKeyFor(b, req('/', {}, '::ffff:203.0.113.9')), '203.0.113.9');
      assert.equal(hashKeyFor(b, req('/', {}, '::FFFF:203.0.113.9')), '203.0.113.9');
      assert.equal(hashRequestKey(b, req('/', {}, '::ffff:10.1.2.3')), hashRequestKey(b, req('/', {}, '10.1.2.3')));
      assert.equal(hashKeyFor(b, req('/', {}, '::ffff:1:2')), '::ffff:1:2');
    });

    it('has no key without an address', () => {
      assert.equal(hashKeyFor(b, req('/', {}, '')), undefined);
    });
  });

  describe('uri', () => {
    it('is the path without the query by default', () => {
      assert.equal(uri('/a/b/c?x=1&y=2'), '/a/b/c');
      assert.equal(uri('/a/b/c'), '/a/b/c');
      assert.equal(hashKeyFor(balance({ algorithm: 'uri' }), req('/a/b?q')), '/a/b');
    });

    it('includes the query with whole', () => {
      assert.equal(uri('/a/b/c?x=1&y=2', { whole: true }), '/a/b/c?x=1&y=2');
    });

    it('keeps the first depth directories', () => {
      assert.equal(uri('/a/b/c/d.html', { depth: 1 }), '/a');
      assert.equal(uri('/a/b/c/d.html', { depth: 2 }), '/a/b');
      assert.equal(uri('/a/b/c/d.html', { depth: 3 }), '/a/b/c');
      assert.equal(uri('/a/b/c/d.html', { depth: 9 }), '/a/b/c/d.html');
      assert.equal(uri('/a/b?x=/y/z', { depth: 2 }), '/a/b');
      assert.equal(uri('/a?x=/y/z', { depth: 2, whole: true }), '/a?x=/y', 'HAProxy counts slashes in the query too');
    });

    it('keeps the first length characters', () => {
      assert.equal(uri('/abcdef/ghi', { length: 4 }), '/abc');
      assert.equal(uri('/ab', { length: 10 }), '/ab');
      assert.equal(uri('/ab?cdef', { length: 6, whole: true }), '/ab?cd');
    });

    it('stops at whichever of depth and length comes first', () => {
      assert.equal(uri('/aaaa/bbbb/cccc', { depth: 2, length: 7 }), '/aaaa/b');
      assert.equal(uri('/aaaa/bbbb/cccc', { depth: 1, length: 8 }), '/aaaa');
    });

    it('strips scheme and authority from an absolute-form target with pathOnly', () => {
      assert.equal(uri('http://example.com:8080/a/b?x=1'), '/a/b');
      assert.equal(uri('https://user@example.com/a', { depth: 1 }), '/a');
      assert.equal(uri('http://example.com?x=1', { whole: true }), '?x=1');
      assert.equal(uri('http://example.com'), '');
      assert.equal(uri('http://example.com/a/b', { length: 2 }), '/a');
    });

    it('hashes the absolute-form target as it is without pathOnly', () => {
      assert.equal(uri('http://example.com/a/b?x=1', { pathOnly: false }), 'http://example.com/a/b');
      assert.equal(uri('http://example.com/a/b', { pathOnly: false, depth: 1 }), 'http:/');
    });

    it('leaves other request-target forms alone', () => {
      assert.equal(uri('*'), '*');
      assert.equal(uri('example.com:443'), 'example.com:443');
      assert.equal(uri('/redirect?to=http://x/y'), '/redirect');
    });
  });

  describe('hdr', () => {
    const b = balance({ algorithm: 'hdr', hashKey: 'X-Tenant' });

    it('is the value of the named header, looked up case-insensitively', () => {
      assert.equal(hashKeyFor(b, req('/', { 'x-tenant': 'acme' })), 'acme');
      assert.equal(hashKeyFor(b, req('/', { 'X-TENANT': 'acme' })), 'acme');
    });

    it('has no key when the header is missing or empty', () => {
      assert.equal(hashKeyFor(b, req('/', { other: 'x' })), undefined);
      assert.equal(hashKeyFor(b, req('/', { 'x-tenant': '' })), undefined);
      assert.equal(hashRequestKey(b, req('/')), undefined);
      assert.equal(hashKeyFor(balance({ algorithm: 'hdr', hashKey: null }), req('/', { 'x-tenant': 'a' })), undefined);
    });
  });

  describe('url_param', () => {
    const b = balance({ algorithm: 'url_param', hashKey: 'user' });
    const key = (target: string) => hashKeyFor(b, req(target));

    it('is the raw value of the named query parameter', () => {
      assert.equal(key('/p?user=alice'), 'alice');
      assert.equal(key('/p?a=1&user=bob&c=3'), 'bob');
      assert.equal(key('/p?user=a%20b'), 'a%20b');
      assert.equal(key('/p?user=x#frag'), 'x');
      assert.equal(key('/p?a=1&user=first&user=second'), 'first');
    });

    it('matches the name exactly (case and prefix)', () => {
      assert.equal(key('/p?username=carol&user=dave'), 'dave');
      assert.equal(key('/p?User=erin'), undefined);
      assert.equal(key('/p?xuser=1'), undefined);
    });

    it('has no key when the parameter is missing, has no = or is empty', () => {
      assert.equal(key('/p'), undefined);
      assert.equal(key('/p?other=1'), undefined);
      assert.equal(key('/p?user'), undefined);
      assert.equal(key('/p?user='), undefined);
      assert.equal(key('/p?user=&x=1'), undefined);
      assert.equal(key('/user=alice'), undefined, 'only the query counts');
    });
  });

  it('has no key for algorithms that do not hash', () => {
    for (const algorithm of ['roundrobin', 'static-rr', 'leastconn', 'first', 'random'] as const) {
      assert.equal(hashKeyFor(balance({ algorithm }), req('/a?b=c')), undefined);
      assert.equal(hashRequestKey(balance({ algorithm }), req('/a?b=c')), undefined);
    }
  });

  it('hashRequestKey hashes exactly the key hashKeyFor returns', () => {
    const cases: [ir.Balance, KeySource][] = [
      [balance({ algorithm: 'source' }), req('/', {}, '::ffff:10.0.0.1')],
      [balance({ algorithm: 'uri', uri: { depth: 2, length: 30, whole: true, pathOnly: true } }), req('http://h/a/b/c?d=e')],
      [balance({ algorithm: 'uri' }), req('/a/b/ü?x')],
      [balance({ algorithm: 'hdr', hashKey: 'Host' }), req('/', { host: 'example.com' })],
      [balance({ algorithm: 'url_param', hashKey: 'id' }), req('/x?id=42&z=1')],
    ];
    for (const [b, r] of cases) {
      const key = hashKeyFor(b, r);
      assert.notEqual(key, undefined);
      assert.equal(hashRequestKey(b, r), hashString(key as string));
    }
  });
});
