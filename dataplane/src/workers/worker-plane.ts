/**
 * One worker thread's data plane: its own listening sockets (SO_REUSEPORT, on the ports of every
 * other worker), its own runtime (clusters, algorithms, sessions, pooled connections), following
 * the main thread for everything that must be decided once:
 *
 * - snapshots arrive in two phases: `prepare` builds the runtime aside and opens the new sockets,
 *   `commit` makes it live, `abort` throws it away (runtime/dataplane.ts does both in one step);
 * - health, admin state and weights come from the main thread (`server` messages, and with each
 *   commit), since checks and slow start run there only (sharing.ts, followerSnapshot);
 * - in-flight counts and session counts live in shared memory (shared-memory.ts);
 * - requests that must wait for a server slot wait in the main thread's queue (QueueClient);
 * - stick tables are the worker's own (`stickTables`, its own origin): it posts its changes to the
 *   main thread every `stickFlushMs` when there are any, and merges what the main thread relays
 *   (the other workers' changes, peers' updates, the full state after a snapshot changed the tables).
 */
import type { Logger } from '../logger.ts';
import { systemClock } from '../clock.ts';
import { buildRuntime, type Runtime, type RuntimeDeps } from '../runtime/build-runtime.ts';
import { Listener, listenerKey } from '../runtime/listener.ts';
import type { Cluster, SharedQueue, Waiter } from '../upstream/cluster.ts';
import type { ServerState } from '../upstream/server-state.ts';
import { StickTables } from '../stick/replication.ts';
import { wallClock } from '../stick/wall-clock.ts';
import type { FromWorker, ServerStateTuple, Slots, ToWorker } from './protocol.ts';
import type { SharedMemory } from './shared-memory.ts';
import { follow, followerSnapshot, shareServer, unshareServer, usesLoads } from './sharing.ts';

interface Prepared {
  gen: number;
  runtime: Runtime;
  opened: Listener[];
  /** Listener per key once committed: kept ones and opened ones. */
  keep: Map<string, Listener>;
  slots: Slots;
}

type Post = (message: FromWorker) => void;

export class WorkerPlane {
  /** This worker's stick tables (the request path's); the runtime builder applies each snapshot's. */
  readonly stickTables: StickTables;
  private readonly memory: SharedMemory;
  private readonly index: number;
  private readonly post: Post;
  private readonly deps: RuntimeDeps;
  private readonly queue: QueueClient;
  private runtime: Runtime | null = null;
  private readonly listeners = new Map<string, Listener>();
  private readonly byAdmittedSlot = new Map<number, Listener>();
  /** Live servers by identity. */
  private servers = new Map<string, ServerState>();
  private pending: Prepared | null = null;
  private readonly stickFlushMs: number;
  /** Posts stick-table changes while the snapshot has tables. */
  private stickFlush: ReturnType<typeof setInterval> | null = null;
  private readonly stickSweep: ReturnType<typeof setInterval>;

  constructor(options: { memory: SharedMemory; index: number; post: Post; logger: Logger; origin: string; stickFlushMs?: number }) {
    this.memory = options.memory;
    this.index = options.index;
    this.post = options.post;
    this.stickTables = new StickTables(options.origin, wallClock);
    this.deps = { logger: options.logger, clock: systemClock, random: Math.random, stickTables: this.stickTables };
    this.queue = new QueueClient(options.memory.counts, options.post);
    this.stickFlushMs = options.stickFlushMs ?? 10;
    this.stickSweep = setInterval(() => this.stickTables.sweep(), 1000);
    this.stickSweep.unref();
  }

  async handle(message: ToWorker): Promise<void> {
    switch (message.t) {
      case 'prepare':
        return this.post(await this.prepare(message));
      case 'commit':
        this.commit(message.gen, message.state);
        return this.post({ t: 'committed', gen: message.gen });
      case 'abort':
        await this.abort(message.gen);
        return this.post({ t: 'aborted', gen: message.gen });
      case 'server': {
        const [identity, healthy, admin, weight] = message.state;
        const server = this.servers.get(identity);
        if (server !== undefined) follow(server, healthy, admin, weight);
        return;
      }
      case 'grant':
        return this.queue.grant(message.id, this.servers.get(message.identity), message.slot, message.cluster);
      case 'abandon':
        return this.queue.abandon(message.id);
      case 'admit':
        this.byAdmittedSlot.get(message.admitted)?.admitWaiting();
        return;
      case 'stick':
        for (const update of message.updates) this.stickTables.merge(update);
        return;
      case 'stick-drop':
        this.stickTables.dropOrigin(message.origin);
        return;
      case 'close':
        await this.close();
        return this.post({ t: 'closed' });
    }
  }

