/**
 * Jittered exponential backoff (client-go `wait.Backoff` style): the n-th consecutive failure waits
 * `min(maxMs, initialMs * factor^n)`, spread by ±`jitter` so restarting replicas do not retry in step.
 */
export interface BackoffOptions {
  /** First delay. Default 500 ms. */
  initialMs?: number;
  /** Ceiling before jitter. Default 30 s. */
  maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
  /** Relative spread, 0..1: a delay d becomes uniform in [d(1-jitter), d(1+jitter)]. Default 0.2. */
  jitter?: number;
  /** Uniform in [0, 1). Default Math.random. */
  random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(opts: BackoffOptions = {}) {
    this.#initialMs = opts.initialMs ?? 500;
    this.#maxMs = opts.maxMs ?? 30_000;
    this.#factor = opts.factor ?? 2;
    this.#jitter = opts.jitter ?? 0.2;
    this.#random = opts.random ?? Math.random;
    if (!(this.#initialMs > 0) || !(this.#maxMs >= this.#initialMs) || !(this.#factor >= 1) || !(this.#jitter >= 0 && this.#jitter <= 1)) {
      throw new RangeError('backoff: need 0 < initialMs <= maxMs, factor >= 1, 0 <= jitter <= 1');
    }
  }

  /** Consecutive failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#failures);
    this.#failures++;
    const spread = 1 + this.#jitter * (2 * this.#random() - 1);
    return Math.round(base * spread);
  }

  /** After a success: the next failure waits `initialMs` again. */
  reset(): void {
    this.#failures = 0;
  }
}
