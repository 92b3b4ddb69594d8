import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LbServer } from './algorithm.ts';
import { seeded, server } from './testkit.ts';
import { WrrScheduler } from './wrr-scheduler.ts';

/** Drives two schedulers with the same random events and returns both pick sequences. */
function twin(a: WrrScheduler, b: WrrScheduler, seed: number, steps: number): [string[], string[]] {
  const rand = seeded(seed);
  const list: LbServer[] = Array.from({ length: 6 }, (_, i) => server(i + 1, 1 + Math.floor(rand() * 5), 2));
  const out: [string[], string[]] = [[], []];
  const both = (f: (s: WrrScheduler) => void) => {
    f(a);
    f(b);
  };
  for (const s of list) both((x) => x.up(s, s.weight));
  for (let step = 0; step < steps; step++) {
    const op = rand();
    const s = list[Math.floor(rand() * list.length)];
    if (op < 0.03) both((x) => x.down(s));
    else if (op < 0.06) both((x) => x.up(s, s.weight));
    else if (op < 0.09) {
      s.weight = Math.floor(rand() * 6) + (rand() < 0.2 ? 0.5 : 0);
      both((x) => x.setWeight(s, s.weight));
    } else if (op < 0.2) {
      s.active = Math.floor(rand() * 3);
      both((x) => x.refreshFull(s));
    } else {
      const avoid = rand() < 0.2 ? s : null;
      out[0].push(a.pick(avoid)?.name ?? 'null');
      out[1].push(b.pick(avoid)?.name ?? 'null');
    }
  }
  return out;
}

describe('WrrScheduler', () => {
  it('picks the same sequence whether or not its clock is shifted down', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const [plain, shifted] = twin(new WrrScheduler(), new WrrScheduler(1), seed, 5000);
      assert.deepEqual(shifted, plain, `seed ${seed}`);
    }
  });

  it('counts fractional weights (slow start) in sixteenths', () => {
    const rr = new WrrScheduler();
    const a = server(1, 0.25);
    const b = server(2, 1);
    rr.up(a, a.weight);
    rr.up(b, b.weight);
    assert.equal(rr.weightOf(a), 0.25);
    const counts = [0, 0];
    for (let i = 0; i < 500; i++) counts[(rr.pick(null) as LbServer).id - 1]++;
    assert.deepEqual(counts, [100, 400]);
    // Even a tiny positive weight takes some traffic, 0 takes none.
    rr.setWeight(a, 0.001);
    counts.fill(0);
    for (let i = 0; i < 170; i++) counts[(rr.pick(null) as LbServer).id - 1]++;
    assert.deepEqual(counts, [10, 160]);
    rr.setWeight(a, 0);
    for (let i = 0; i < 50; i++) assert.equal(rr.pick(null), b);
  });
});
