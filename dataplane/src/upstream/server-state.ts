/**
 * One server's live state: what the balancer sees (weight, in-flight count), what health checks
 * decided, what an operator set, and its idle upstream connections. A ServerState outlives
 * snapshots: the runtime builder carries it over by identity (cluster, name, address, port), so a
 * new configuration keeps health, counters and pooled connections.
 */
import type { ir } from '@switchyard/api';
import type { LbServer } from '../lb/algorithm.ts';
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
  active = 0;
  /** Health as checks see it; true when the cluster has no checks. */
  healthy = true;
  admin: AdminState;
  /** The cluster runtime that currently balances this server (replaced on each snapshot swap). */
  owner: ServerOwner | null = null;
  /** Whether the owner's algorithm currently has this server (kept by the owner). */
  inLb = false;
  /** Idle keep-alive connections, most recently used last. */
  readonly idle: UpstreamConn[] = [];
  // Counters (HAProxy's stot, econ, eresp, retries, redispatches, hrsp_5xx...).
  totalRequests = 0;
  connectErrors = 0;
  responseErrors = 0;
  retries = 0;
  redispatches = 0;
  private rampTimer: ReturnType<typeof setInterval> | null = null;
  /** Left the configuration: connections it still serves close when done instead of pooling. */
  retired = false;

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
  }

  setAdmin(state: AdminState): void {
    if (this.admin === state) return;
    const wasMaint = this.admin === 'maint';
    this.admin = state;
    if (wasMaint && state === 'ready') this.startSlowStart();
    this.owner?.onServerChange(this);
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

  take(): void {
    this.active++;
    this.totalRequests++;
    this.owner?.onTakeConn(this);
  }

  drop(): void {
    this.active--;
    this.owner?.onDropConn(this);
  }

  closeIdle(): void {
    for (const conn of this.idle.splice(0)) conn.destroy();
  }
}

export function serverIdentity(cluster: string, server: ir.Server): string {
  return `${cluster}/${server.name}@${server.address}:${server.port}`;
}
