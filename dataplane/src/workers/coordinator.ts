/**
 * The main thread of a multi-core data plane (`workers` > 1): starts the worker threads and keeps
 * what must be decided once for all of them. See docs/architecture.md, "Multi-core data plane".
 *
 * - The authoritative runtime: the main thread builds and commits every snapshot's runtime as a
 *   single-threaded data plane would (clusters, algorithms, ServerStates, health checkers) but
 *   opens no sockets. `Dataplane.servers()`, `queueLength()`, `snapshot` read it.
 * - Snapshots apply in two phases: each worker prepares (builds its runtime, binds new sockets),
 *   and only when all succeeded does anything switch (main first, then a `commit` to every
 *   worker); any failure aborts the prepared workers and nothing changes. The apply is
 *   acknowledged once every worker has committed.
 * - Health checks run here, once per server. Transitions, admin state and slow-start weights
 *   reach the workers as `server` messages (MirroringOwner) and with each commit.
 * - The queue: requests that wait for a server slot wait in this thread's Cluster queues, FIFO
 *   over all workers; a slot is reserved here (compare-and-swap on the shared count) and granted
 *   to the worker that holds the request.
 * - Shared memory slots (shared-memory.ts): allocated here for new servers, clusters and
 *   listeners, freed once every worker committed the snapshot that removed them.
 * - Stick tables: each worker posts its changes (`stick`); `onStick` (the StickRelay) merges them
 *   here and `postStick` forwards them to the other workers.
 */
import { Worker } from 'node:worker_threads';
import type { ir } from '@switchyard/api';
import type { Logger } from '../logger.ts';
import { buildRuntime, type Runtime, type RuntimeDeps } from '../runtime/build-runtime.ts';
import { listenerKey } from '../runtime/listener.ts';
import type { Cluster, Waiter } from '../upstream/cluster.ts';
import { SERVER_COUNTERS, type ServerOwner, type ServerState } from '../upstream/server-state.ts';
import type { StickUpdate } from '../stick/replication.ts';
import type { FromWorker, ServerStateTuple, Slots, ToWorker, WorkerInit } from './protocol.ts';
import { SharedMemory, SlotAllocator } from './shared-memory.ts';
import { shareServer, stateOf, unshareServer, usesLoads } from './sharing.ts';

export type PoolApplyResult = { ok: true; runtime: Runtime } | { ok: false; error: string };

type Reply = Extract<FromWorker, { t: 'ready' | 'prepared' | 'committed' | 'aborted' | 'closed' }>;

/** One worker thread and its control replies (one request at a time: applies are serialised). */
class Thread {
  readonly index: number;
  readonly worker: Worker;
  private readonly replies: ((reply: Reply) => void)[] = [];
  readonly ready: Promise<Reply>;

  constructor(index: number, init: WorkerInit, execArgv: string[] | undefined, onMessage: (thread: Thread, message: FromWorker) => void) {
    this.index = index;
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: init, name: `switchyard-worker-${index}`, execArgv });
    this.ready = this.expect();
    this.worker.on('message', (message: FromWorker) => onMessage(this, message));
  }

  send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  request<T extends Reply>(message: ToWorker): Promise<T> {
    const reply = this.expect() as Promise<T>;
    this.send(message);
    return reply;
  }

  private expect(): Promise<Reply> {
    return new Promise((resolve) => this.replies.push(resolve));
  }

  reply(message: Reply): void {
    this.replies.shift()?.(message);
  }
}

export class WorkerPool {
  readonly workers: number;
  private readonly deps: RuntimeDeps;
  private readonly log: Logger;
  private readonly memory: SharedMemory;
  private readonly slots: SlotAllocator;
  private readonly threads: Thread[];
  private readonly ready: Promise<unknown>;
  private gen = 0;
  private closing = false;
  private runtime: Runtime | null = null;
  private serverSlots = new Map<ServerState, number>();
  private clusterSlots = new Map<string, number>();
  private listenerSlots = new Map<string, [number, number]>();
  /** Bound port by listener name (worker 0's: all workers bind the same). */
  private ports = new Map<string, number>();
  /** Requests queued here, by `worker:id`. */
  private readonly waiters = new Map<string, RemoteWaiter>();
  /** While the main runtime commits, messages wait here so that workers see their commit first. */
  private held: [Thread | null, ToWorker][] | null = null;
  /** A worker's stick-table changes (set by the StickRelay). */
  onStick: ((worker: number, update: StickUpdate) => void) | null = null;