  private async prepare(message: Extract<ToWorker, { t: 'prepare' }>): Promise<FromWorker> {
    const { gen } = message;
    let next: Runtime;
    try {
      next = buildRuntime(followerSnapshot(message.snapshot), this.runtime, this.deps);
    } catch (err) {
      return { t: 'prepared', gen, ok: false, error: (err as Error).message };
    }
    const opened: Listener[] = [];
    const keep = new Map<string, Listener>();
    for (const lr of next.listeners.values()) {
      const key = listenerKey(lr.config.address, lr.config.port);
      const existing = this.listeners.get(key);
      if (existing && existing.mode === lr.config.mode && !existing.draining) {
        keep.set(key, existing);
        continue;
      }
      // Same port, new mode: with SO_REUSEPORT the new socket binds beside the old one, which
      // keeps serving the old runtime until the commit drains it.
      // Held: connections wait until the commit, rather than meet a runtime that is not live.
      const listener = new Listener(lr, { port: message.bindPorts[lr.config.name], held: true });
      try {
        await listener.listen();
      } catch (err) {
        for (const l of opened) void l.drain();
        return { t: 'prepared', gen, ok: false, error: `listener ${lr.config.name} on ${key}: ${(err as Error).message}` };
      }
      opened.push(listener);
      keep.set(key, listener);
    }
    const ports: Record<string, number> = {};
    for (const lr of next.listeners.values()) ports[lr.config.name] = keep.get(listenerKey(lr.config.address, lr.config.port))!.port;
    this.pending = { gen, runtime: next, opened, keep, slots: message.slots };
    return { t: 'prepared', gen, ok: true, ports };
  }

  private commit(gen: number, state: ServerStateTuple[]): void {
    const p = this.pending;
    if (p === null || p.gen !== gen) throw new Error(`worker ${this.index}: commit of snapshot ${gen}, which was not prepared`);
    this.pending = null;
    const previous = this.runtime;
    const next = p.runtime;
    next.commit(previous, this.deps);

    // Servers: new ones count in their slots, removed ones stop using theirs.
    const servers = new Map<string, ServerState>();
    for (const cluster of next.clusters.values()) for (const s of cluster.servers) servers.set(s.identity, s);
    for (const [identity, slot] of p.slots.servers) {
      const server = servers.get(identity);
      if (server !== undefined) shareServer(server, this.memory, slot, this.index);
    }
    for (const [identity, server] of this.servers) if (servers.get(identity) !== server) unshareServer(server);
    this.servers = servers;

    // Clusters: requests wait in the main thread's queue.
    const clusterSlots = new Map(p.slots.clusters);
    for (const cluster of next.clusters.values()) {
      cluster.shared = this.queue.forCluster(clusterSlots.get(cluster.name)!);
      cluster.sharedLoads = usesLoads(cluster);
    }
    // A retired cluster with no successor keeps its own queue, which is never served again (as
    // with one thread: a request that waits there gets its queue timeout).
    if (previous) for (const cluster of previous.clusters.values()) if (!clusterSlots.has(cluster.name)) cluster.shared = null;

    // Listeners: session counts in their slots; those that go away drain.
    const listenerSlots = new Map(p.slots.listeners.map(([key, admitted, parked]) => [key, [admitted, parked] as const]));
    this.byAdmittedSlot.clear();
    for (const lr of next.listeners.values()) {
      const key = listenerKey(lr.config.address, lr.config.port);
      const listener = p.keep.get(key)!;
      listener.runtime = lr;
      const [admitted, parked] = listenerSlots.get(`${key}|${lr.config.mode}`)!;
      listener.admitted.share(this.memory.counts, admitted);
      listener.parked.share(this.memory.counts, parked);
      listener.onSlotFreed = () => this.post({ t: 'admit', admitted });
      this.byAdmittedSlot.set(admitted, listener);
    }
    const kept = new Set(p.keep.values());
    for (const listener of this.listeners.values()) {
      if (kept.has(listener)) continue;
      listener.onSlotFreed = null;
      listener.admitted.share(null);
      listener.parked.share(null);
      void listener.drain();
    }
    this.listeners.clear();
    for (const [key, listener] of p.keep) this.listeners.set(key, listener);
    this.runtime = next;

    for (const [identity, healthy, admin, weight] of state) {
      const server = servers.get(identity);
      if (server !== undefined) follow(server, healthy, admin, weight);
    }
    for (const listener of p.opened) listener.open();
    this.scheduleStickFlush(this.stickTables.tables().next().done !== true);
  }

