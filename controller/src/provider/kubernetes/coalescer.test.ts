import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Coalescer } from './coalescer.ts';
import { ManualClock } from '../../testing/manual-clock.ts';

function setup(holdoffMs = 50, maxHoldoffMs = 1000) {
  const clock = new ManualClock(0);
  const runs: number[] = [];
  const c = new Coalescer(() => runs.push(clock.now()), { holdoffMs, maxHoldoffMs, clock });
  return { clock, runs, c };
}

test('nothing runs before open(), however many changes arrive', () => {
  const { clock, runs, c } = setup();
  c.notify();
  clock.advanceSync(10_000);
  c.notify();
  clock.advanceSync(10_000);
  assert.deepEqual(runs, []);
  assert.equal(c.pending, true);
});

test('open() runs at once, with or without pending changes (there is always a first world)', () => {
  const a = setup();
  a.clock.advanceSync(5);
  a.c.open();
  a.clock.advanceSync(0);
  assert.deepEqual(a.runs, [5]);

  const b = setup();
  b.c.notify();
  b.clock.advanceSync(500);
  b.c.open();
  b.clock.advanceSync(0);
  assert.deepEqual(b.runs, [500]);
  b.clock.advanceSync(10_000);
  assert.deepEqual(b.runs, [500], 'one run for everything pending at open');
});

test('a burst becomes one run, holdoffMs after the last change', () => {
  const { clock, runs, c } = setup(50, 1000);
  c.open();
  clock.advanceSync(0);
  runs.length = 0;
  c.notify(); // t=0
  clock.advanceSync(30);
  c.notify(); // t=30
  clock.advanceSync(30);
  c.notify(); // t=60
  clock.advanceSync(49);
  assert.deepEqual(runs, []);
  clock.advanceSync(1);
  assert.deepEqual(runs, [110]);
  clock.advanceSync(10_000);
  assert.deepEqual(runs, [110]);
});

test('a steady stream still runs every maxHoldoffMs after the first pending change', () => {
  const { clock, runs, c } = setup(50, 200);
  c.open();
  clock.advanceSync(0);
  runs.length = 0;
  for (let t = 0; t < 1000; t += 20) {
    c.notify();
    clock.advanceSync(20);
  }
  // Changes at 0, 20, ... 980, never 50 ms apart: each run comes 200 ms after the first change it
  // covers (the change at 200 arrives just after the run at 200, and opens the next window).
  assert.deepEqual(runs, [200, 400, 600, 800, 1000]);
  clock.advanceSync(10_000);
  assert.deepEqual(runs, [200, 400, 600, 800, 1000]);
});

test('a change made by the run itself schedules another run', () => {
  const clock = new ManualClock(0);
  let count = 0;
  const c: Coalescer = new Coalescer(
    () => {
      count++;
      if (count === 1) c.notify();
    },
    { holdoffMs: 10, clock },
  );
  c.open();
  clock.advanceSync(0);
  assert.equal(count, 1);
  clock.advanceSync(10);
  assert.equal(count, 2);
});

test('close() cancels the pending run and ignores later changes', () => {
  const { clock, runs, c } = setup();
  c.open();
  clock.advanceSync(0);
  c.notify();
  c.close();
  c.notify();
  clock.advanceSync(10_000);
  assert.equal(runs.length, 1);
  assert.equal(clock.pending, 0);
});

test('holdoff larger than max holdoff is refused', () => {
  assert.throws(() => new Coalescer(() => {}, { holdoffMs: 100, maxHoldoffMs: 50 }), RangeError);
});
