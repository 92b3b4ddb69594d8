/**
 * A clock that moves only when told to: test support for everything that takes a `Clock`
 * (fleet reporter and view, status writer, event recorder). `advance(ms)` fires due timers in
 * time order, each with `now()` at its due time.
 */
import type { Clock, Timer } from '../clock.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<Timer, Pending>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const timer: Timer = {};
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

  /** Moves time forward, firing every timer that falls due (also those set by fired timers). */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      let next: [Timer, Pending] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at > until) continue;
        if (next === undefined || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq)) next = entry;
      }
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
      await settle();
    }
    this.#now = until;
    await settle();
  }
}

/** Lets promise chains started by a timer run (a few macrotask turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
