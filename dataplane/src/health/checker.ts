/**
 * Active health checking of one server: runs its probe on HAProxy's schedule, feeds the
 * rise/fall counter and emits transitions. It knows nothing of balancing or proxying; whoever
 * owns the server state subscribes to `onTransition` (ARCHITECTURE principle 8).
 *
 * Schedule (HAProxy `process_chk_conn()` / `srv_getinter()`):
 * - the first check runs after a random delay in [0, interval) so that servers started together
 *   do not check in lockstep;
 * - each next check is planned when the previous one completes, after
 *   `intervalMs` when fully UP (health = rise + fall - 1), `downIntervalMs` when fully DOWN
 *   (health = 0), and `fastIntervalMs` in between (going up, going down, or just started UP);
 * - there is never more than one probe of a server in flight;
 * - `check.port`, when set, replaces the server's port for the probe.
 * Probes are bounded by `check.timeoutMs` themselves (see probes/connection.ts).
 */
import type { ir } from '@switchyard/api';
import type { Clock, TimerHandle } from '../clock.ts';
import { checkResult } from './result.ts';
import type { CheckResult } from './result.ts';
import { RiseFall } from './state.ts';
import type { ProbeTarget } from './probes/connection.ts';
import { tcpProbe } from './probes/tcp.ts';
import { httpProbe } from './probes/http.ts';
import { redisProbe } from './probes/redis.ts';
import { mysqlProbe } from './probes/mysql.ts';
import { pgsqlProbe } from './probes/pgsql.ts';

export type { ProbeTarget } from './probes/connection.ts';

/** Runs one probe; must resolve (not reject) within about timeoutMs. */
export type ProbeRunner = (target: ProbeTarget, probe: ir.Probe, timeoutMs: number) => Promise<CheckResult>;

/** The real probes, by kind. */
export const runProbe: ProbeRunner = (target, probe, timeoutMs) => {
  switch (probe.kind) {
    case 'tcp':
      return tcpProbe(target, probe, timeoutMs);
    case 'http':
      return httpProbe(target, probe, timeoutMs);
    case 'redis':
      return redisProbe(target, probe, timeoutMs);
    case 'mysql':
      return mysqlProbe(target, probe, timeoutMs);
    case 'pgsql':
      return pgsqlProbe(target, probe, timeoutMs);
  }
};

export interface HealthCheckerOptions {
  /** The server's address and traffic port; `check.port` overrides the port for probing. */
  target: ProbeTarget;
  check: ir.HealthCheck;
  clock: Clock;
  /** Called once per UP/DOWN change, with the result that caused it. Must not throw. */
  onTransition: (up: boolean, result: CheckResult) => void;
  /** Every completed check (for last-check status, counters, logs). Must not throw. */
  onResult?: (result: CheckResult) => void;
  /** Default true: UP, falling at the first failure (HAProxy). False: DOWN, needs `rise` successes. */
  initiallyUp?: boolean;
  /** Injected probe runner (tests); defaults to the real probes. */
  runProbe?: ProbeRunner;
  /** Injected random in [0, 1) for the first-check spread; defaults to Math.random. */
  random?: () => number;
}

export class HealthChecker {
  /** Where probes go: the server's host with `check.port` applied. */
  readonly target: ProbeTarget;
  readonly check: ir.HealthCheck;
  readonly #state: RiseFall;
  readonly #clock: Clock;
  readonly #runProbe: ProbeRunner;
  readonly #random: () => number;
  readonly #onTransition: (up: boolean, result: CheckResult) => void;
  readonly #onResult: ((result: CheckResult) => void) | null;
  #running = false;
  /** Bumped by start() and stop(): outcomes and timers of an older generation are ignored. */
  #generation = 0;
  #timer: TimerHandle | null = null;
  #inFlight: Promise<void> | null = null;
  #lastResult: CheckResult | null = null;

  constructor(options: HealthCheckerOptions) {
    this.check = options.check;
    this.target = { host: options.target.host, port: options.check.port ?? options.target.port };
    this.#state = new RiseFall({ rise: options.check.rise, fall: options.check.fall, initiallyUp: options.initiallyUp ?? true });
    this.#clock = options.clock;
    this.#runProbe = options.runProbe ?? runProbe;
    this.#random = options.random ?? Math.random;
    this.#onTransition = options.onTransition;
    this.#onResult = options.onResult ?? null;
  }

  get up(): boolean {
    return this.#state.up;
  }

  get health(): number {
    return this.#state.health;
  }

  /** rise + fall - 1. */
  get maxHealth(): number {
    return this.#state.max;
  }

  /** Result of the last completed check, null before the first one. */
  get lastResult(): CheckResult | null {
    return this.#lastResult;
  }

  get running(): boolean {
    return this.#running;
  }

  /** HAProxy's "2/3 UP" progress notation. */
  get status(): string {
    return this.#state.describe();
  }

  /** Delay before the next check given the current health (HAProxy `srv_getinter()`). */
  get currentIntervalMs(): number {
    const { intervalMs, fastIntervalMs, downIntervalMs } = this.check;
    const inter = Math.max(1, intervalMs);
    if (this.#state.fullyUp) return inter;
    if (this.#state.fullyDown) return downIntervalMs > 0 ? downIntervalMs : inter;
    return fastIntervalMs > 0 ? fastIntervalMs : inter;
  }

  /** Starts checking; the first probe runs after a random delay in [0, interval). Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const gen = ++this.#generation;
    let r = this.#random();
    if (!(r >= 0 && r < 1)) r = 0;
    this.#schedule(gen, Math.floor(r * Math.max(1, this.check.intervalMs)));
  }

  /** Stops checking: cancels the timer; the outcome of a probe in flight is ignored. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#generation++;
    if (this.#timer !== null) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #schedule(gen: number, delayMs: number): void {
    const timer = this.#clock.setTimeout(() => {
      if (this.#timer === timer) this.#timer = null;
      this.#fire(gen);
    }, delayMs);
    timer.unref?.();
    this.#timer = timer;
  }

  #fire(gen: number): void {
    if (gen !== this.#generation) return;
    const previous = this.#inFlight;
    if (previous) {
      // A probe from before a stop()/start() is still out: never two probes of one server.
      void previous.then(() => this.#fire(gen));
      return;
    }
    this.#inFlight = this.#probe(gen);
  }

  async #probe(gen: number): Promise<void> {
    const started = this.#clock.now();
    let result: CheckResult;
    try {
      // Always asynchronous, even if an injected runner throws synchronously.
      result = await Promise.resolve().then(() => this.#runProbe(this.target, this.check.probe, this.check.timeoutMs));
    } catch (err) {
      const info = err instanceof Error ? err.message : String(err);
      result = checkResult('SOCKERR', { info, durationMs: this.#clock.now() - started });
    }
    this.#inFlight = null;
    if (gen !== this.#generation) return;

    this.#lastResult = result;
    const transition = this.#state.record(result.ok);
    this.#schedule(gen, this.currentIntervalMs);
    this.#emit(() => this.#onResult?.(result));
    if (transition !== null) this.#emit(() => this.#onTransition(transition === 'up', result));
  }

  /** Listener errors must not break the schedule; they surface as uncaught exceptions. */
  #emit(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
