import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LbServer } from './algorithm.ts';
import { random } from './random.ts';
import { balance, drop, seeded, server, servers, setWeight, take, upAll } from './testkit.ts';

function rnd(weights: number[], draws: number, seed = 42, maxConnections = 0) {
  const alg = random.create({ balance: balance({ algorithm: 'random', randomDraws: draws }), random: seeded(seed) });
  const list = servers(weights, maxConnections);
  upAll(alg, list);
  return { alg, list };
}

function shares(alg: ReturnType<typeof random.create>, n: number, size: number): number[] {
  const counts = new Array<number>(size).fill(0);
  for (let i = 0; i < n; i++) counts[(alg.pick({}) as LbServer).id - 1]++;
  return counts.map((c) => c / n);
}

describe('random', () => {
  it('declares no input and no hashing', () => {
    assert.equal(random.name, 'random');
    assert.equal(random.needs, 'none');
    assert.equal(random.hashed, false);
  });

  it('draws in proportion to weight (one draw), within 1 point of share over 100k picks', () => {
    const { alg } = rnd([1, 2, 3, 4], 1);
    const got = shares(alg, 100_000, 4);
    [0.1, 0.2, 0.3, 0.4].forEach((want, i) => assert.ok(Math.abs(got[i] - want) < 0.01, `s${i + 1}: ${got[i]}`));
  });

  it('still follows weights with two draws when every server is idle', () => {
    const { alg } = rnd([1, 3], 2);
    const got = shares(alg, 50_000, 2);
    assert.ok(Math.abs(got[0] - 0.25) < 0.01, `${got}`);
  });

  it('keeps the less loaded of its draws (power of two choices)', () => {
    // Equal weights: the idle s2 wins unless both draws are s1, probability 1/4.
    const { alg, list } = rnd([1, 1], 2);
    list[0].active = 10;
    alg.onTakeConn(list[0]);
    assert.ok(Math.abs(shares(alg, 20_000, 2)[1] - 0.75) < 0.015);
    // Three draws: 1 - 1/8.
    const three = rnd([1, 1], 3);
    three.list[0].active = 10;
    three.alg.onTakeConn(three.list[0]);
    assert.ok(Math.abs(shares(three.alg, 20_000, 2)[1] - 0.875) < 0.015);
  });

  it('compares load relative to weight', () => {
    // s1 (weight 4, 4 active: 1 per weight) beats s2 (weight 1, 2 active).
    const { alg, list } = rnd([4, 1], 16);
    list[0].active = 4;
    list[1].active = 2;
    alg.onTakeConn(list[0]);
    alg.onTakeConn(list[1]);
    for (let i = 0; i < 100; i++) assert.equal(alg.pick({}), list[0]);
  });

  it('keeps the maximum load low under a steady flow of requests', () => {
    const flow = (draws: number) => {
      const { alg, list } = rnd(new Array(20).fill(1), draws, 3);
      const rand = seeded(9);
      const inflight: LbServer[] = [];
      let worst = 0;
      for (let i = 0; i < 20_000; i++) {
        const s = alg.pick({}) as LbServer;
        take(alg, s);
        inflight.push(s);
        if (inflight.length > 100) {
          // A random request in flight ends.
          const j = Math.floor(rand() * inflight.length);
          const done = inflight[j];
          inflight[j] = inflight[inflight.length - 1];
          inflight.pop();
          drop(alg, done);
        }
        if (i > 1000) worst = Math.max(worst, ...list.map((x) => x.active));
      }
      return worst;
    };
    const one = flow(1);
    const two = flow(2);
    assert.ok(one - two >= 4, `max load with 2 draws ${two}, with 1 draw ${one}`);
    assert.ok(two <= 10, `max load with 2 draws ${two} (mean 5)`);
  });

  it('draws fractional weights (slow start) in proportion too', () => {
    const { alg } = rnd([0.5, 0.5, 1], 1);
    const got = shares(alg, 40_000, 3);
    [0.25, 0.25, 0.5].forEach((want, i) => assert.ok(Math.abs(got[i] - want) < 0.015, `s${i + 1}: ${got[i]}`));
  });

  it('is deterministic for a given random source', () => {
    const a = rnd([1, 2, 3], 2, 5).alg;
    const b = rnd([1, 2, 3], 2, 5).alg;
    for (let i = 0; i < 100; i++) assert.equal(a.pick({})?.name, b.pick({})?.name);
  });

  it('never draws weight 0, down or full servers, and returns null when none is left', () => {
    const { alg, list } = rnd([1, 0, 1, 1], 2, 1, 1);
    alg.onServerDown(list[3]);
    take(alg, list[2]);
    for (let i = 0; i < 200; i++) assert.equal(alg.pick({}), list[0]);
    take(alg, list[0]);
    assert.equal(alg.pick({}), null);
    drop(alg, list[2]);
    assert.equal(alg.pick({}), list[2]);
    setWeight(alg, list[2], 0);
    assert.equal(alg.pick({}), null);
  });

  it('avoids the given server unless it is the only candidate', () => {
    const { alg, list } = rnd([5, 1, 1], 2, 11);
    for (let i = 0; i < 300; i++) assert.notEqual(alg.pick({ avoid: list[0] }), list[0]);
    const got = new Set<string>();
    for (let i = 0; i < 300; i++) got.add((alg.pick({ avoid: list[1] }) as LbServer).name);
    assert.deepEqual([...got].sort(), ['s1', 's3']);
    const single = random.create({ balance: balance({ algorithm: 'random' }), random: seeded(1) });
    const only = server(7);
    single.onServerUp(only);
    assert.equal(single.pick({ avoid: only }), only);
  });

  it('uses the injected random source (edge values included)', () => {
    const values = [0, 0.999999999, 0.5];
    let i = 0;
    const alg = random.create({ balance: balance({ algorithm: 'random', randomDraws: 1 }), random: () => values[i++ % 3] });
    upAll(alg, servers([1, 1, 2]));
    assert.deepEqual(
      [alg.pick({})?.name, alg.pick({})?.name, alg.pick({})?.name],
      ['s1', 's3', 's3'],
    );
  });
});
