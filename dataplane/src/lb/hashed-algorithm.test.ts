import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ir } from '@switchyard/api';
import type { Algorithm, LbServer } from './algorithm.ts';
import { hashString } from './hash-fn.ts';
import { hashRequestKey, type KeySource } from './hash-key.ts';
import { hdr } from './hdr.ts';
import { source } from './source.ts';
import { balance, drop, seeded, sequence, servers, take, tally, upAll } from './testkit.ts';
import { uri } from './uri.ts';
import { urlParam } from './url-param.ts';

const factories = [source, uri, hdr, urlParam];
const hashTypes: ir.Balance['hashType'][] = ['map-based', 'consistent'];

function make(hashType: ir.Balance['hashType'], weights = [1, 1, 1], maxConnections = 0) {
  const alg = source.create({ balance: balance({ algorithm: 'source', hashType }), random: seeded(1) });
  const list = servers(weights, maxConnections);
  upAll(alg, list);
  return { alg, list };
}

function ownerOf(alg: Algorithm, key: string): LbServer | null {
  return alg.pick({ hash: hashString(key) });
}

describe('hashed algorithms (source, uri, hdr, url_param)', () => {
  it('declare hashing and the input they need', () => {
    assert.deepEqual(
      factories.map((f) => [f.name, f.needs, f.hashed]),
      [
        ['source', 'addr', true],
        ['uri', 'http', true],
        ['hdr', 'http', true],
        ['url_param', 'http', true],
      ],
    );
  });

  for (const hashType of hashTypes) {
    describe(`with hash-type ${hashType}`, () => {
      it('sends the same key to the same server', () => {
        const { alg } = make(hashType);
        for (let i = 0; i < 200; i++) assert.equal(ownerOf(alg, `k${i}`), ownerOf(alg, `k${i}`));
        const used = new Set(Array.from({ length: 200 }, (_, i) => ownerOf(alg, `k${i}`)?.name));
        assert.equal(used.size, 3);
      });

      it('returns the key’s server even when it is full', () => {
        const { alg, list } = make(hashType, [1, 1], 1);
        const owner = ownerOf(alg, 'sticky') as LbServer;
        take(alg, owner);
        assert.equal(ownerOf(alg, 'sticky'), owner);
        take(alg, list.find((s) => s !== owner) as LbServer);
        assert.equal(ownerOf(alg, 'sticky'), owner);
      });

      it('avoids the key’s server when asked, unless it is the only one', () => {
        const { alg, list } = make(hashType);
        for (let i = 0; i < 50; i++) {
          const hash = hashString(`k${i}`);
          const owner = alg.pick({ hash }) as LbServer;
          const other = alg.pick({ hash, avoid: owner });
          assert.ok(other !== null && other !== owner);
        }
        alg.onServerDown(list[1]);
        alg.onServerDown(list[2]);
        assert.equal(alg.pick({ hash: 123, avoid: list[0] }), list[0]);
      });

      it('moves keys off a server that goes down, and never to weight 0', () => {
        const { alg, list } = make(hashType);
        alg.onServerDown(list[0]);
        list[1].weight = 0;
        alg.onWeightChange(list[1]);
        for (let i = 0; i < 300; i++) assert.equal(ownerOf(alg, `k${i}`), list[2]);
        alg.onServerDown(list[2]);
        assert.equal(alg.pick({ hash: 5 }), null);
        assert.equal(alg.pick({}), null);
      });

      it('falls back to round robin without a key, skipping full servers', () => {
        const { alg, list } = make(hashType, [1, 1, 1], 1);
        assert.deepEqual(sequence(alg, 6), ['s1', 's2', 's3', 's1', 's2', 's3']);
        take(alg, list[1]);
        assert.deepEqual(tally(sequence(alg, 6)), { s1: 3, s3: 3 });
        take(alg, list[0]);
        take(alg, list[2]);
        assert.equal(alg.pick({}), null);
        assert.equal(alg.pick({ hash: undefined }), null);
        drop(alg, list[2]);
        assert.equal(alg.pick({}), list[2]);
      });

      it('weights the round-robin fallback too', () => {
        const { alg } = make(hashType, [3, 1]);
        assert.deepEqual(tally(sequence(alg, 400)), { s1: 300, s2: 100 });
      });
    });
  }

  it('creates the lookup the hash type asks for', () => {
    // Adding a server moves ~1/5 of keys with consistent hashing, most of them with map-based.
    const moved = (hashType: ir.Balance['hashType']) => {
      const { alg } = make(hashType, [1, 1, 1, 1]);
      const before = Array.from({ length: 2000 }, (_, i) => ownerOf(alg, `k${i}`)?.name);
      alg.onServerUp(servers([1, 1, 1, 1, 1])[4]);
      return before.filter((name, i) => ownerOf(alg, `k${i}`)?.name !== name).length / 2000;
    };
    assert.ok(moved('consistent') < 0.3);
    assert.ok(moved('map-based') > 0.5);
  });

  it('works end to end with key extraction', () => {
    const b = balance({ algorithm: 'url_param', hashKey: 'user', hashType: 'consistent' });
    const alg = urlParam.create({ balance: b, random: seeded(1) });
    upAll(alg, servers([1, 1, 1]));
    const request = (target: string): KeySource => ({ src: '10.0.0.1', target, header: () => undefined });
    const alice = alg.pick({ hash: hashRequestKey(b, request('/cart?user=alice')) });
    for (const target of ['/x?user=alice', '/y?a=1&user=alice', '/cart?user=alice#top']) {
      assert.equal(alg.pick({ hash: hashRequestKey(b, request(target)) }), alice);
    }
    // No parameter: round robin.
    const names = Array.from({ length: 3 }, () => alg.pick({ hash: hashRequestKey(b, request('/cart')) })?.name);
    assert.deepEqual(names, ['s1', 's2', 's3']);
  });
});
