/**
 * Debounce with holdoff plus max holdoff (Contour's `handler.go`, Traefik's throttling): a burst of
 * changes becomes one rebuild, `holdoffMs` after the last change but never later than `maxHoldoffMs`
 * after the first pending one, and never before the world is complete (`open()`, i.e. synced).
 */
import { monotonicClock } from '../../clock.ts';
import type { Clock, Timer } from '../../clock.ts';

export interface CoalescerOptions {
  /** Quiet period after the last change. Default 50 ms. */
  holdoffMs?: number;
  /** Longest wait after the first pending change. Default 1000 ms. */
  maxHoldoffMs?: number;
  /** Default `monotonicClock`: only intervals matter here. */
  clock?: Clock;
}

export class Coalescer {
  readonly #run: () => void;
  readonly #holdoffMs: number;
  readonly #maxHoldoffMs: number;
  readonly #clock: Clock;
  #open = false;
  #closed = false;
  /** When the oldest unbuilt change arrived, or null when nothing is pending. */
  #firstAt: number | null = null;
  #timer: Timer | null = null;

  /** `run` rebuilds; changes it causes (or that arrive while it runs) schedule another rebuild. */
  constructor(run: () => void, opts: CoalescerOptions = {}) {
    this.#run = run;
    this.#holdoffMs = opts.holdoffMs ?? 50;
    this.#maxHoldoffMs = opts.maxHoldoffMs ?? 1000;
    this.#clock = opts.clock ?? monotonicClock;
    if (!(this.#holdoffMs >= 0) || !(this.#maxHoldoffMs >= this.#holdoffMs)) {
      throw new RangeError('coalescer: need 0 <= holdoffMs <= maxHoldoffMs');
    }
  }

  /** True while a change waits for a rebuild. */
  get pending(): boolean {
    return this.#firstAt !== null;
  }

  /** Something that matters changed. */
  notify(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    this.#firstAt ??= now;
    if (this.#open) this.#arm(Math.min(now + this.#holdoffMs, this.#firstAt + this.#maxHoldoffMs) - now);
  }

  /**
   * The world is complete (every informer synced): from now on rebuilds may run. The first one runs
   * at once (there is always a first world to build, even an empty one); the wait so far counts.
   */
  open(): void {
    if (this.#open || this.#closed) return;
    this.#open = true;
    this.#firstAt ??= this.#clock.now();
    this.#arm(0);
  }

  /** No more rebuilds. */
  close(): void {
    this.#closed = true;
    this.#disarm();
    this.#firstAt = null;
  }

  #arm(delayMs: number): void {
    this.#disarm();
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, delayMs));
    // A pending holdoff never keeps the process alive.
    this.#timer.unref?.();
  }

  #disarm(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #fire(): void {
    this.#timer = null;
    if (this.#closed || this.#firstAt === null) return;
    this.#firstAt = null;
    this.#run();
  }
}
