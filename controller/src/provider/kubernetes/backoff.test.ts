import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.ts';

test('delays double from initialMs up to maxMs, then stay there', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
  assert.deepEqual(
    Array.from({ length: 7 }, () => b.next()),
    [100, 200, 400, 800, 1000, 1000, 1000],
  );
  assert.equal(b.failures, 7);
});

test('jitter spreads each delay within ±jitter, driven by the injected random source', () => {
  const low = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
  const high = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.999999 });
  const mid = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.5 });
  assert.equal(low.next(), 800);
  assert.equal(high.next(), 1200);
  assert.equal(mid.next(), 1000);
  assert.equal(low.next(), 1600); // the second failure doubles the base, jitter applies on top
});

test('reset starts again from initialMs', () => {
  const b = new Backoff({ initialMs: 10, jitter: 0 });
  b.next();
  b.next();
  b.reset();
  assert.equal(b.failures, 0);
  assert.equal(b.next(), 10);
});

test('nonsense options are refused', () => {
  assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ initialMs: 100, maxMs: 50 }), RangeError);
  assert.throws(() => new Backoff({ jitter: 2 }), RangeError);
});
