/**
 * Sliding-window event rates, HAProxy's freq_ctr over a period (`http_req_rate(10s)`).
 *
 * A counter is three numbers kept inside a larger array (an entry's flat state, see layout.ts),
 * so 100k entries cost no object per rate: [currStart, curr, prev] at `at`. `curr` counts the
 * events of the period starting at `currStart`, `prev` those of the period before it. A read
 * weighs `prev` by the part of the previous period still inside the sliding window, exactly as
 * HAProxy's freq_ctr_total + read_freq_ctr_period do, flapping correction included.
 *
 * Two deliberate differences from HAProxy, both about where a period starts:
 * - A fresh counter has currStart 0, and rotation always advances currStart by whole periods, so
 *   windows are aligned to multiples of the period since the epoch. HAProxy starts a window at the
 *   first event and restarts it at `now` after a gap of two periods or more. Aligned windows make
 *   every origin's window coincide, so the sum over origins reads like one counter fed by all.
 * - Remote states are read with the local clock, which may be a little behind the writer's: a
 *   window starting in our future counts `prev` fully instead of more than fully.
 *
 * Times are integer milliseconds (callers floor the clock), counts are integers.
 */

/** Offsets of the three numbers of a counter. */
export const FREQ_START = 0;
export const FREQ_CURR = 1;
export const FREQ_PREV = 2;
export const FREQ_WIDTH = 3;

/** Adds `inc` events at `now`, rotating the window first when `now` is past its period. */
export function freqUpdate(s: number[], at: number, period: number, now: number, inc: number): void {
  const start = s[at + FREQ_START];
  const elapsed = now - start;
  if (elapsed >= period) {
    const periods = Math.floor(elapsed / period);
    // Only the period right before the current one is remembered; after a longer gap it was empty.
    s[at + FREQ_PREV] = periods === 1 ? s[at + FREQ_CURR] : 0;
    s[at + FREQ_CURR] = 0;
    s[at + FREQ_START] = start + periods * period;
  }
  s[at + FREQ_CURR] += inc;
}

/**
 * The rate at `now` multiplied by `period` (HAProxy's freq_ctr_total with the flapping correction):
 * totals of several origins add up exactly, and one division at the end rounds them as one counter.
 */
export function freqTotal(s: readonly number[], at: number, period: number, now: number): number {
  let curr = s[at + FREQ_CURR];
  let past = s[at + FREQ_PREV];
  let remain = s[at + FREQ_START] + period - now;
  if (remain < 0) {
    // Past the current period: what was current is now the previous period, if still in reach.
    remain += period;
    past = remain >= 0 ? curr : 0;
    curr = 0;
  } else if (remain > period) {
    remain = period;
  }
  // A rate between 0 and 1 would alternate between 0 and 1 while waiting for the next event.
  if (curr === 0 && past <= 1) return past * period;
  return past * remain + curr * period;
}

/** A total of freqTotal turned into events per period, rounded down as HAProxy's div64_32. */
export function freqValue(total: number, period: number): number {
  return Math.floor(total / period);
}

/** The rate at `now`: events over the last period, sliding (read_freq_ctr_period). */
export function freqRead(s: readonly number[], at: number, period: number, now: number): number {
  return freqValue(freqTotal(s, at, period, now), period);
}
