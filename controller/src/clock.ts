/**
 * Time for the whole controller, injected: the channel (heartbeats, the hello deadline, ACK latency,
 * `updatedAt`), the fleet reporter and view, the status pipeline, writer and event recorder, the
 * leader elector and the Kubernetes provider (holdoff, informer backoff) take a `Clock`, so tests
 * drive them by hand (`testing/manual-clock.ts`) instead of sleeping.
 *
 * `now()` is always milliseconds since the epoch. Two system clocks give it, for two needs:
 * - `systemClock` is the wall clock (`Date.now()`). It is the default wherever a time leaves this
 *   process or is compared with one from elsewhere: `DataplaneStatus.updatedAt` (the fleet view
 *   keeps the most recent of a node reported twice), fleet-report `renewTime` (a view judges a
 *   report it sees for the first time from it), status `lastTransitionTime`, Event timestamps.
 * - `monotonicClock` is `performance.timeOrigin + performance.now()`: epoch milliseconds at process
 *   start plus a monotonic count, so a wall clock step (NTP) never shortens or stretches an
 *   interval. It drifts from the wall clock by every step after start (and does not count host
 *   suspend), so it is only for intervals measured inside this process: the leader elector (lease
 *   expiry from when it last saw the record change) and the provider's holdoff and backoff.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
}

export interface Timer {
  unref?(): unknown;
}

const timers: Pick<Clock, 'setTimeout' | 'clearTimeout'> = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

export const systemClock: Clock = { now: () => Date.now(), ...timers };

export const monotonicClock: Clock = { now: () => performance.timeOrigin + performance.now(), ...timers };

/** Resolves true after `ms` on `clock`, or false as soon as `signal` aborts (at once if it already has). */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
