/**
 * The data plane: applies snapshots atomically and owns the listening sockets.
 *
 * `apply` builds the whole runtime aside, opens any new listening sockets, and only then swaps:
 * servers move to their new clusters, listeners that stay keep their sockets and pick up the
 * new runtime reference, removed listeners stop accepting and drain. If anything fails before
 * the swap, the previous runtime keeps serving untouched and the error is returned (a NACK).
 *
 * With `workers` > 1 the listening sockets and the proxying live in worker threads and this
 * object is their main thread (workers/coordinator.ts): it keeps the authoritative runtime and the
 * health checks, and `apply` prepares and commits every worker before it answers.
 *
 * Stick tables: `stickTables` is the data plane's one long-lived set of tables, which the runtime
 * builder applies each snapshot's definitions to. With one thread the request path uses it; with
 * workers each worker has its own and this one, in the main thread, holds the merged view of all
 * of them and of the peers. `replica` (workers/stick-relay.ts) is what a peer mesh replicates.
 */
import { hostname } from 'node:os';
import type { ir, ServerHealth } from '@switchyard/api';
import { systemClock, type Clock } from '../clock.ts';
import type { HealthChecker } from '../health/checker.ts';
import type { Logger } from '../logger.ts';
import type { ServerState } from '../upstream/server-state.ts';
import { buildRuntime, type Runtime, type RuntimeDeps } from './build-runtime.ts';
import { Listener, listenerKey } from './listener.ts';
import { newInstanceId, originOf } from '../peers/origin.ts';
import { StickTables } from '../stick/replication.ts';
import { wallClock } from '../stick/wall-clock.ts';
import { WorkerPool } from '../workers/coordinator.ts';
import { StickRelay } from '../workers/stick-relay.ts';

export type ApplyResult = { ok: true } | { ok: false; error: string };