  /**
   * `execArgv`: Node options for the worker threads (default: the process's), e.g. `--cpu-prof`;
   * `origins`: each worker's stick-table origin, by index; `stickFlushMs`: how often workers post their changes.
   */
  constructor(options: {
    workers: number;
    logger: Logger;
    deps: RuntimeDeps;
    execArgv?: string[];
    origins: readonly string[];
    stickFlushMs?: number;
  }) {
    this.workers = options.workers;
    this.deps = options.deps;
    this.log = options.logger;
    this.memory = SharedMemory.create(options.workers);
    this.slots = new SlotAllocator(this.memory);
    const logBindings = typeof options.logger.bindings === 'function' ? options.logger.bindings() : {};
    const init = (index: number): WorkerInit => ({
      index,
      buffers: this.memory.buffers,
      logLevel: options.logger.level,
      logBindings,
      origin: options.origins[index]!,
      stickFlushMs: options.stickFlushMs ?? 10,
    });
    this.threads = Array.from({ length: options.workers }, (_, i) => new Thread(i, init(i), options.execArgv, (thread, message) => this.onMessage(thread, message)));
    for (const thread of this.threads) {
      thread.worker.on('error', (err) => this.fatal(thread, err));
      thread.worker.on('exit', (code) => {
        if (!this.closing) this.fatal(thread, new Error(`worker thread ${thread.index} exited with code ${code}`));
      });
    }
    this.ready = Promise.all(this.threads.map((t) => t.ready));
  }

  /**
   * A worker that dies takes its sockets, sessions and share of the shared counts with it: the
   * counts can no longer be trusted, so the process fails as a single-threaded one would on an
   * uncaught exception, and its supervisor restarts it.
   */
  private fatal(thread: Thread, err: Error): void {
    this.log.fatal({ err, worker: thread.index }, 'worker thread failed');
    queueMicrotask(() => {
      throw err;
    });
  }

