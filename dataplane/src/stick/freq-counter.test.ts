import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freqRead, freqTotal, freqUpdate, freqValue } from './freq-counter.ts';

const P = 10_000;
// An aligned window start, so hand computations stay readable.
const T = 100_000;

test('a fresh counter starts its window at the multiple of the period containing the first event', () => {
  const s = [0, 0, 0];
  freqUpdate(s, 0, P, T + 1_000, 5);
  assert.deepEqual(s, [T, 5, 0]);
  // remain 9000, no previous period: the current count alone.
  assert.equal(freqRead(s, 0, P, T + 1_000), 5);
  assert.equal(freqRead(s, 0, P, T + 9_999), 5);
});

test('within the next period the previous count is weighed by the part of it still in the window', () => {
  const s = [T, 5, 0];
  // Read without update at T+12s: curr becomes past, remain = 10000 - 2000 = 8000: 5*8000/10000 = 4.
  assert.equal(freqRead(s, 0, P, T + 12_000), 4);
  freqUpdate(s, 0, P, T + 12_000, 3);
  assert.deepEqual(s, [T + P, 3, 5]);
  // 3 + 5*8000/10000 = 7.
  assert.equal(freqRead(s, 0, P, T + 12_000), 7);
  // 3 + 5*1000/10000 = 3.5, rounded down.
  assert.equal(freqRead(s, 0, P, T + 19_000), 3);
});

test('reads at the period boundary', () => {
  const s = [T + P, 3, 5];
  // At exactly currStart + period the previous period weighs nothing and the current one is whole.
  assert.equal(freqRead(s, 0, P, T + 2 * P), 3);
  // One millisecond later the current period becomes the previous one: 3*9999/10000.
  assert.equal(freqRead(s, 0, P, T + 2 * P + 1), 2);
  // At two periods past its start the current count has slid out entirely.
  assert.equal(freqRead(s, 0, P, T + 3 * P), 0);
  assert.equal(freqRead(s, 0, P, T + 3 * P + 1), 0);
  // An update exactly at the boundary rotates: what was current is whole in the window.
  freqUpdate(s, 0, P, T + 2 * P, 1);
  assert.deepEqual(s, [T + 2 * P, 1, 3]);
  assert.equal(freqRead(s, 0, P, T + 2 * P), 4);
});

test('a gap of several periods forgets everything and keeps the window aligned', () => {
  const s = [T + P, 3, 5];
  freqUpdate(s, 0, P, T + 45_000, 1);
  // 3 whole periods passed: start moves to T+40s, not to the time of the update.
  assert.deepEqual(s, [T + 40_000, 1, 0]);
  assert.equal(freqRead(s, 0, P, T + 45_000), 1);
  // Exactly two periods: the previous period was empty.
  const t = [T, 7, 2];
  freqUpdate(t, 0, P, T + 2 * P, 1);
  assert.deepEqual(t, [T + 2 * P, 1, 0]);
});

test('flapping correction: a previous count of 0 or 1 with nothing current reads as itself', () => {
  // 1 event last period: HAProxy reports 1 for the whole next period rather than 0.
  assert.equal(freqRead([T, 0, 1], 0, P, T + 9_000), 1);
  assert.equal(freqTotal([T, 0, 1], 0, P, T + 9_000), P);
  // Reached through rotation too, up to the end of the window.
  assert.equal(freqRead([T, 1, 0], 0, P, T + 2 * P), 1);
  assert.equal(freqRead([T, 1, 0], 0, P, T + 2 * P + 1), 0);
  // 2 events decay: 2*4000/10000.
  assert.equal(freqRead([T, 0, 2], 0, P, T + 6_000), 0);
  assert.equal(freqRead([T, 0, 2], 0, P, T + 4_000), 1);
});

test('a window starting after the local clock (a remote writer slightly ahead) counts prev at most once', () => {
  assert.equal(freqRead([T + P, 2, 4], 0, P, T + 9_000), 6);
});

test('totals of several origins add up before rounding', () => {
  const a = [T, 0, 3];
  const b = [T, 0, 3];
  const now = T + 5_000;
  // Each alone reads 1 (1.5 rounded down), together 3.
  assert.equal(freqRead(a, 0, P, now), 1);
  assert.equal(freqValue(freqTotal(a, 0, P, now) + freqTotal(b, 0, P, now), P), 3);
});

test('counters live at an offset inside a larger array', () => {
  const s = [9, 9, 9, 0, 0, 0, 9];
  freqUpdate(s, 3, 1_000, 5_500, 2);
  assert.deepEqual(s, [9, 9, 9, 5_000, 2, 0, 9]);
  assert.equal(freqRead(s, 3, 1_000, 5_500), 2);
});
