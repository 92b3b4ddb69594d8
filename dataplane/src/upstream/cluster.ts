/**
 * A backend as the proxy sees it: its servers, the algorithm that balances the primaries, how
 * backups take over, and the queue of requests waiting for a server slot (HAProxy's backend and
 * server queues). Built by the runtime for one snapshot; it owns its servers from the swap on.
 */
import type { ir } from '@switchyard/api';
import type { Algorithm } from '../lb/algorithm.ts';
import { hashRequestKey } from '../lb/hash-key.ts';
import type { KeySource } from '../lb/hash-key.ts';
import type { CidrMatcher } from '../proxy/cidr.ts';
import type { ClusterPersistence } from '../proxy/persistence.ts';
import type { ServerOwner, ServerState } from './server-state.ts';

/** A request waiting for a slot. `server` is set when it must wait for that server (hashing). */
export interface Waiter {
  server: ServerState | null;
  /** Called when a slot is free: the waiter takes `server`, already counted as active. */
  grant(server: ServerState): void;
  /** Called when the waiter must give up (its cluster is gone). */
  abandon(): void;
  queued: boolean;
}

/**
 * With worker threads (workers/), requests wait in one queue in the main thread, first come first
 * served over every thread, instead of in each thread's cluster.
 */
export interface SharedQueue {
  enqueue(cluster: Cluster, waiter: Waiter): void;
  dequeue(cluster: Cluster, waiter: Waiter): void;
  /** Whether requests of this cluster wait, in any thread: a new request then queues behind them. */
  waiting(cluster: Cluster): boolean;
  /** A slot of this cluster was released in this thread: whoever waits for one may take it. */
  released(cluster: Cluster): void;
}

export class Cluster implements ServerOwner {
  readonly config: ir.Cluster;
  readonly name: string;
  readonly servers: readonly ServerState[];
  readonly hashed: boolean;
  private readonly primary: Algorithm;
  /** Balances backups when allBackups is set; otherwise the first usable backup is used. */
  private readonly backup: Algorithm | null;
  private readonly backups: readonly ServerState[];
  private usablePrimaries = 0;
  private readonly queue: Waiter[] = [];
  private retired = false;
  /** Set by workers/: requests wait in the main thread's queue. */
  shared: SharedQueue | null = null;
  /**
   * Set by workers/ when in-flight counts are shared by threads and the algorithm depends on them
   * (leastconn, random, maxConnections): other threads' takes and drops reach the algorithm as the
   * changes `pick` finds since it last looked (`seen`, by server id), not as events.
   */
  sharedLoads = false;
  private readonly seen: number[] = [];
  /** The Backend's X-Forwarded-For (used when the Frontend has none); set by the runtime builder. */
  forwardFor: { header: string; except: CidrMatcher | null } | null = null;
  /** Session persistence, set by the runtime builder: see proxy/persistence.ts. */
  persistence: ClusterPersistence | null = null;
  private readonly byId = new Map<number, ServerState>();

  constructor(config: ir.Cluster, servers: readonly ServerState[], primary: Algorithm, backup: Algorithm | null, hashed: boolean) {
    this.config = config;
    this.name = config.name;
    this.servers = servers;
    this.primary = primary;
    this.backup = backup;
    this.backups = servers.filter((s) => s.config.backup);
    this.hashed = hashed;
    for (const server of servers) this.byId.set(stickId(server.name), server);
  }

  /** The 32-bit hash of a request's balancing key, or undefined when the algorithm does not hash. */
  keyHash(source: KeySource): number | undefined {
    return this.hashed ? hashRequestKey(this.config.balance, source) : undefined;
  }

  /**
   * A server by the id stick tables store for it (stickId). HAProxy stores the server's position
   * (puid), which points at another server when servers are reordered, as Service endpoints are;
   * a hash of the server's name survives that and is the same in every data plane.
   */
  serverByStickId(id: number): ServerState | undefined {
    return this.byId.get(id);
  }

  /** Takes ownership of the servers: called once, when this cluster's snapshot goes live. */
  activate(): void {
    for (const server of this.servers) {
      server.owner = this;
      server.inLb = false;
      this.sync(server);
    }
  }

  /** The previous snapshot's cluster hands over its queue and stops pumping. */
  retire(successor: Cluster | null): void {
    this.retired = true;
    for (const waiter of this.queue.splice(0)) {
      if (successor) successor.requeue(waiter);
      else {
        waiter.queued = false;
        waiter.abandon();
      }
    }
  }

  get queueLength(): number {
    return this.queue.length;
  }