  async apply(snapshot: ir.Snapshot, current: Runtime | null): Promise<PoolApplyResult> {
    await this.ready;
    let next: Runtime;
    try {
      next = buildRuntime(snapshot, current, this.deps);
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    // With SO_REUSEPORT one thread could bind the same port twice; refuse it as a single socket would.
    const keys = new Set<string>();
    for (const l of snapshot.listeners) {
      const key = listenerKey(l.address, l.port);
      if (l.port !== 0 && keys.has(key)) return { ok: false, error: `listener ${l.name} on ${key}: address already in use` };
      keys.add(key);
    }

    const gen = ++this.gen;
    const fresh: number[] = [];
    const serverSlots = new Map<ServerState, number>();
    const clusterSlots = new Map<string, number>();
    const listenerSlots = new Map<string, [number, number]>();
    const slots: Slots = { servers: [], clusters: [], listeners: [] };
    try {
      const allocate = (): number => {
        const slot = this.slots.allocate();
        fresh.push(slot);
        return slot;
      };
      for (const cluster of next.clusters.values()) {
        for (const server of cluster.servers) {
          const slot = this.serverSlots.get(server) ?? allocate();
          serverSlots.set(server, slot);
          slots.servers.push([server.identity, slot]);
        }
        const slot = this.clusterSlots.get(cluster.name) ?? allocate();
        clusterSlots.set(cluster.name, slot);
        slots.clusters.push([cluster.name, slot]);
      }
      for (const lr of next.listeners.values()) {
        const key = `${listenerKey(lr.config.address, lr.config.port)}|${lr.config.mode}`;
        const pair = listenerSlots.get(key) ?? this.listenerSlots.get(key) ?? [allocate(), allocate()];
        listenerSlots.set(key, pair);
        slots.listeners.push([key, pair[0], pair[1]]);
      }
    } catch (err) {
      for (const slot of fresh) this.slots.release(slot);
      return { ok: false, error: (err as Error).message };
    }

    // Prepare: worker 0 first, so that listeners on port 0 get one port every worker then binds.
    const prepare = (thread: Thread, bindPorts: Record<string, number>): Promise<Extract<Reply, { t: 'prepared' }>> =>
      thread.request({ t: 'prepare', gen, snapshot, slots, bindPorts });
    const first = await prepare(this.threads[0]!, {});
    const prepared: Thread[] = [];
    let failure: string | null = null;
    let ports: Record<string, number> = {};
    if (first.ok) {
      prepared.push(this.threads[0]!);
      ports = first.ports;
      const bindPorts: Record<string, number> = {};
      for (const l of snapshot.listeners) if (l.port === 0) bindPorts[l.name] = first.ports[l.name]!;
      const rest = await Promise.all(this.threads.slice(1).map(async (t) => [t, await prepare(t, bindPorts)] as const));
      for (const [thread, reply] of rest) {
        if (reply.ok) prepared.push(thread);
        else failure ??= reply.error;
      }
    } else failure = first.error;
    if (failure !== null) {
      await Promise.all(prepared.map((t) => t.request({ t: 'abort', gen })));
      for (const slot of fresh) this.slots.release(slot);
      return { ok: false, error: failure };
    }

    // Commit: the main runtime first, holding back what it sends (grants from queues handed to
    // new clusters) until every worker has its commit in its inbox.
    const oldServerSlots = this.serverSlots;
    const oldClusterSlots = this.clusterSlots;
    const oldListenerSlots = this.listenerSlots;
    this.serverSlots = serverSlots;
    this.clusterSlots = clusterSlots;
    this.listenerSlots = listenerSlots;
    this.held = [];
    next.commit(current, this.deps);
    this.runtime = next;
    const state: ServerStateTuple[] = [];
    for (const cluster of next.clusters.values()) {
      cluster.sharedLoads = usesLoads(cluster);
      for (const server of cluster.servers) {
        shareServer(server, this.memory, serverSlots.get(server)!, -1);
        server.owner = new MirroringOwner(cluster, this);
        state.push(stateOf(server));
      }
    }
    for (const server of oldServerSlots.keys()) if (!serverSlots.has(server)) unshareServer(server);
    const committed = this.threads.map((t) => t.request({ t: 'commit', gen, state }));
    const held = this.held;
    this.held = null;
    for (const [thread, message] of held) this.send(thread, message);
    await Promise.all(committed);

    // Every worker stopped using what this snapshot removed: free its slots.
    for (const [server, slot] of oldServerSlots) if (!serverSlots.has(server)) this.release(slot, `server ${server.identity}`);
    for (const [name, slot] of oldClusterSlots) if (!clusterSlots.has(name)) this.slots.release(slot);
    for (const [key, pair] of oldListenerSlots) {
      if (!listenerSlots.has(key)) for (const slot of pair) this.release(slot, `listener ${key}`);
    }
    this.ports = new Map(Object.entries(ports));
    return { ok: true, runtime: next };
  }

  private release(slot: number, what: string): void {
    const left = Atomics.load(this.memory.counts, slot);
    if (left !== 0) this.log.error({ slot, left }, `${what}: shared count is ${left}, not 0, when its slot is freed`);
    Atomics.store(this.memory.counts, slot, 0);
    this.slots.release(slot);
  }

  boundPort(listenerName: string): number | undefined {
    return this.ports.get(listenerName);
  }

  /** Adds up every worker's counters into the main thread's ServerStates (what `servers()` returns). */
  collectStats(servers: readonly ServerState[]): void {
    const { stats } = this.memory;
    for (const server of servers) {
      const slot = this.serverSlots.get(server);
      if (slot === undefined) continue;
      const sums = new Array<number>(SERVER_COUNTERS).fill(0);
      for (let w = 0; w < this.workers; w++) {
        const at = this.memory.statsAt(slot, w);
        for (let k = 0; k < sums.length; k++) sums[k]! += stats[at + k]!;
      }
      server.totalRequests = sums[0]!;
      server.connectErrors = sums[1]!;
      server.responseErrors = sums[2]!;
      server.retries = sums[3]!;
      server.redispatches = sums[4]!;
    }
  }

  /** Requests each worker thread has sent to the current servers (their stats rows). */
  requestsPerWorker(): number[] {
    const out = new Array<number>(this.workers).fill(0);
    for (const slot of this.serverSlots.values()) for (let w = 0; w < this.workers; w++) out[w]! += this.memory.stats[this.memory.statsAt(slot, w)]!;
    return out;
  }

  async close(): Promise<void> {
    await this.ready;
    await Promise.all(this.threads.map((t) => t.request({ t: 'close' })));
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  // ---- messages ----------------------------------------------------------------------------

  /** Sends to one worker, or to all with null; held back while the main runtime commits. */
  send(thread: Thread | null, message: ToWorker): void {
    if (this.held !== null) {
      this.held.push([thread, message]);
      return;
    }
    if (thread !== null) thread.send(message);
    else for (const t of this.threads) t.send(message);
  }

  /** Stick-table updates to every worker but `except`. */
  postStick(updates: StickUpdate[], except: number | null): void {
    if (updates.length === 0) return;
    for (const t of this.threads) if (t.index !== except) this.send(t, { t: 'stick', updates });
  }

  postDropOrigin(origin: string): void {
    this.send(null, { t: 'stick-drop', origin });
  }

  broadcastState(server: ServerState): void {
    this.send(null, { t: 'server', state: stateOf(server) });
  }

  private onMessage(thread: Thread, message: FromWorker): void {
    switch (message.t) {
      case 'enqueue': {
        const cluster = this.runtime?.clusters.get(message.cluster);
        const waiter = new RemoteWaiter(this, thread, message.id, message.cluster);
        if (cluster === undefined) return this.send(thread, { t: 'abandon', id: message.id });
        if (message.server !== null) waiter.server = cluster.servers.find((s) => s.identity === message.server) ?? null;
        this.waiters.set(waiter.key, waiter);
        cluster.enqueue(waiter);
        // A slot may have freed before the request got here: nobody else would look.
        cluster.pump();
        return;
      }
      case 'dequeue': {
        const key = `${thread.index}:${message.id}`;
        const waiter = this.waiters.get(key);
        if (waiter === undefined) return; // granted or abandoned already; the worker handles it
        this.waiters.delete(key);
        if (waiter.queued) this.runtime?.clusters.get(waiter.cluster)?.dequeue(waiter);
        return;
      }
      case 'freed':
        this.runtime?.clusters.get(message.cluster)?.pump();
        return;
      case 'admit':
        for (const t of this.threads) if (t !== thread) t.send(message);
        return;
      case 'stick':
        this.onStick?.(thread.index, message.update);
        return;
      default:
        thread.reply(message);
    }
  }

  granted(waiter: RemoteWaiter, server: ServerState): void {
    this.waiters.delete(waiter.key);
    this.send(waiter.thread, { t: 'grant', id: waiter.id, identity: server.identity, slot: this.serverSlots.get(server)!, cluster: waiter.cluster });
  }

  abandoned(waiter: RemoteWaiter): void {
    this.waiters.delete(waiter.key);
    this.send(waiter.thread, { t: 'abandon', id: waiter.id });
  }
}

/** A request waiting in a worker thread, queued here. */
class RemoteWaiter implements Waiter {
  server: ServerState | null = null;
  queued = false;
  readonly pool: WorkerPool;
  readonly thread: Thread;
  readonly id: number;
  readonly cluster: string;
  readonly key: string;

  constructor(pool: WorkerPool, thread: Thread, id: number, cluster: string) {
    this.pool = pool;
    this.thread = thread;
    this.id = id;
    this.cluster = cluster;
    this.key = `${thread.index}:${id}`;
  }

  /** The cluster reserved the slot in this thread's name: the worker adopts it. */
  grant(server: ServerState): void {
    server.inFlight.handOff();
    this.pool.granted(this, server);
  }

  abandon(): void {
    this.pool.abandoned(this);
  }
}

/** The main thread's servers tell the workers about health, admin state and weight changes. */
class MirroringOwner implements ServerOwner {
  private readonly cluster: Cluster;
  private readonly pool: WorkerPool;

  constructor(cluster: Cluster, pool: WorkerPool) {
    this.cluster = cluster;
    this.pool = pool;
  }

  onServerChange(server: ServerState): void {
    this.pool.broadcastState(server);
    this.cluster.onServerChange(server);
  }

  onWeightChange(server: ServerState): void {
    this.pool.broadcastState(server);
    this.cluster.onWeightChange(server);
  }

  onTakeConn(server: ServerState): void {
    this.cluster.onTakeConn(server);
  }

  onDropConn(server: ServerState): void {
    this.cluster.onDropConn(server);
  }
}
