/**
 * The data plane's stick tables as one replica, whatever the threads (docs/architecture.md,
 * "Stick-table replication"): the `StickReplica` the peer mesh talks to, and the relay between
 * worker threads.
 *
 * - One thread (`workers: 1`): `tables` are the request path's own. Every `flushMs` (only while
 *   someone listens, e.g. a peer mesh) their changes to replicated tables are taken and handed on.
 * - Worker threads: each worker has its own tables (its own origin) and posts its changes, all
 *   tables, every `flushMs` when there are any (worker-plane.ts). Here, in the main thread, they
 *   are merged into `tables` (the pod's full view, what a new peer or worker is sent), forwarded to
 *   the other workers, and, cut down to the replicated tables, handed to the mesh. Peers' updates
 *   are merged here and forwarded to every worker. A worker learns the main thread's full state
 *   whenever a snapshot changed the tables (and so with the first one).
 *
 * Never on the request path: everything here runs on timers and messages.
 */
import type { ir } from '@switchyard/api';
import type { Logger } from '../logger.ts';
import type { StickReplica } from '../peers/replica.ts';
import type { StickTables, StickUpdate } from '../stick/replication.ts';

/** How the relay reaches the worker threads (the WorkerPool). */
export interface WorkerStickPort {
  /** Posts updates to merge to every worker but `except` (a worker index). */
  postStick(updates: StickUpdate[], except: number | null): void;
  /** Posts an origin to drop to every worker. */
  postDropOrigin(origin: string): void;
}

const replicated = (table: ir.StickTable): boolean => table.replicate;

export class StickRelay implements StickReplica {
  readonly tables: StickTables;
  readonly #workers: WorkerStickPort | null;
  readonly #log: Logger;
  readonly #flushMs: number;
  readonly #localListeners = new Set<(update: StickUpdate) => void>();
  readonly #tablesListeners = new Set<() => void>();
  #flushTimer: ReturnType<typeof setInterval> | null = null;
  /** Expired entries leave `tables` on access and here (a worker sweeps its own). */
  #sweepTimer: ReturnType<typeof setInterval> | null;
  /** What the replicated tables were (names, key types, stored data), to tell when peers must resend. */
  #replicatedSignature = '[]';
  /** The same for every table, to tell when workers must get the full state. */
  #allSignature = '[]';
  #closed = false;

  /** `workers`: null when the request path runs on this thread and uses `tables` itself. */
  constructor(options: { tables: StickTables; workers: WorkerStickPort | null; logger: Logger; flushMs?: number; sweepMs?: number }) {
    this.tables = options.tables;
    this.#workers = options.workers;
    this.#log = options.logger;
    this.#flushMs = options.flushMs ?? 10;
    this.#sweepTimer = setInterval(() => this.tables.sweep(), options.sweepMs ?? 1000);
    this.#sweepTimer.unref();
  }

  // ---- StickReplica (the peer mesh)

  fullState(): StickUpdate[] {
    return this.tables.fullState(replicated);
  }

  merge(update: StickUpdate): void {
    this.tables.merge(update);
    this.#workers?.postStick([update], null);
  }

  dropOrigin(origin: string): void {
    this.tables.dropOrigin(origin);
    this.#workers?.postDropOrigin(origin);
  }

  onLocalChanges(listener: (update: StickUpdate) => void): () => void {
    this.#localListeners.add(listener);
    this.#schedule();
    return () => {
      this.#localListeners.delete(listener);
      this.#schedule();
    };
  }

  onTablesChanged(listener: () => void): () => void {
    this.#tablesListeners.add(listener);
    return () => this.#tablesListeners.delete(listener);
  }

  // ---- The data plane

  /** A worker's changes (its own origin, every table). */
  fromWorker(index: number, update: StickUpdate): void {
    this.tables.merge(update);
    this.#workers?.postStick([update], index);
    if (this.#localListeners.size === 0) return;
    const forPeers = this.tables.restrict(update, replicated);
    if (forPeers !== null) this.#emit(forPeers);
  }

  /**
   * A snapshot was applied (its tables are in `tables` and in every worker's): workers get the
   * full state when the tables changed, peers are asked for theirs when replicated tables did.
   */
  applied(configs: readonly ir.StickTable[]): void {
    const all = signature(configs);
    const shared = signature(configs.filter(replicated));
    if (all !== this.#allSignature) {
      this.#allSignature = all;
      if (this.#workers !== null && configs.length > 0) this.#workers.postStick(this.tables.fullState(), null);
    }
    if (shared !== this.#replicatedSignature) {
      this.#replicatedSignature = shared;
      this.#schedule();
      if (configs.some(replicated)) {
        this.#log.debug({ tables: configs.filter(replicated).map((t) => t.name) }, 'replicated stick tables changed; asking peers for their full state');
        for (const listener of [...this.#tablesListeners]) listener();
      }
    }
  }

  /** Stops the timers. */
  close(): void {
    this.#closed = true;
    this.#schedule();
    if (this.#sweepTimer !== null) clearInterval(this.#sweepTimer);
    this.#sweepTimer = null;
  }

  /** One thread: polls the tables for changes while someone listens and a table is replicated. */
  #schedule(): void {
    const wanted = !this.#closed && this.#workers === null && this.#localListeners.size > 0 && this.#replicatedSignature !== '[]';
    if (wanted && this.#flushTimer === null) {
      this.#flushTimer = setInterval(() => this.#flush(), this.#flushMs);
      this.#flushTimer.unref();
    } else if (!wanted && this.#flushTimer !== null) {
      clearInterval(this.#flushTimer);
      this.#flushTimer = null;
    }
  }

  #flush(): void {
    const update = this.tables.takeLocalChanges(replicated);
    if (update !== null) this.#emit(update);
  }

  #emit(update: StickUpdate): void {
    for (const listener of [...this.#localListeners]) {
      try {
        listener(update);
      } catch (err) {
        this.#log.error({ err }, 'a stick-table change listener failed');
      }
    }
  }
}

function signature(configs: readonly ir.StickTable[]): string {
  return JSON.stringify(configs.map((t) => [t.name, t.type, t.keyLength, t.store, t.replicate]));
}