  /**
   * One message per `stickFlushMs` at most, and none when nothing changed: the request path only
   * marks entries changed (stick/table.ts), it never posts.
   */
  private scheduleStickFlush(wanted: boolean): void {
    if (wanted && this.stickFlush === null) {
      this.stickFlush = setInterval(() => this.flushStick(), this.stickFlushMs);
      this.stickFlush.unref();
    } else if (!wanted && this.stickFlush !== null) {
      clearInterval(this.stickFlush);
      this.stickFlush = null;
      this.flushStick();
    }
  }

  private flushStick(): void {
    const update = this.stickTables.takeLocalChanges();
    if (update !== null) this.post({ t: 'stick', update });
  }

  private async abort(gen: number): Promise<void> {
    const p = this.pending;
    if (p === null || p.gen !== gen) return;
    this.pending = null;
    await Promise.all(p.opened.map((l) => l.drain()));
  }

  private async close(): Promise<void> {
    this.scheduleStickFlush(false);
    clearInterval(this.stickSweep);
    if (this.pending !== null) await this.abort(this.pending.gen);
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    this.runtime?.stop();
    await Promise.all(listeners.map((l) => l.drain()));
  }
}

/**
 * The worker's side of the main thread's queue. A request that finds no free slot, or finds
 * requests already waiting (first come, first served over every thread), is sent to the main
 * thread, which grants it a slot it reserved (the in-flight count already includes it) or tells it
 * to give up. Each cluster's shared word counts its requests waiting or on their way, so that
 * releasing a slot only costs a message when someone waits.
 */
class QueueClient {
  private readonly counts: Int32Array;
  private readonly post: Post;
  private nextId = 0;
  private readonly byId = new Map<number, { waiter: Waiter; slot: number; cluster: string }>();
  private readonly ids = new Map<Waiter, number>();

  constructor(counts: Int32Array, post: Post) {
    this.counts = counts;
    this.post = post;
  }

  forCluster(slot: number): SharedQueue {
    const counts = this.counts;
    return {
      enqueue: (cluster: Cluster, waiter: Waiter) => this.enqueue(slot, cluster, waiter),
      dequeue: (_cluster: Cluster, waiter: Waiter) => this.dequeue(waiter),
      waiting: () => Atomics.load(counts, slot) > 0,
      released: (cluster: Cluster) => {
        if (Atomics.load(counts, slot) > 0) this.post({ t: 'freed', cluster: cluster.name });
      },
    };
  }

  private enqueue(slot: number, cluster: Cluster, waiter: Waiter): void {
    const id = ++this.nextId;
    waiter.queued = true;
    this.byId.set(id, { waiter, slot, cluster: cluster.name });
    this.ids.set(waiter, id);
    Atomics.add(this.counts, slot, 1);
    this.post({ t: 'enqueue', id, cluster: cluster.name, server: waiter.server?.identity ?? null });
  }

  private dequeue(waiter: Waiter): void {
    const id = this.ids.get(waiter);
    const entry = id === undefined ? undefined : this.leave(id);
    waiter.queued = false;
    if (entry !== undefined) this.post({ t: 'dequeue', id: id!, cluster: entry.cluster });
  }

  private leave(id: number): { waiter: Waiter; slot: number; cluster: string } | undefined {
    const entry = this.byId.get(id);
    if (entry === undefined) return undefined;
    this.byId.delete(id);
    this.ids.delete(entry.waiter);
    Atomics.sub(this.counts, entry.slot, 1);
    entry.waiter.queued = false;
    return entry;
  }

  /** The main thread reserved a slot of `server` for request `id`; if that request left meanwhile, the slot goes back. */
  grant(id: number, server: ServerState | undefined, slot: number, cluster: string): void {
    const entry = this.leave(id);
    if (server === undefined) {
      // Cannot happen (grants follow the commit that made the server live); never leak the slot.
      Atomics.sub(this.counts, slot, 1);
      this.post({ t: 'freed', cluster });
      return;
    }
    server.adopt();
    if (entry !== undefined) entry.waiter.grant(server);
    else server.drop();
  }

  abandon(id: number): void {
    this.leave(id)?.waiter.abandon();
  }
}
