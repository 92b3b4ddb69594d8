import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RiseFall } from './state.ts';

test('rise=2 fall=3: exact transition points, snapping, and full restore on success', () => {
  const s = new RiseFall({ rise: 2, fall: 3 });
  assert.equal(s.max, 4);
  assert.equal(s.health, 2);
  assert.equal(s.up, true);

  // [ok, expected transition, expected up, expected health]
  const steps: [boolean, 'up' | 'down' | null, boolean, number][] = [
    [false, 'down', false, 0], // initial UP falls at the first failure, snaps to 0
    [true, null, false, 1],
    [false, null, false, 0], // rising is lost at once
    [true, null, false, 1],
    [true, 'up', true, 4], // second consecutive success: UP, snapped to rise+fall-1
    [false, null, true, 3],
    [false, null, true, 2],
    [true, null, true, 4], // one success restores full health (HAProxy check.c)
    [false, null, true, 3],
    [false, null, true, 2],
    [false, 'down', false, 0], // third consecutive failure: DOWN, snapped to 0
    [false, null, false, 0], // stays at 0
    [true, null, false, 1],
    [true, 'up', true, 4],
    [true, null, true, 4], // stays at max
  ];
  steps.forEach(([ok, transition, up, health], i) => {
    assert.equal(s.record(ok), transition, `step ${i} transition`);
    assert.equal(s.up, up, `step ${i} up`);
    assert.equal(s.health, health, `step ${i} health`);
  });
});

test('fall consecutive failures from full health, never fewer', () => {
  const s = new RiseFall({ rise: 2, fall: 3, initiallyUp: false });
  s.record(true);
  assert.equal(s.record(true), 'up');
  assert.equal(s.record(false), null);
  assert.equal(s.record(false), null);
  assert.equal(s.up, true);
  assert.equal(s.record(false), 'down');
});

test('initial UP is at health = rise and falls at the first failure', () => {
  const s = new RiseFall({ rise: 3, fall: 2 });
  assert.equal(s.health, 3);
  assert.equal(s.up, true);
  assert.equal(s.transitioning, true, 'health 3 of max 4 is not a stable end');
  assert.equal(s.record(false), 'down');
  assert.equal(s.health, 0);
});

test('initially DOWN: health 0, needs rise successes', () => {
  const s = new RiseFall({ rise: 3, fall: 2, initiallyUp: false });
  assert.equal(s.health, 0);
  assert.equal(s.up, false);
  assert.equal(s.fullyDown, true);
  assert.equal(s.transitioning, false);
  assert.equal(s.record(true), null);
  assert.equal(s.record(true), null);
  assert.equal(s.transitioning, true);
  assert.equal(s.record(true), 'up');
  assert.equal(s.health, 4);
  assert.equal(s.fullyUp, true);
  assert.equal(s.transitioning, false);
});

test('rise=1 fall=1 flips on every change', () => {
  const s = new RiseFall({ rise: 1, fall: 1 });
  assert.equal(s.fullyUp, true);
  assert.equal(s.transitioning, false);
  assert.equal(s.record(true), null);
  assert.equal(s.record(false), 'down');
  assert.equal(s.record(false), null);
  assert.equal(s.record(true), 'up');
});

test("describe() uses HAProxy's progress notation", () => {
  const s = new RiseFall({ rise: 2, fall: 3 });
  assert.equal(s.describe(), '1/3 UP');
  s.record(true);
  assert.equal(s.describe(), '3/3 UP');
  s.record(false);
  assert.equal(s.describe(), '2/3 UP');
  s.record(false);
  s.record(false);
  assert.equal(s.describe(), '0/2 DOWN');
  s.record(true);
  assert.equal(s.describe(), '1/2 DOWN');
});

test('rejects rise or fall below 1', () => {
  assert.throws(() => new RiseFall({ rise: 0, fall: 3 }), RangeError);
  assert.throws(() => new RiseFall({ rise: 2, fall: 0 }), RangeError);
  assert.throws(() => new RiseFall({ rise: 1.5, fall: 2 }), RangeError);
});
