/**
 * Test support for the elector (used only by *.test.ts). The clock driven by hand is
 * `testing/manual-clock.ts`, whose `advance` lets the promise chains each timer starts settle, so
 * tests step election time without sleeping.
 */

/** 2026-11-21T10:00:00Z, where the elector tests start their ManualClock, so stamps read naturally. */
export const FAKE_EPOCH = Date.UTC(2026, 10, 21, 10, 0, 0);

/** A promise with its resolve function, for holding lock calls in tests. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
