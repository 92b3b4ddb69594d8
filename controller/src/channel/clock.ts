/**
 * Time for the channel, injected: heartbeats, the hello deadline, ACK latency and `updatedAt`
 * take a ChannelClock so tests drive them by hand instead of sleeping.
 */
export interface ChannelClock {
  /** Milliseconds since the epoch (DataplaneStatus.updatedAt is wall-clock time). */
  now(): number;
  setTimeout(fn: () => void, ms: number): ChannelTimer;
  clearTimeout(timer: ChannelTimer): void;
}

export interface ChannelTimer {
  unref?(): unknown;
}

export const systemClock: ChannelClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};
