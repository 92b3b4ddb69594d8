import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LbServer } from './algorithm.ts';
import { first } from './first.ts';
import { drop, sequence, server, servers, setWeight, take, upAll } from './testkit.ts';

function fas(weights: number[], maxConnections: number) {
  const alg = first.create();
  const list = servers(weights, maxConnections);
  upAll(alg, list);
  return { alg, list };
}

describe('first', () => {
  it('declares no input and no hashing', () => {
    assert.equal(first.name, 'first');
    assert.equal(first.needs, 'none');
    assert.equal(first.hashed, false);
  });

  it('fills server 1 to maxConnections, then server 2, then server 3', () => {
    const { alg } = fas([1, 1, 1], 2);
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      const s = alg.pick({}) as LbServer;
      got.push(s.name);
      take(alg, s);
    }
    assert.deepEqual(got, ['s1', 's1', 's2', 's2', 's3', 's3']);
    assert.equal(alg.pick({}), null);
  });

  it('goes back to the lowest id as soon as it has a free slot', () => {
    const { alg, list } = fas([1, 1, 1], 1);
    for (let i = 0; i < 3; i++) take(alg, alg.pick({}) as LbServer);
    drop(alg, list[1]);
    assert.equal(alg.pick({}), list[1]);
    drop(alg, list[0]);
    assert.equal(alg.pick({}), list[0]);
  });

  it('ignores the order servers came up in', () => {
    const alg = first.create();
    const [a, b, c] = servers([1, 1, 1], 1);
    upAll(alg, [c, b, a]);
    assert.equal(alg.pick({}), a);
  });

  it('sends everything to the first server when it has no limit', () => {
    const { alg } = fas([1, 1], 0);
    assert.deepEqual(sequence(alg, 5), ['s1', 's1', 's1', 's1', 's1']);
  });

  it('skips servers that are down or have weight 0, whatever their weight otherwise', () => {
    const { alg, list } = fas([1, 5, 9], 0);
    alg.onServerDown(list[0]);
    assert.equal(alg.pick({}), list[1]);
    setWeight(alg, list[1], 0);
    assert.equal(alg.pick({}), list[2]);
    setWeight(alg, list[1], 3);
    assert.equal(alg.pick({}), list[1]);
    alg.onServerUp(list[0]);
    assert.equal(alg.pick({}), list[0]);
  });

  it('avoids the given server unless it is the only candidate', () => {
    const { alg, list } = fas([1, 1, 1], 2);
    assert.equal(alg.pick({ avoid: list[0] }), list[1]);
    take(alg, list[1]);
    take(alg, list[1]);
    assert.equal(alg.pick({ avoid: list[0] }), list[2]);
    const single = first.create();
    const only = server(4);
    single.onServerUp(only);
    assert.equal(single.pick({ avoid: only }), only);
    assert.equal(first.create().pick({}), null);
  });
});
