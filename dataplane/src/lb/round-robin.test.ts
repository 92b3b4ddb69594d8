import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundrobin } from './round-robin.ts';
import { drop, longestRun, seeded, sequence, server, servers, setWeight, take, tally, upAll } from './testkit.ts';

function rr(weights: number[], maxConnections = 0) {
  const alg = roundrobin.create();
  const list = servers(weights, maxConnections);
  upAll(alg, list);
  return { alg, list };
}

describe('roundrobin', () => {
  it('declares no input and no hashing', () => {
    assert.equal(roundrobin.name, 'roundrobin');
    assert.equal(roundrobin.needs, 'none');
    assert.equal(roundrobin.hashed, false);
  });

  it('rotates exactly in id order with equal weights', () => {
    const { alg } = rr([1, 1, 1]);
    assert.deepEqual(sequence(alg, 9), ['s1', 's2', 's3', 's1', 's2', 's3', 's1', 's2', 's3']);
  });

  it('rotates in id order whatever order the servers came up in', () => {
    const alg = roundrobin.create();
    const [a, b, c] = servers([4, 4, 4]);
    upAll(alg, [c, a, b]);
    assert.deepEqual(sequence(alg, 6), ['s1', 's2', 's3', 's1', 's2', 's3']);
  });

  it('gives exactly 300/200/100 for weights 3:2:1 over 600 picks, interleaved', () => {
    const { alg } = rr([3, 2, 1]);
    const seq = sequence(alg, 600);
    assert.deepEqual(tally(seq), { s1: 300, s2: 200, s3: 100 });
    assert.deepEqual(seq.slice(0, 6), ['s1', 's2', 's1', 's2', 's1', 's3']);
    // Every block of 6 picks holds exactly one round.
    for (let i = 0; i < 600; i += 6) assert.deepEqual(tally(seq.slice(i, i + 6)), { s1: 3, s2: 2, s3: 1 });
    assert.equal(longestRun(seq, 's1'), 1);
  });

  it('never gives weight 5 five picks in a row against 1 and 1', () => {
    const { alg } = rr([5, 1, 1]);
    const seq = sequence(alg, 700);
    assert.deepEqual(seq.slice(0, 7), ['s1', 's2', 's1', 's1', 's3', 's1', 's1']);
    assert.deepEqual(tally(seq), { s1: 500, s2: 100, s3: 100 });
    assert.ok(longestRun(seq, 's1') <= 3, `longest run ${longestRun(seq, 's1')}`);
  });

  it('keeps every server within one pick of its exact share at every point (random weights)', () => {
    const rand = seeded(7);
    for (let trial = 0; trial < 100; trial++) {
      const n = 1 + Math.floor(rand() * 8);
      const weights = Array.from({ length: n }, () => 1 + Math.floor(rand() * (rand() < 0.5 ? 10 : 256)));
      const total = weights.reduce((a, b) => a + b, 0);
      const { alg } = rr(weights);
      const counts = new Array<number>(n).fill(0);
      for (let t = 1; t <= Math.min(3 * total, 3000); t++) {
        const s = alg.pick({});
        assert.ok(s);
        counts[s.id - 1]++;
        for (let i = 0; i < n; i++) {
          const deviation = Math.abs(counts[i] - (t * weights[i]) / total);
          assert.ok(deviation < 1, `weights ${weights} after ${t} picks: s${i + 1} off by ${deviation}`);
        }
      }
    }
  });

  it('drops a server that goes down mid-sequence and takes it back when it returns', () => {
    const { alg, list } = rr([1, 1, 1]);
    assert.deepEqual(sequence(alg, 4), ['s1', 's2', 's3', 's1']);
    alg.onServerDown(list[1]);
    assert.deepEqual(sequence(alg, 6), ['s3', 's1', 's3', 's1', 's3', 's1']);
    alg.onServerUp(list[1]);
    const after = sequence(alg, 300);
    assert.deepEqual(tally(after), { s1: 100, s2: 100, s3: 100 });
    // Back in the rotation at once, without a burst: each round of three has all three servers.
    for (let i = 0; i < 300; i += 3) assert.equal(new Set(after.slice(i, i + 3)).size, 3);
  });

  it('follows a weight change at run time', () => {
    const { alg, list } = rr([1, 1, 1]);
    sequence(alg, 5);
    setWeight(alg, list[0], 3);
    const seq = sequence(alg, 500);
    const counts = tally(seq);
    assert.ok(Math.abs(counts.s1 - 300) <= 2, JSON.stringify(counts));
    assert.ok(Math.abs(counts.s2 - 100) <= 2, JSON.stringify(counts));
    assert.ok(Math.abs(counts.s3 - 100) <= 2, JSON.stringify(counts));
    setWeight(alg, list[0], 1);
    const back = tally(sequence(alg, 300));
    for (const name of ['s1', 's2', 's3']) assert.ok(Math.abs(back[name] - 100) <= 2, JSON.stringify(back));
  });

  it('never picks a weight 0 server, and picks it once its weight is raised', () => {
    const { alg, list } = rr([1, 0, 1]);
    assert.equal(tally(sequence(alg, 100)).s2, undefined);
    setWeight(alg, list[1], 1);
    assert.ok(Math.abs((tally(sequence(alg, 99)).s2 ?? 0) - 33) <= 1);
    setWeight(alg, list[1], 0);
    assert.equal(tally(sequence(alg, 100)).s2, undefined);
  });

  it('returns null without servers and when the only server has weight 0', () => {
    const alg = roundrobin.create();
    assert.equal(alg.pick({}), null);
    alg.onServerUp(server(1, 0));
    assert.equal(alg.pick({}), null);
  });

  it('avoids the given server unless it is the only candidate', () => {
    const { alg, list } = rr([1, 1, 1]);
    assert.equal(alg.pick({ avoid: list[0] })?.name, 's2');
    // s1 kept its turn.
    assert.equal(alg.pick({})?.name, 's1');
    const single = roundrobin.create();
    single.onServerUp(list[2]);
    assert.equal(single.pick({ avoid: list[2] }), list[2]);
  });

  it('avoids even when the other candidate is not due yet', () => {
    const { alg, list } = rr([1, 1]);
    assert.equal(alg.pick({})?.name, 's1');
    assert.equal(alg.pick({})?.name, 's2');
    // Both windows closed at the same time; s1 is next but must be avoided.
    assert.equal(alg.pick({ avoid: list[0] })?.name, 's2');
  });

  it('skips full servers and returns null when all are full', () => {
    const { alg, list } = rr([1, 1, 1], 1);
    const first = alg.pick({});
    assert.equal(first?.name, 's1');
    take(alg, list[0]);
    assert.deepEqual(sequence(alg, 4), ['s2', 's3', 's2', 's3']);
    take(alg, list[1]);
    take(alg, list[2]);
    assert.equal(alg.pick({}), null);
    assert.equal(alg.pick({ avoid: list[0] }), null);
    drop(alg, list[1]);
    assert.equal(alg.pick({})?.name, 's2');
    assert.equal(alg.pick({ avoid: list[1] })?.name, 's2', 'the avoided server when it is the only one with room');
  });

  it('does not burst a server that was full for a while', () => {
    const { alg, list } = rr([1, 1, 1], 1);
    take(alg, list[0]);
    sequence(alg, 60);
    drop(alg, list[0]);
    const after = sequence(alg, 30);
    assert.deepEqual(tally(after), { s1: 10, s2: 10, s3: 10 });
    assert.equal(longestRun(after, 's1'), 1);
  });

  it('keeps proportions among the servers left when one is full', () => {
    const { alg, list } = rr([1, 2, 3]);
    list[2].active = 1;
    (list[2] as { maxConnections: number }).maxConnections = 1;
    alg.onTakeConn(list[2]);
    assert.deepEqual(tally(sequence(alg, 300)), { s1: 100, s2: 200 });
  });
});
