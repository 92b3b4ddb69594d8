/**
 * A Clock that moves only when told to: test support for everything in the controller that takes
 * a `Clock` (channel, fleet reporter and view, status pipeline, writer and event recorder, leader
 * elector, Kubernetes provider). Nothing fires until time is advanced; then due timers fire in time
 * order (ties in the order they were set), each with `now()` at its due time, including timers
 * that the fired ones set within the window.
 *
 * - `advance(ms)` (async) lets the promise chains a timer starts settle before the next one fires,
 *   so asynchronous code (the elector, fleet, status) steps through time as it would for real.
 * - `advanceSync(ms)` fires everything at once, for code whose timers do their work synchronously
 *   (the channel, the provider's coalescer and informer backoff) and for synchronous tests.
 */
import type { Clock, Timer } from '../clock.ts';

/** Where a ManualClock starts unless told otherwise: 2026-01-01T00:00:00Z, so stamps read naturally. */
export const MANUAL_CLOCK_START = Date.UTC(2026, 0, 1);

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<Timer, Pending>();

  constructor(start = MANUAL_CLOCK_START) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const timer: Timer = { unref: () => timer };
    this.#timers.set(timer, { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn });
    return timer;
  }

  clearTimeout(timer: Timer): void {
    this.#timers.delete(timer);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /** The same timeline seen from a node whose wall clock is `offsetMs` ahead (or behind). */
  skewed(offsetMs: number): Clock {
    return {
      now: () => this.#now + offsetMs,
      setTimeout: (fn, ms) => this.setTimeout(fn, ms),
      clearTimeout: (timer) => this.clearTimeout(timer),
    };
  }

  /** Moves time forward by `ms`, firing due timers in order and settling before, after each and at the end. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    while (this.#fireNext(until)) await settle();
    this.#now = until;
    await settle();
  }

  /** Advances to an absolute time (never backwards). */
  async advanceTo(time: number): Promise<void> {
    await this.advance(Math.max(0, time - this.#now));
  }

  /** Moves time forward by `ms`, firing every due timer synchronously. */
  advanceSync(ms: number): void {
    const until = this.#now + ms;
    while (this.#fireNext(until)) {
      // each fired timer may set more, which the loop picks up
    }
    this.#now = until;
  }

  /** Fires the earliest timer due by `until`, if any; false when none is. */
  #fireNext(until: number): boolean {
    let next: [Timer, Pending] | undefined;
    for (const entry of this.#timers) {
      if (entry[1].at > until) continue;
      if (next === undefined || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq)) next = entry;
    }
    if (next === undefined) return false;
    this.#timers.delete(next[0]);
    this.#now = next[1].at;
    next[1].fn();
    return true;
  }
}

/** Lets promise chains run without moving time (a few macrotask turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
