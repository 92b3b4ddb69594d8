/**
 * Leader election over a Lease: a port of client-go's `tools/leaderelection` (`LeaderElector`,
 * `tryAcquireOrRenew`, `release`). Every controller replica runs one; only the leader writes
 * status and events (ARCHITECTURE.md principle 12). Work done for the leader is scoped to the
 * AbortSignal of its term, which aborts the moment leadership is lost or given up.
 *
 * As in client-go:
 * - timings are validated: leaseDuration > renewDeadline > retryPeriod × JitterFactor (1.2), all > 0;
 * - expiry is judged on the local clock, from when this process last saw the record change
 *   (`observedTime`), never from the remote `renewTime`, so clock skew between nodes does not matter;
 * - acquiring retries every retryPeriod plus up to 1.2 × retryPeriod of jitter; renewing retries
 *   every retryPeriod; a leader first tries an optimistic update of the record it last wrote and
 *   falls back to get-then-update;
 * - `leaseTransitions` grows by one whenever the holder changes; `acquireTime` is kept on renewal;
 * - `releaseOnCancel` writes an empty holderIdentity with leaseDurationSeconds 1, so another
 *   candidate takes over at its next retry instead of waiting out the lease.
 *
 * Where it deliberately differs (each makes a second leader less likely, none makes it more):
 * - The renew deadline runs from when the last successful renewal was *sent*, not from the start of
 *   each renew round, so a leader steps down no later than renewDeadline after a write the others
 *   can have seen; requests still in flight at the deadline are aborted.
 * - A leader that reads the record and finds another holder steps down at once instead of
 *   retrying until its deadline.
 * - leaseDurationSeconds is rounded up to whole seconds (client-go truncates, which would let
 *   others expire a 1.5 s lease after 1 s).
 * - After losing a term, `run()` goes back to being a candidate rather than returning; it returns
 *   only when its signal aborts. `onStoppedLeading` is called once per term, after the work the
 *   term started (a promise returned by `onStartedLeading`) has settled.
 */
import type { Logger } from 'pino';
import { monotonicClock, sleep, type Clock } from '../clock.ts';
import { formatMicroTime } from '../kube-time.ts';
import { LeaseConflictError, sameRecord, type LeaderRecord, type LeaseLock, type ObservedLease } from './lease-lock.ts';

/** client-go's `JitterFactor`: the acquire loop waits retryPeriod × (1 + random × 1.2). */
export const JITTER_FACTOR = 1.2;

export type ElectionLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface LeaderElectorOptions {
  lock: LeaseLock;
  /** This candidate's name in `holderIdentity` (usually the pod name). Must not be empty. */
  identity: string;
  /** How long others wait after last seeing the record change before they take over. Default 15000. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leadership. Default 10000. */
  renewDeadlineMs?: number;
  /** The wait between attempts. Default 2000. */
  retryPeriodMs?: number;
  /**
   * `now()` stamps acquireTime/renewTime and measures expiry. Default `monotonicClock`, so a wall
   * clock step (NTP) never shortens or stretches a lease, while the values stay epoch milliseconds.
   */
  clock?: Clock;
  /** Jitter source in [0, 1); injectable for tests. Default Math.random. */
  random?: () => number;
  /** On cancellation, give the lease up so another replica takes over at once. Default false. */
  releaseOnCancel?: boolean;
  /**
   * Called when this candidate becomes leader. `signal` aborts when the term ends. If it returns a
   * promise, the elector waits for it to settle before `onStoppedLeading` and before releasing.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once per term, after the term ended and its work settled. */
  onStoppedLeading?: () => void;
  /** Called whenever the observed leader changes to a new, non-empty identity (ourselves included). */
  onNewLeader?: (identity: string) => void;
  logger?: ElectionLogger;
}

export class LeaderElectionConfigError extends Error {
  readonly code = 'SWY_ERR_LEADER_ELECTION_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'LeaderElectionConfigError';
  }
}

