/**
 * Time for the elector, injected so tests drive it with a fake clock instead of sleeping.
 * `now()` is milliseconds since the epoch: it stamps acquireTime/renewTime and measures expiry.
 */
export interface ElectionClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): ElectionTimer;
  clearTimeout(timer: ElectionTimer): void;
}

export interface ElectionTimer {
  unref?(): unknown;
}

/**
 * The process clock. It is monotonic (`performance.timeOrigin + performance.now()`), so a wall
 * clock step (NTP) never shortens or stretches a lease, while the values stay epoch milliseconds.
 */
export const systemElectionClock: ElectionClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

/** Resolves true after `ms`, or false as soon as `signal` aborts (at once if it already has). */
export function sleep(clock: ElectionClock, ms: number, signal: AbortSignal): Promise<boolean> {
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

/** An AbortSignal that aborts after `ms` on `clock` or when `parent` does; `dispose()` clears the timer. */
export function timeoutSignal(clock: ElectionClock, ms: number, parent: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const timer = clock.setTimeout(() => controller.abort(new Error(`timed out after ${ms} ms`)), Math.max(0, ms));
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clock.clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}
