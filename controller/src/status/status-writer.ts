/**
 * StatusWriter (leader only, ARCHITECTURE data flow step 6): writes desired statuses to the
 * objects' `status` subresource. Re-read, mutate, skip if equal, retry on conflict.
 *
 *   const writer = new StatusWriter({ client: kubeStatusClient(kc), events: recorder });
 *   writer.update(computeStatuses(...));   // any time, leader or not: the full set of desired statuses
 *   writer.start(termSignal);              // when leadership is acquired; stops when the signal aborts
 *
 * - `update(desired)` takes the whole desired world; an object whose desired status equals what
 *   this writer last wrote or read for it is left alone. Objects missing from the set are forgotten.
 * - Each object to write goes through a queue keyed by object: a burst of changes coalesces (the
 *   newest desired status wins; an object is never written twice concurrently) and at most
 *   `concurrency` objects are in flight.
 * - Per object: GET it (404: drop it, it no longer exists), build the status (conditions keep their
 *   lastTransitionTime while their status is unchanged), skip if equal to the live status, else
 *   PUT the status subresource with the resourceVersion read; 409 Conflict: read again and retry,
 *   up to `maxConflictRetries`; then, or on any other failure, retry the object later with
 *   exponential backoff (a newer `update` retries it sooner).
 * - `start(signal)` begins a term: what was written or read before is forgotten, so everything that
 *   differs is (re)written. When the signal aborts, the queue is dropped and nothing more is
 *   written (a PUT already on the wire may still land: the next leader rewrites what differs).
 * - An object that becomes not Accepted (or stays so for another reason) gets a Warning Event with
 *   the condition's reason and message, when `events` is given.
 */
import { describeError, httpStatus } from '../fleet/api-errors.ts';
import { systemClock } from '../clock.ts';
import type { Clock, Timer } from '../clock.ts';
import { formatTime } from '../kube-time.ts';
import type { FleetLogger } from '../fleet/fleet-reporter.ts';
import type { DesiredStatus } from './compute.ts';
import type { EventSink } from './event-recorder.ts';
import type { KubeObject, StatusClient } from './status-client.ts';
import { buildStatus, fingerprint, sameStatus, statusEvents } from './status-merge.ts';

export interface StatusWriterOptions {
  client: StatusClient;
  events?: EventSink;
  clock?: Clock;
  /** Objects written at the same time. Default 4. */
  concurrency?: number;
  /** Fresh reads after a 409 before the object is retried later. Default 5. */
  maxConflictRetries?: number;
  /** First delay before retrying an object that failed, doubled up to 30 s. Default 1000 ms. */
  retryDelayMs?: number;
  logger?: FleetLogger;
}

interface Retry {
  timer: Timer | null;
  delayMs: number;
}

const MAX_RETRY_DELAY_MS = 30_000;

export class StatusWriter {
  readonly #client: StatusClient;
  readonly #events: EventSink | undefined;
  readonly #clock: Clock;
  readonly #concurrency: number;
  readonly #maxConflictRetries: number;
  readonly #retryDelayMs: number;
  readonly #logger: FleetLogger | undefined;
  /** The latest desired status of every object. */
  #desired = new Map<string, DesiredStatus>();
  /** Fingerprint of the status last written or read per object (this term). */
  readonly #known = new Map<string, string>();
  readonly #queue = new Set<string>();
  readonly #inFlight = new Set<string>();
  readonly #retries = new Map<string, Retry>();
  #term: AbortSignal | null = null;
  #idleWaiters: (() => void)[] = [];
  /** Counters, for tests and metrics. */
  readonly stats = { reads: 0, writes: 0, skipped: 0, conflicts: 0, gone: 0, failures: 0 };

