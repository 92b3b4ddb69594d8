/**
 * Every algorithm against a model of the interface contract, under random events: servers going
 * up and down, weights changing, requests taken and released (also on servers that are down, as
 * a pool may do), picks with and without `avoid`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BALANCE_ALGORITHMS } from '@switchyard/api';
import type { Algorithm, LbServer } from './algorithm.ts';
import { isFull } from './capacity.ts';
import { createAlgorithm, algorithms } from './registry.ts';
import { balance, seeded, server } from './testkit.ts';

function fuzz(name: (typeof BALANCE_ALGORITHMS)[number], seed: number): void {
  const rand = seeded(seed);
  const hashed = algorithms.get(name)?.hashed ?? false;
  const alg: Algorithm = createAlgorithm(balance({ algorithm: name, hashKey: 'k', randomDraws: 2 }), seeded(seed + 1));
  const list = Array.from({ length: 8 }, (_, i) => server(i + 1, Math.floor(rand() * 4), Math.floor(rand() * 3)));
  const up = new Set<LbServer>();
  const pickable = (s: LbServer) => up.has(s) && s.weight > 0 && !isFull(s);
  const candidates = (avoid: LbServer | null) => list.filter((s) => pickable(s) && s !== avoid);

  for (let step = 0; step < 3000; step++) {
    const op = rand();
    const s = list[Math.floor(rand() * list.length)];
    if (op < 0.08) {
      if (!up.has(s)) {
        up.add(s);
        alg.onServerUp(s);
      }
    } else if (op < 0.14) {
      if (up.has(s)) {
        up.delete(s);
        alg.onServerDown(s);
      }
    } else if (op < 0.2) {
      s.weight = Math.floor(rand() * 4);
      alg.onWeightChange(s);
    } else if (op < 0.32) {
      if (s.active > 0) {
        s.active--;
        alg.onDropConn(s);
      }
    } else {
      const avoid = rand() < 0.3 ? s : null;
      const useHash = hashed && rand() < 0.7;
      const got = alg.pick(useHash ? { hash: Math.floor(rand() * 2 ** 32), avoid } : { avoid });
      const context = `${name} seed ${seed} step ${step}`;
      if (useHash) {
        // Hashing: any usable server (full or not), avoid only if it is the only one.
        const usable = list.filter((x) => up.has(x) && x.weight > 0);
        if (usable.length === 0) assert.equal(got, null, context);
        else {
          assert.ok(got !== null && usable.includes(got), context);
          if (got === avoid) assert.equal(usable.length, 1, `${context}: avoided server returned`);
        }
        // Static weights are not checked here: static-rr is not hashed.
        continue;
      }
      // static-rr keeps the weight a server came up with, so only "0 or not" is comparable.
      const others = candidates(avoid);
      if (got === null) {
        assert.equal(others.length, 0, `${context}: null although ${others.map((x) => x.name)} could take it`);
        assert.ok(avoid === null || !pickable(avoid), `${context}: null although avoid could take it`);
        continue;
      }
      assert.ok(pickable(got), `${context}: picked ${got.name} up=${up.has(got)} w=${got.weight} full=${isFull(got)}`);
      if (got === avoid) assert.equal(others.length, 0, `${context}: avoided server returned`);
      if (name === 'first' && got !== avoid) assert.equal(got, others[0], `${context}: not the lowest id`);
      if (name === 'leastconn' && got !== avoid) {
        const load = (x: LbServer) => (x.active + 1) / x.weight;
        assert.equal(load(got), Math.min(...others.map(load)), `${context}: not the least loaded`);
      }
      if (rand() < 0.7) {
        got.active++;
        alg.onTakeConn(got);
      }
    }
  }
}

describe('conformance under random events', () => {
  for (const name of BALANCE_ALGORITHMS) {
    it(name, () => {
      for (let seed = 1; seed <= 20; seed++) fuzz(name, seed);
    });
  }
});
