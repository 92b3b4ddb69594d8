/**
 * Time, injected: the coalescer and the informer backoff take a `Timers` so tests drive them with
 * `ManualTimers` instead of waiting on the wall clock.
 */

/** Cancels a scheduled callback; calling it after the callback ran, or twice, does nothing. */
export type Cancel = () => void;

export interface Timers {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  schedule(fn: () => void, ms: number): Cancel;
}

/** The process clock. Timers are unref'd: a pending holdoff or backoff never keeps the process alive. */
export const realTimers: Timers = {
  now: () => performance.now(),
  schedule(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return () => clearTimeout(handle);
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A deterministic clock for tests: nothing runs until `advance()`, which fires due callbacks in
 * time order (ties in scheduling order), including callbacks they schedule within the window.
 */
export class ManualTimers implements Timers {
  #now = 0;
  #seq = 0;
  #pending: Pending[] = [];

  now(): number {
    return this.#now;
  }

  schedule(fn: () => void, ms: number): Cancel {
    const entry: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#pending.push(entry);
    return () => {
      this.#pending = this.#pending.filter((p) => p !== entry);
    };
  }

  /** Callbacks waiting to run. */
  get size(): number {
    return this.#pending.length;
  }

  /** When the next callback is due, or null. */
  nextAt(): number | null {
    return this.#pending.reduce<number | null>((min, p) => (min === null || p.at < min ? p.at : min), null);
  }

  /** Moves the clock forward by `ms`, running every callback that falls due on the way. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = this.#pending.filter((p) => p.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#pending = this.#pending.filter((p) => p !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = until;
  }
}