  /** Whether any server may take traffic, now or once a slot frees up. */
  get available(): boolean {
    if (this.usablePrimaries > 0) return true;
    for (const s of this.backups) if (s.usable) return true;
    return false;
  }

  /**
   * The server for a request: a usable server with a free slot, a full server that the key maps
   * to (the caller then queues for it), or null (queue for any, or none available).
   */
  pick(hash: number | undefined, avoid: ServerState | null): ServerState | null {
    if (this.sharedLoads) this.refreshLoads();
    if (this.usablePrimaries > 0) return this.primary.pick({ hash, avoid }) as ServerState | null;
    if (this.backup) return this.backup.pick({ hash, avoid }) as ServerState | null;
    let fallback: ServerState | null = null;
    for (const s of this.backups) {
      if (!s.usable) continue;
      if (s !== avoid) return s;
      fallback = s;
    }
    return fallback;
  }

  /** With worker threads: whether requests wait in the shared queue; a new one must queue behind them (FIFO). */
  get othersWaiting(): boolean {
    return this.shared !== null && this.shared.waiting(this);
  }

  enqueue(waiter: Waiter): void {
    if (this.shared !== null) return this.shared.enqueue(this, waiter);
    waiter.queued = true;
    this.queue.push(waiter);
  }

  dequeue(waiter: Waiter): void {
    if (this.shared !== null) return this.shared.dequeue(this, waiter);
    const i = this.queue.indexOf(waiter);
    if (i >= 0) this.queue.splice(i, 1);
    waiter.queued = false;
  }

  private requeue(waiter: Waiter): void {
    if (waiter.server && !this.servers.includes(waiter.server)) waiter.server = null;
    this.enqueue(waiter);
    this.pump();
  }

  onServerChange(server: ServerState): void {
    this.sync(server);
    this.pump();
  }

  onTakeConn(server: ServerState): void {
    if (!server.inLb) return;
    if (this.sharedLoads) this.seen[server.id] = server.active;
    this.algorithmOf(server).onTakeConn(server);
  }

  onDropConn(server: ServerState): void {
    if (server.inLb) {
      if (this.sharedLoads) this.seen[server.id] = server.active;
      this.algorithmOf(server).onDropConn(server);
    }
    if (this.queue.length > 0) this.pump();
    if (this.shared !== null) this.shared.released(this);
  }

  /** Tells the algorithm about in-flight counts that other threads changed. */
  private refreshLoads(): void {
    const seen = this.seen;
    for (const server of this.servers) {
      if (!server.inLb) continue;
      const active = server.active;
      if (seen[server.id] === active) continue;
      seen[server.id] = active;
      this.algorithmOf(server).onDropConn(server);
    }
  }

  /** Updates the algorithm after a weight change made at run time. */
  onWeightChange(server: ServerState): void {
    if (server.inLb && server.usable) this.algorithmOf(server).onWeightChange(server);
    else this.sync(server);
    this.pump();
  }

  private algorithmOf(server: ServerState): Algorithm {
    return server.config.backup && this.backup ? this.backup : this.primary;
  }

  /** Keeps the algorithm's view and the usable-primary count in step with the server. */
  private sync(server: ServerState): void {
    const usable = server.usable;
    if (usable === server.inLb) return;
    server.inLb = usable;
    if (!server.config.backup) this.usablePrimaries += usable ? 1 : -1;
    if (server.config.backup && !this.backup) return;
    const algorithm = this.algorithmOf(server);
    if (this.sharedLoads) this.seen[server.id] = server.active;
    if (usable) algorithm.onServerUp(server);
    else algorithm.onServerDown(server);
  }

  /** Grants free slots to waiting requests, oldest first (public for workers/, which call it when a slot frees elsewhere). */
  pump(): void {
    if (this.retired) return;
    let i = 0;
    while (i < this.queue.length) {
      const waiter = this.queue[i]!;
      let server = waiter.server;
      if (server && !server.usable) server = waiter.server = null;
      if (!server) server = this.pick(undefined, null);
      if (!server) {
        if (!this.available) {
          // Nothing left to wait for: everyone in the queue gets their 503 now.
          for (const w of this.queue.splice(0)) {
            w.queued = false;
            w.abandon();
          }
        }
        return;
      }
      if (!server.tryTake()) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      waiter.queued = false;
      waiter.grant(server);
    }
  }
}

/** The id a stick table stores for a server: FNV-1a of its name, as a positive 31-bit integer (0 means none). */
export function stickId(serverName: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < serverName.length; i++) {
    h ^= serverName.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 1) || 1;
}
