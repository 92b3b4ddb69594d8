/**
 * Replication lag, bounded: the most recent `capacity` samples in a ring, so the quantiles describe
 * recent behaviour in constant memory however long the process runs. `count` is every sample ever.
 */
export interface LagSummary {
  /** Samples ever recorded. */
  count: number;
  /** Over the samples in the window; null before the first. */
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export class LagWindow {
  readonly #samples: Float64Array;
  #next = 0;
  #filled = 0;
  #count = 0;

  constructor(capacity = 4096) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
    this.#samples = new Float64Array(capacity);
  }

  record(ms: number): void {
    // Clocks of two hosts disagree a little: a negative lag is a small skew, counted as 0.
    this.#samples[this.#next] = Math.max(0, ms);
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#filled = Math.min(this.#filled + 1, this.#samples.length);
    this.#count++;
  }

  summary(): LagSummary {
    if (this.#filled === 0) return { count: this.#count, p50: null, p99: null, max: null };
    const sorted = this.#samples.slice(0, this.#filled).sort();
    return { count: this.#count, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1]! };
  }
}

/** Nearest-rank quantile of sorted samples. */
function quantile(sorted: Float64Array, q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}
