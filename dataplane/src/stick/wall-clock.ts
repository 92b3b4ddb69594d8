/**
 * The clock stick tables need in production: epoch milliseconds, the same in every thread and, NTP
 * permitting, every pod. `systemClock` (clock.ts) is `performance.now()`, counted from the start of
 * each process and of each worker thread: two threads of one process disagree by their start-up
 * gap, so rate windows and write times of states from another thread would be read wrongly.
 * timeOrigin + now() is the wall clock at process start advanced by the monotonic clock: a wall
 * clock that never steps back within a process.
 */
import { systemClock, type Clock } from '../clock.ts';

// Read once: the getter is far slower than now(), which runs on every tracked request.
const origin = performance.timeOrigin;

export const wallClock: Clock = {
  now: () => origin + performance.now(),
  setTimeout: systemClock.setTimeout,
  clearTimeout: systemClock.clearTimeout,
};
