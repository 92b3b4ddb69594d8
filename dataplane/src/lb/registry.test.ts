import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BALANCE_ALGORITHMS, type BalanceAlgorithm } from '@switchyard/api';
import { algorithms, createAlgorithm, factories } from './registry.ts';
import { balance, seeded, servers, upAll } from './testkit.ts';

const needs: Record<BalanceAlgorithm, string> = {
  roundrobin: 'none',
  'static-rr': 'none',
  leastconn: 'none',
  first: 'none',
  random: 'none',
  source: 'addr',
  uri: 'http',
  hdr: 'http',
  url_param: 'http',
};

describe('registry', () => {
  it('has every algorithm of the API, under its own name', () => {
    assert.deepEqual([...algorithms.keys()].sort(), [...BALANCE_ALGORITHMS].sort());
    for (const [name, factory] of algorithms) assert.equal(factory.name, name);
  });

  it('declares what each algorithm needs and whether it hashes', () => {
    for (const [name, factory] of algorithms) {
      assert.equal(factory.needs, needs[name], name);
      assert.equal(factory.hashed, needs[name] !== 'none', name);
    }
    // Known at compile time too.
    const sourceNeeds: 'addr' = factories.source.needs;
    const uriHashed: true = factories.uri.hashed;
    assert.equal(sourceNeeds, 'addr');
    assert.equal(uriHashed, true);
  });

  it('creates a working, independent instance per call', () => {
    for (const name of BALANCE_ALGORITHMS) {
      const a = createAlgorithm(balance({ algorithm: name, hashKey: 'k' }), seeded(1));
      const b = createAlgorithm(balance({ algorithm: name, hashKey: 'k' }), seeded(1));
      assert.notEqual(a, b);
      upAll(a, servers([1, 2]));
      assert.notEqual(a.pick({ hash: 77 }), null, name);
      assert.equal(b.pick({ hash: 77 }), null, name);
    }
  });

  it('rejects an unknown algorithm', () => {
    assert.throws(() => createAlgorithm(balance({ algorithm: 'nope' as BalanceAlgorithm }), seeded(1)), /unknown balance algorithm "nope"/);
  });
});