export class Dataplane {
  /** The stick tables (see above); the runtime builder applies each snapshot's definitions to them. */
  readonly stickTables: StickTables;
  /** The stick tables as a peer mesh replicates them. */
  readonly replica: StickRelay;
  /** This data plane's name, and its process instance (a restart is a new one): stick-table origins are `node/instance/thread`. */
  readonly node: string;
  readonly instance: string;
  private runtime: Runtime | null = null;
  private readonly listeners = new Map<string, Listener>();
  private readonly deps: RuntimeDeps;
  private applying: Promise<unknown> = Promise.resolve();
  /** The worker threads, when there are several (`workers` > 1). */
  private readonly pool: WorkerPool | null = null;
  private readonly healthListeners = new Set<() => void>();
  /** Set on every live server: any up/down/admin transition tells the health listeners. */
  private readonly notifyHealth = (): void => {
    for (const listener of [...this.healthListeners]) {
      try {
        listener();
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  };

  /**
   * `workers`: proxy threads (default 1: this thread does everything). With more, each worker
   * has its own sockets on the same ports (SO_REUSEPORT) and `random` applies to the main thread only;
   * `workerExecArgv` are Node options for the worker threads (default: the process's).
   * `node`: this data plane's name in the fleet (default the host name); `instance`: this
   * process's stick-table instance id (default a random one); `stickFlushMs`: how often stick-table
   * changes are taken for the other threads and peers (default 10).
   */
  constructor(options: {
    logger: Logger;
    clock?: Clock;
    random?: () => number;
    workers?: number;
    workerExecArgv?: string[];
    node?: string;
    instance?: string;
    stickFlushMs?: number;
  }) {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be an integer >= 1, not ${workers}`);
    this.node = options.node ?? hostname();
    this.instance = options.instance ?? newInstanceId();
    // Main thread's origin with workers (it only merges), else the one thread's.
    this.stickTables = new StickTables(originOf(this.node, this.instance, workers > 1 ? 'main' : 0), wallClock);
    this.deps = { logger: options.logger, clock: options.clock ?? systemClock, random: options.random ?? Math.random, stickTables: this.stickTables };
    if (workers > 1) {
      const origins = Array.from({ length: workers }, (_, i) => originOf(this.node, this.instance, i));
      this.pool = new WorkerPool({ workers, logger: options.logger, deps: this.deps, execArgv: options.workerExecArgv, origins, stickFlushMs: options.stickFlushMs });
    }
    this.replica = new StickRelay({ tables: this.stickTables, workers: this.pool, logger: options.logger.child({ component: 'stick-relay' }), flushMs: options.stickFlushMs });
    if (this.pool !== null) this.pool.onStick = (worker, update) => this.replica.fromWorker(worker, update);
  }

  /** The snapshot being served, or null before the first successful apply. */
  get snapshot(): ir.Snapshot | null {
    return this.runtime?.snapshot ?? null;
  }

  /** Applies snapshots one at a time, in the order given. */
  apply(snapshot: ir.Snapshot): Promise<ApplyResult> {
    const result = this.applying.then(() => this.applyNow(snapshot));
    this.applying = result;
    return result;
  }

  private async applyNow(snapshot: ir.Snapshot): Promise<ApplyResult> {
    const result = await this.applyRuntime(snapshot);
    if (result.ok) this.replica.applied(snapshot.stickTables ?? []);
    return result;
  }

  private async applyRuntime(snapshot: ir.Snapshot): Promise<ApplyResult> {
    if (this.pool !== null) {
      const outcome = await this.pool.apply(snapshot, this.runtime);
      if (!outcome.ok) return { ok: false, error: outcome.error };
      for (const server of this.servers()) server.onStateChange = null;
      this.runtime = outcome.runtime;
      for (const server of this.servers()) server.onStateChange = this.notifyHealth;
      return { ok: true };
    }
    let next: Runtime;
    try {
      next = buildRuntime(snapshot, this.runtime, this.deps);
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    // Open what is new first, so a port we cannot bind leaves everything as it was.
    const opened: Listener[] = [];
    const keep = new Map<string, Listener>();
    const replaced: Listener[] = [];
    for (const lr of next.listeners.values()) {
      const key = listenerKey(lr.config.address, lr.config.port);
      const existing = this.listeners.get(key);
      if (existing && existing.mode === lr.config.mode && !existing.draining) {
        keep.set(key, existing);
        continue;
      }
      if (existing) replaced.push(existing);
      const listener = new Listener(lr);
      if (existing) await existing.drain(); // same port, new mode: the old socket must go first
      try {
        await listener.listen();
      } catch (err) {
        for (const l of opened) void l.drain();
        return { ok: false, error: `listener ${lr.config.name} on ${key}: ${(err as Error).message}` };
      }
      opened.push(listener);
      keep.set(key, listener);
    }
    next.commit(this.runtime, this.deps);
    for (const lr of next.listeners.values()) keep.get(listenerKey(lr.config.address, lr.config.port))!.runtime = lr;
    for (const [key, listener] of this.listeners) {
      if (!keep.has(key) && !replaced.includes(listener)) void listener.drain();
    }
    this.listeners.clear();
    for (const [key, listener] of keep) this.listeners.set(key, listener);
    for (const server of this.servers()) server.onStateChange = null;
    this.runtime = next;
    for (const server of this.servers()) server.onStateChange = this.notifyHealth;
    return { ok: true };
  }

  /** The port a listener is bound to (useful when the snapshot asked for port 0). */
  boundPort(listenerName: string): number | undefined {
    if (this.pool !== null) return this.pool.boundPort(listenerName);
    for (const listener of this.listeners.values()) if (listener.runtime.config.name === listenerName) return listener.port;
    return undefined;
  }

  /** Every server of every cluster, for stats and the runtime API. */
  servers(): ServerState[] {
    const out: ServerState[] = [];
    if (this.runtime) for (const cluster of this.runtime.clusters.values()) out.push(...cluster.servers);
    this.pool?.collectStats(out);
    return out;
  }

  /** Worker threads (1: this thread). */
  get workers(): number {
    return this.pool?.workers ?? 1;
  }

  /** Requests each worker thread sent to the servers of the live snapshot (one entry per worker). */
  requestsPerWorker(): number[] {
    if (this.pool !== null) return this.pool.requestsPerWorker();
    return [this.servers().reduce((n, s) => n + s.totalRequests, 0)];
  }

  /**
   * The state of every server of the snapshot being served, in snapshot order: `maint` when an
   * operator or the snapshot disabled it, else `up` or `down` as health checks decided, with the
   * last check's result as the reason (empty without checks). Empty before the first snapshot.
   */
  healthReport(): ServerHealth[] {
    const runtime = this.runtime;
    if (runtime === null) return [];
    // Checker keys are `identity|settings` (build-runtime.ts).
    const checkers = new Map<string, HealthChecker>();
    for (const [key, checker] of runtime.checkers) checkers.set(key.slice(0, key.indexOf('|')), checker);
    const out: ServerHealth[] = [];
    for (const config of runtime.snapshot.clusters) {
      const cluster = runtime.clusters.get(config.name);
      if (!cluster) continue;
      for (const server of cluster.servers) {
        const last = checkers.get(server.identity)?.lastResult ?? null;
        out.push({
          cluster: config.name,
          server: server.name,
          state: server.admin === 'maint' ? 'maint' : server.healthy ? 'up' : 'down',
          reason: last === null ? '' : `${last.status}: ${last.detail}`.slice(0, 1024),
        });
      }
    }
    return out;
  }

  /**
   * Called after any server of the live snapshot goes up or down or changes admin state (not on
   * the request path; a new snapshot is not a change by itself). Returns an unsubscribe.
   */
  onHealthChange(listener: () => void): () => void {
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  /** Requests waiting for a server slot in a cluster (`namespace/backend`), or undefined if unknown. */
  queueLength(cluster: string): number | undefined {
    return this.runtime?.clusters.get(cluster)?.queueLength;
  }

  async close(): Promise<void> {
    await this.applying;
    this.replica.close();
    if (this.pool !== null) {
      await this.pool.close();
      this.runtime?.stop();
      return;
    }
    this.runtime?.stop();
    await Promise.all([...this.listeners.values()].map((l) => l.drain()));
    this.listeners.clear();
  }
}
