/**
 * Test support for the elector (used only by *.test.ts): a fake clock driven by hand. `advance`
 * fires due timers in order and lets the promise chains they start settle before moving on, so
 * tests step election time without sleeping.
 */
import type { ElectionClock, ElectionTimer } from './clock.ts';

interface FakeTimer extends ElectionTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** 2026-11-21T10:00:00Z, so stamps in tests read naturally. */
export const FAKE_EPOCH = Date.UTC(2026, 10, 21, 10, 0, 0);

export class FakeClock implements ElectionClock {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  constructor(start = FAKE_EPOCH) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): ElectionTimer {
    const timer: FakeTimer = { id: ++this.#seq, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(timer: ElectionTimer): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
  }

  /** The same timeline seen from a node whose wall clock is `offsetMs` ahead (or behind). */
  skewed(offsetMs: number): ElectionClock {
    return {
      now: () => this.#now + offsetMs,
      setTimeout: (fn, ms) => this.setTimeout(fn, ms),
      clearTimeout: (timer) => this.clearTimeout(timer),
    };
  }

  /** Lets pending promise chains settle without moving time. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves time forward by `ms`, firing due timers in order and settling after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await this.settle();
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.fn();
      await this.settle();
    }
    this.#now = target;
    await this.settle();
  }

  /** Advances to an absolute time. */
  async advanceTo(time: number): Promise<void> {
    await this.advance(Math.max(0, time - this.#now));
  }
}

/** A promise with its resolve function, for holding lock calls in tests. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