  constructor(options: StatusWriterOptions) {
    this.#client = options.client;
    this.#events = options.events;
    this.#clock = options.clock ?? systemClock;
    this.#concurrency = options.concurrency ?? 4;
    this.#maxConflictRetries = options.maxConflictRetries ?? 5;
    this.#retryDelayMs = options.retryDelayMs ?? 1000;
    this.#logger = options.logger;
    if (!(this.#concurrency >= 1)) throw new RangeError(`concurrency must be >= 1, got ${this.#concurrency}`);
  }

  get active(): boolean {
    return this.#term !== null;
  }

  /** Objects waiting to be written or being written. */
  get pending(): number {
    return this.#queue.size + this.#inFlight.size + [...this.#retries.values()].filter((r) => r.timer !== null).length;
  }

  /** The full set of desired statuses (replaces the previous set). */
  update(desired: readonly DesiredStatus[]): void {
    const next = new Map<string, DesiredStatus>();
    for (const d of desired) next.set(keyOf(d), d);
    this.#desired = next;
    for (const key of [...this.#known.keys()]) if (!next.has(key)) this.#known.delete(key);
    for (const key of [...this.#queue]) if (!next.has(key)) this.#queue.delete(key);
    for (const [key, retry] of [...this.#retries]) {
      if (next.has(key)) continue;
      if (retry.timer) this.#clock.clearTimeout(retry.timer);
      this.#retries.delete(key);
    }
    if (this.#term === null) return;
    for (const [key, d] of next) if (this.#known.get(key) !== fingerprint(d)) this.#enqueue(key);
    this.#pump();
    this.#checkIdle();
  }

  /** Writes from now until `signal` aborts (the leadership term), starting with everything that differs. */
  start(signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#stopTerm();
    this.#term = signal;
    signal.addEventListener('abort', () => this.#term === signal && this.#stopTerm(), { once: true });
    for (const key of this.#desired.keys()) this.#enqueue(key);
    this.#pump();
    this.#checkIdle();
  }

  /** Resolves when nothing is queued or in flight (retries waiting on their timer do not count). */
  idle(): Promise<void> {
    if (this.#queue.size === 0 && this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #stopTerm(): void {
    this.#term = null;
    this.#queue.clear();
    this.#known.clear();
    for (const retry of this.#retries.values()) if (retry.timer) this.#clock.clearTimeout(retry.timer);
    this.#retries.clear();
    this.#checkIdle();
  }

  #enqueue(key: string): void {
    const retry = this.#retries.get(key);
    if (retry?.timer) {
      // A newer desired status is worth trying now; the backoff continues if it fails again.
      this.#clock.clearTimeout(retry.timer);
      retry.timer = null;
    }
    this.#queue.add(key);
  }

  #pump(): void {
    if (this.#term === null) return;
    for (const key of [...this.#queue]) {
      if (this.#inFlight.size >= this.#concurrency) return;
      if (this.#inFlight.has(key)) continue; // after the write in flight
      this.#queue.delete(key);
      this.#inFlight.add(key);
      const term = this.#term;
      void this.#process(key, term).finally(() => {
        this.#inFlight.delete(key);
        this.#pump();
        this.#checkIdle();
      });
    }
  }

  #checkIdle(): void {
    if (this.#queue.size > 0 && this.#term !== null) return;
    if (this.#inFlight.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  async #process(key: string, term: AbortSignal): Promise<void> {
    const desired = this.#desired.get(key);
    if (desired === undefined || term.aborted) return;
    const ref = { kind: desired.kind, namespace: desired.namespace, name: desired.name };
    try {
      for (let attempt = 0; ; attempt++) {
        let live: KubeObject;
        try {
          this.stats.reads++;
          live = await this.#client.get(ref);
        } catch (err) {
          if (httpStatus(err) === 404) return this.#gone(key);
          throw err;
        }
        if (term.aborted) return;
        const status = buildStatus(desired, live.status, formatTime(this.#clock.now()));
        if (sameStatus(status, live.status)) {
          this.stats.skipped++;
          return this.#done(key, desired, term);
        }
        try {
          await this.#client.replaceStatus(ref, { ...live, status });
        } catch (err) {
          const code = httpStatus(err);
          if (code === 404) return this.#gone(key);
          if (code === 409) {
            this.stats.conflicts++;
            if (attempt < this.#maxConflictRetries && !term.aborted) continue;
          }
          throw err;
        }
        this.stats.writes++;
        if (this.#events !== undefined && !term.aborted) {
          const uid = live.metadata?.uid;
          for (const e of statusEvents(live.status, status)) this.#events.record({ ...ref, ...(uid ? { uid } : {}) }, e.type, e.reason, e.message);
        }
        return this.#done(key, desired, term);
      }
    } catch (err) {
      if (term.aborted) return;
      this.stats.failures++;
      this.#scheduleRetry(key, err);
    }
  }

  #done(key: string, written: DesiredStatus, term: AbortSignal): void {
    if (term.aborted) return;
    this.#known.set(key, fingerprint(written));
    const retry = this.#retries.get(key);
    if (retry?.timer) this.#clock.clearTimeout(retry.timer);
    this.#retries.delete(key);
    // A newer desired status arrived while this one was on the wire.
    const latest = this.#desired.get(key);
    if (latest !== undefined && latest !== written && fingerprint(latest) !== this.#known.get(key)) this.#queue.add(key);
  }

  #gone(key: string): void {
    this.stats.gone++;
    this.#known.delete(key);
    const retry = this.#retries.get(key);
    if (retry?.timer) this.#clock.clearTimeout(retry.timer);
    this.#retries.delete(key);
  }

  #scheduleRetry(key: string, err: unknown): void {
    const retry = this.#retries.get(key) ?? { timer: null, delayMs: this.#retryDelayMs };
    this.#retries.set(key, retry);
    const delay = retry.delayMs;
    retry.delayMs = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    this.#logger?.warn({ object: key, err: describeError(err), retryInMs: delay }, 'status: write failed');
    if (retry.timer) this.#clock.clearTimeout(retry.timer);
    retry.timer = this.#clock.setTimeout(() => {
      retry.timer = null;
      if (this.#term === null || !this.#desired.has(key)) return;
      this.#queue.add(key);
      this.#pump();
    }, delay);
    retry.timer.unref?.();
  }
}

function keyOf(d: { kind: string; namespace: string; name: string }): string {
  return `${d.kind}/${d.namespace}/${d.name}`;
}
