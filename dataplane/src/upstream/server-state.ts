/**
 * One server's live state: what the balancer sees (weight, in-flight count), what health checks
 * decided, what an operator set, and its idle upstream connections. A ServerState outlives
 * snapshots: the runtime builder carries it over by identity (cluster, name, address, port), so a
 * new configuration keeps health, counters and pooled connections.
 */
import type { ir } from '@switchyard/api';
import type { LbServer } from '../lb/algorithm.ts';
import { InFlight } from './in-flight.ts';
import type { UpstreamConn } from './upstream-conn.ts';

export type AdminState = 'ready' | 'drain' | 'maint';

/** What a cluster does when a server's usability changes or a slot frees up. */
export interface ServerOwner {
  onServerChange(server: ServerState): void;
  onWeightChange(server: ServerState): void;
  onTakeConn(server: ServerState): void;
  onDropConn(server: ServerState): void;
}

export class ServerState implements LbServer {
  /** Position in the live snapshot's server list; changes when servers are inserted before it. */
  id: number;
  readonly name: string;
  readonly identity: string;
  readonly cluster: string;
  config: ir.Server;
  weight: number;
  maxConnections: number;
  /** Requests in flight; shared by every worker thread when there are several (workers/). */
  readonly inFlight = new InFlight();
  /** Health as checks see it; true when the cluster has no checks. */
  healthy = true;
  admin: AdminState;
  /** The cluster runtime that currently balances this server (replaced on each snapshot swap). */
  owner: ServerOwner | null = null;
  /** Whether the owner's algorithm currently has this server (kept by the owner). */
  inLb = false;
  /** Idle keep-alive connections, most recently used last. */
  readonly idle: UpstreamConn[] = [];
  /**
   * Counters (HAProxy's stot, econ, eresp, retries, redispatches), SERVER_COUNTERS numbers from
   * `statsAt` in `stats`: this server's own array, or with worker threads this thread's row of
   * shared memory, which the main thread adds up (workers/shared-memory.ts).
   */
  private stats: Float64Array = new Float64Array(SERVER_COUNTERS);
  private statsAt = 0;
  private rampTimer: ReturnType<typeof setInterval> | null = null;
  /** Left the configuration: connections it still serves close when done instead of pooling. */
  retired = false;
  /**
   * Told of every health (up/down) and admin state transition, after the owner; the data plane
   * sets it to feed health reports. Not called on the request path.
   */
  onStateChange: ((server: ServerState) => void) | null = null;

  get totalRequests(): number {
    return this.stats[this.statsAt]!;
  }
  set totalRequests(n: number) {
    this.stats[this.statsAt] = n;
  }
  get connectErrors(): number {
    return this.stats[this.statsAt + 1]!;
  }
  set connectErrors(n: number) {
    this.stats[this.statsAt + 1] = n;
  }
  get responseErrors(): number {
    return this.stats[this.statsAt + 2]!;
  }
  set responseErrors(n: number) {
    this.stats[this.statsAt + 2] = n;
  }
  get retries(): number {
    return this.stats[this.statsAt + 3]!;
  }
  set retries(n: number) {
    this.stats[this.statsAt + 3] = n;
  }
  get redispatches(): number {
    return this.stats[this.statsAt + 4]!;
  }
  set redispatches(n: number) {
    this.stats[this.statsAt + 4] = n;
  }

  /** Moves the counters, with their values, to `stats` at `at` (or back to an array of their own, with null). */
  shareStats(stats: Float64Array | null, at = 0): void {
    const own: Float64Array = stats ?? new Float64Array(SERVER_COUNTERS);
    const base = stats === null ? 0 : at;
    if (own === this.stats && base === this.statsAt) return;
    for (let i = 0; i < SERVER_COUNTERS; i++) own[base + i] = this.stats[this.statsAt + i]!;
    this.stats = own;
    this.statsAt = base;
  }

