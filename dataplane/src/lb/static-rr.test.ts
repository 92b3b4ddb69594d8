import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundrobin } from './round-robin.ts';
import { staticRr } from './static-rr.ts';
import { drop, longestRun, sequence, servers, setWeight, take, tally, upAll } from './testkit.ts';

function srr(weights: number[], maxConnections = 0) {
  const alg = staticRr.create();
  const list = servers(weights, maxConnections);
  upAll(alg, list);
  return { alg, list };
}

describe('static-rr', () => {
  it('declares no input and no hashing', () => {
    assert.equal(staticRr.name, 'static-rr');
    assert.equal(staticRr.needs, 'none');
    assert.equal(staticRr.hashed, false);
  });

  it('has the same smooth order as roundrobin', () => {
    for (const weights of [
      [1, 1, 1],
      [3, 2, 1],
      [5, 1, 1],
      [7, 3, 2, 1],
    ]) {
      const a = srr(weights).alg;
      const b = roundrobin.create();
      upAll(b, servers(weights));
      assert.deepEqual(sequence(a, 200), sequence(b, 200), `weights ${weights}`);
    }
    const seq = sequence(srr([3, 2, 1]).alg, 600);
    assert.deepEqual(tally(seq), { s1: 300, s2: 200, s3: 100 });
    assert.ok(longestRun(sequence(srr([5, 1, 1]).alg, 700), 's1') <= 3);
  });

  it('ignores a weight change while the server stays up', () => {
    const { alg, list } = srr([1, 1, 1]);
    setWeight(alg, list[0], 5);
    assert.deepEqual(tally(sequence(alg, 300)), { s1: 100, s2: 100, s3: 100 });
  });

  it('applies the new weight when the server comes up again', () => {
    const { alg, list } = srr([1, 1, 1]);
    setWeight(alg, list[0], 2);
    alg.onServerDown(list[0]);
    alg.onServerUp(list[0]);
    const counts = tally(sequence(alg, 400));
    assert.ok(Math.abs(counts.s1 - 200) <= 2, JSON.stringify(counts));
  });

  it('drains a server set to weight 0 and restores its initial weight after', () => {
    const { alg, list } = srr([2, 1]);
    setWeight(alg, list[0], 0);
    assert.deepEqual(tally(sequence(alg, 30)), { s2: 30 });
    // HAProxy accepts only 0% and 100% for static algorithms: any non-zero weight restores the initial one.
    setWeight(alg, list[0], 7);
    const counts = tally(sequence(alg, 300));
    assert.ok(Math.abs(counts.s1 - 200) <= 2, JSON.stringify(counts));
  });

  it('takes the first non-zero weight of a server that came up at 0', () => {
    const { alg, list } = srr([0, 1]);
    assert.deepEqual(tally(sequence(alg, 10)), { s2: 10 });
    setWeight(alg, list[0], 3);
    const counts = tally(sequence(alg, 400));
    assert.ok(Math.abs(counts.s1 - 300) <= 2, JSON.stringify(counts));
  });

  it('removes down servers, skips full ones and avoids as roundrobin does', () => {
    const { alg, list } = srr([1, 1, 1], 1);
    alg.onServerDown(list[2]);
    assert.deepEqual(sequence(alg, 4), ['s1', 's2', 's1', 's2']);
    take(alg, list[0]);
    assert.deepEqual(sequence(alg, 2), ['s2', 's2']);
    assert.equal(alg.pick({ avoid: list[1] }), list[1]);
    take(alg, list[1]);
    assert.equal(alg.pick({}), null);
    drop(alg, list[0]);
    assert.equal(alg.pick({ avoid: list[1] }), list[0]);
  });
});