type TermEnd = 'cancelled' | 'lost';

const noopLogger: ElectionLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly #lock: LeaseLock;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #releaseOnCancel: boolean;
  readonly #onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  readonly #onStoppedLeading: () => void;
  readonly #onNewLeader: (identity: string) => void;
  readonly #log: ElectionLogger;

  /** The record as last read or written, and when (local clock) it last changed: client-go's observedTime. */
  #observed: LeaderRecord | null = null;
  #observedTime = 0;
  #observedVersion: string | null = null;
  /** When the last successful acquire or renew was sent: the renew deadline counts from here. */
  #renewedAt = 0;
  #reportedLeader = '';
  #term: AbortController | null = null;
  #running = false;

  constructor(options: LeaderElectorOptions) {
    const leaseDurationMs = options.leaseDurationMs ?? 15_000;
    const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    const retryPeriodMs = options.retryPeriodMs ?? 2_000;
    validateTimings(leaseDurationMs, renewDeadlineMs, retryPeriodMs);
    if (!options.lock) throw new LeaderElectionConfigError('lock must be given');
    if (typeof options.identity !== 'string' || options.identity === '') {
      throw new LeaderElectionConfigError('identity must be a non-empty string');
    }
    if (typeof options.onStartedLeading !== 'function') {
      throw new LeaderElectionConfigError('onStartedLeading must be a function');
    }
    this.identity = options.identity;
    this.leaseDurationMs = leaseDurationMs;
    this.renewDeadlineMs = renewDeadlineMs;
    this.retryPeriodMs = retryPeriodMs;
    this.#lock = options.lock;
    this.#clock = options.clock ?? monotonicClock;
    this.#random = options.random ?? Math.random;
    this.#releaseOnCancel = options.releaseOnCancel ?? false;
    this.#onStartedLeading = options.onStartedLeading;
    this.#onStoppedLeading = options.onStoppedLeading ?? (() => {});
    this.#onNewLeader = options.onNewLeader ?? (() => {});
    this.#log = options.logger ?? noopLogger;
  }

  /** True during a term: from onStartedLeading until the term's signal aborts. */
  get isLeader(): boolean {
    return this.#term !== null;
  }

  /** The holder this process last observed in the lease, or null if none (or not yet read). */
  get leader(): string | null {
    const holder = this.#observed?.holderIdentity ?? '';
    return holder === '' ? null : holder;
  }

  /** The lease duration written to the record: whole seconds, rounded up. */
  get leaseDurationSeconds(): number {
    return Math.ceil(this.leaseDurationMs / 1000);
  }

  /**
   * Campaigns until `signal` aborts: acquire, lead until the lease is lost, campaign again. Resolves
   * after the last term's work settled and, with releaseOnCancel, the lease was released.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`LeaderElector ${this.identity}: run() is already running`);
    this.#running = true;
    try {
      this.#log.info({ lease: this.#lock.description, identity: this.identity }, 'attempting to acquire leader lease');
      while (!signal.aborted) {
        if (!(await this.#acquire(signal))) break;
        await this.#lead(signal);
      }
      if (this.#releaseOnCancel) await this.#release();
    } finally {
      this.#running = false;
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const acquired = await this.#attempt(signal, this.renewDeadlineMs);
      this.#reportTransition();
      if (acquired && !signal.aborted) {
        this.#log.info({ lease: this.#lock.description, identity: this.identity }, 'acquired leader lease');
        return true;
      }
      const wait = this.retryPeriodMs * (1 + this.#random() * JITTER_FACTOR);
      if (!(await sleep(this.#clock, wait, signal))) return false;
    }
  }

  async #lead(signal: AbortSignal): Promise<void> {
    const term = new AbortController();
    this.#term = term;
    let work: Promise<void>;
    try {
      work = Promise.resolve(this.#onStartedLeading(term.signal));
    } catch (err) {
      work = Promise.reject(err);
    }
    work = work.catch((err: unknown) => this.#log.error({ err }, 'onStartedLeading failed'));

    const end = await this.#renew(signal);
    if (end === 'lost') this.#log.warn({ lease: this.#lock.description, identity: this.identity }, 'lost leader lease');
    this.#term = null;
    term.abort(new Error(end === 'lost' ? 'leadership lost' : 'leader election cancelled'));
    await work;
    this.#call('onStoppedLeading', () => this.#onStoppedLeading());
  }

  /** Renews every retryPeriod until cancelled or until no renewal succeeded within renewDeadline. */
  async #renew(signal: AbortSignal): Promise<TermEnd> {
    for (;;) {
      if (!(await sleep(this.#clock, this.retryPeriodMs, signal))) return 'cancelled';
      const deadline = this.#renewedAt + this.renewDeadlineMs;
      for (;;) {
        const remaining = deadline - this.#clock.now();
        if (remaining <= 0) return 'lost';
        const renewed = await this.#attempt(signal, remaining);
        this.#reportTransition();
        if (signal.aborted) return 'cancelled';
        if (renewed) break;
        if (this.leader !== null && this.leader !== this.identity) return 'lost';
        const wait = Math.min(this.retryPeriodMs, deadline - this.#clock.now());
        if (wait <= 0) return 'lost';
        if (!(await sleep(this.#clock, wait, signal))) return 'cancelled';
      }
    }
  }

  /** One tryAcquireOrRenew with its requests aborted after `timeoutMs` or when `signal` aborts. */
  async #attempt(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    const timeout = timeoutSignal(this.#clock, timeoutMs, signal);
    try {
      return await this.#tryAcquireOrRenew(timeout.signal);
    } finally {
      timeout.dispose();
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const start = this.#clock.now();
    const stamp = formatMicroTime(start);
    const desired: LeaderRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: 0,
    };
    const lease = this.#lock.description;

    // 1. Fast path: the leader updates optimistically, assuming the record it last wrote is current.
    if (this.#observed && this.#observedIsUs() && this.#leaseValid(start) && this.#observedVersion !== null) {
      desired.acquireTime = this.#observed.acquireTime;
      desired.leaseTransitions = this.#observed.leaseTransitions;
      try {
        const version = await raceAbort(this.#lock.update(desired, this.#observedVersion, signal), signal);
        this.#setObserved(desired, version);
        this.#renewedAt = start;
        return true;
      } catch (err) {
        if (signal.aborted) return false;
        this.#log.debug({ err, lease }, 'optimistic lease update failed, falling back to get');
      }
    }

    // 2. Read the record, or create it.
    let current: ObservedLease | null;
    try {
      current = await raceAbort(this.#lock.get(signal), signal);
    } catch (err) {
      if (!signal.aborted) this.#log.warn({ err, lease }, 'error retrieving leader lease');
      return false;
    }
    if (current === null) {
      try {
        const version = await raceAbort(this.#lock.create(desired, signal), signal);
        this.#setObserved(desired, version);
        this.#renewedAt = start;
        return true;
      } catch (err) {
        this.#logWriteError(err, signal, 'error creating leader lease');
        return false;
      }
    }

    // 3. Record obtained: note when it changed, and back off while another holder's lease is valid.
    if (sameRecord(current.record, this.#observed)) this.#observedVersion = current.resourceVersion;
    else this.#setObserved(current.record, current.resourceVersion);
    const now = this.#clock.now();
    if (current.record.holderIdentity !== '' && this.#leaseValid(now) && !this.#observedIsUs()) {
      this.#log.debug({ lease, holder: current.record.holderIdentity }, 'lease is held by another candidate and has not expired');
      return false;
    }

    // 4. Take it over (a new transition) or renew it (keep acquireTime and the count).
    if (this.#observedIsUs()) {
      desired.acquireTime = current.record.acquireTime;
      desired.leaseTransitions = current.record.leaseTransitions;
    } else {
      desired.leaseTransitions = current.record.leaseTransitions + 1;
    }
    try {
      const version = await raceAbort(this.#lock.update(desired, current.resourceVersion, signal), signal);
      this.#setObserved(desired, version);
      this.#renewedAt = start;
      return true;
    } catch (err) {
      this.#logWriteError(err, signal, 'error updating leader lease');
      return false;
    }
  }

  /** client-go's release(): only if the lease (as last observed) is ours. */
  async #release(): Promise<void> {
    if (!this.#observed || !this.#observedIsUs() || this.#observedVersion === null) return;
    const stamp = formatMicroTime(this.#clock.now());
    const released: LeaderRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: this.#observed.leaseTransitions,
    };
    const timeout = timeoutSignal(this.#clock, this.renewDeadlineMs, new AbortController().signal);
    try {
      const version = await raceAbort(this.#lock.update(released, this.#observedVersion, timeout.signal), timeout.signal);
      this.#setObserved(released, version);
      this.#log.info({ lease: this.#lock.description, identity: this.identity }, 'released leader lease');
    } catch (err) {
      this.#log.warn({ err, lease: this.#lock.description }, 'failed to release leader lease');
    } finally {
      timeout.dispose();
    }
    this.#reportTransition();
  }

  #observedIsUs(): boolean {
    return this.#observed?.holderIdentity === this.identity;
  }

  #leaseValid(now: number): boolean {
    return this.#observed !== null && this.#observedTime + this.#observed.leaseDurationSeconds * 1000 > now;
  }

  #setObserved(record: LeaderRecord, version: string): void {
    this.#observed = { ...record };
    this.#observedVersion = version;
    this.#observedTime = this.#clock.now();
  }

  #reportTransition(): void {
    const holder = this.#observed?.holderIdentity ?? '';
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder === '') return;
    this.#log.info({ lease: this.#lock.description, leader: holder }, 'new leader observed');
    this.#call('onNewLeader', () => this.#onNewLeader(holder));
  }

  #logWriteError(err: unknown, signal: AbortSignal, message: string): void {
    if (signal.aborted) return;
    if (err instanceof LeaseConflictError) this.#log.debug({ err, lease: this.#lock.description }, `${message}: conflict`);
    else this.#log.warn({ err, lease: this.#lock.description }, message);
  }

  #call(name: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err }, `${name} failed`);
    }
  }
}

/** client-go's NewLeaderElector checks, with messages that name the option and its value. */
export function validateTimings(leaseDurationMs: number, renewDeadlineMs: number, retryPeriodMs: number): void {
  for (const [name, value] of [
    ['leaseDurationMs', leaseDurationMs],
    ['renewDeadlineMs', renewDeadlineMs],
    ['retryPeriodMs', retryPeriodMs],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new LeaderElectionConfigError(`${name} must be a number greater than zero (got ${String(value)})`);
    }
  }
  if (leaseDurationMs <= renewDeadlineMs) {
    throw new LeaderElectionConfigError(
      `leaseDurationMs (${leaseDurationMs}) must be greater than renewDeadlineMs (${renewDeadlineMs})`,
    );
  }
  const jittered = retryPeriodMs * JITTER_FACTOR;
  if (renewDeadlineMs <= jittered) {
    throw new LeaderElectionConfigError(
      `renewDeadlineMs (${renewDeadlineMs}) must be greater than retryPeriodMs × ${JITTER_FACTOR} (${retryPeriodMs} × ${JITTER_FACTOR} = ${jittered})`,
    );
  }
}

/** An AbortSignal that aborts after `ms` on `clock` or when `parent` does; `dispose()` clears the timer. */
function timeoutSignal(clock: Clock, ms: number, parent: AbortSignal): { signal: AbortSignal; dispose(): void } {
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

/** Settles with `promise`, or rejects as soon as `signal` aborts, whether or not the lock honours it. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