  constructor(cluster: string, config: ir.Server) {
    this.cluster = cluster;
    this.id = config.id;
    this.name = config.name;
    this.identity = serverIdentity(cluster, config);
    this.config = config;
    this.weight = config.weight;
    this.maxConnections = config.maxConnections;
    this.admin = config.disabled ? 'maint' : 'ready';
  }

  /** May take new, non-persistent traffic. */
  get usable(): boolean {
    return this.healthy && this.admin === 'ready' && this.weight > 0;
  }

  /** Requests in flight (over every worker thread). */
  get active(): number {
    return this.inFlight.value;
  }

  get full(): boolean {
    return this.maxConnections > 0 && this.active >= this.maxConnections;
  }

  /** Applies a new snapshot's settings for the same identity. */
  reconfigure(config: ir.Server): void {
    if (config.disabled !== this.config.disabled) this.admin = config.disabled ? 'maint' : 'ready';
    this.config = config;
    this.id = config.id;
    this.maxConnections = config.maxConnections;
    if (this.rampTimer === null) this.weight = config.weight;
  }

  setHealthy(up: boolean): void {
    if (this.healthy === up) return;
    this.healthy = up;
    if (up) this.startSlowStart();
    else {
      this.stopSlowStart();
      this.closeIdle();
    }
    this.owner?.onServerChange(this);
    this.onStateChange?.(this);
  }

  setAdmin(state: AdminState): void {
    if (this.admin === state) return;
    const wasMaint = this.admin === 'maint';
    this.admin = state;
    if (wasMaint && state === 'ready') this.startSlowStart();
    this.owner?.onServerChange(this);
    this.onStateChange?.(this);
  }

  /**
   * HAProxy's slowstart: a server coming back up starts at weight 1 and ramps linearly to its
   * configured weight over `slowStartMs`, so a cold server is not flooded the moment it returns.
   */
  private startSlowStart(): void {
    const total = this.config.slowStartMs;
    if (total === null || total <= 0 || this.config.weight <= 1) return;
    this.stopSlowStart();
    const started = performance.now();
    this.weight = 1;
    this.rampTimer = setInterval(() => {
      const fraction = Math.min(1, (performance.now() - started) / total);
      const weight = Math.max(1, Math.ceil(this.config.weight * fraction));
      if (fraction >= 1) this.stopSlowStart();
      if (weight !== this.weight) {
        this.weight = weight;
        this.owner?.onWeightChange(this);
      }
    }, Math.max(50, total / 20));
    this.rampTimer.unref();
  }

  private stopSlowStart(): void {
    if (this.rampTimer !== null) clearInterval(this.rampTimer);
    this.rampTimer = null;
  }

  /** Stops background work when the server leaves the configuration. */
  retire(): void {
    this.retired = true;
    this.stopSlowStart();
    this.closeIdle();
  }

  /** Counts a request in, whatever maxConnections says (the caller checked `full`). */
  take(): void {
    this.inFlight.add();
    this.totalRequests++;
    this.owner?.onTakeConn(this);
  }

  /**
   * Counts a request in if the server is below maxConnections: false when full. With worker
   * threads this is a compare-and-swap on the shared count, so the limit holds across threads.
   */
  tryTake(): boolean {
    if (!this.inFlight.tryAdd(this.maxConnections)) return false;
    this.totalRequests++;
    this.owner?.onTakeConn(this);
    return true;
  }

  /** Counts in a request whose slot another thread already reserved for this one (workers/). */
  adopt(): void {
    this.inFlight.adopt();
    this.totalRequests++;
    this.owner?.onTakeConn(this);
  }

  drop(): void {
    this.inFlight.sub();
    this.owner?.onDropConn(this);
  }

  closeIdle(): void {
    for (const conn of this.idle.splice(0)) conn.destroy();
  }
}

/** How many counters a server has (see ServerState.stats). */
export const SERVER_COUNTERS = 5;

export function serverIdentity(cluster: string, server: ir.Server): string {
  return `${cluster}/${server.name}@${server.address}:${server.port}`;
}
