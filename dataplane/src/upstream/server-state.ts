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
  onTakeConn(server: ServerState): void;
  onDropConn(server: ServerState): void;
}

export class ServerState implements LbServer {
  readonly id: number;
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
    this.weight = config.weight;
    this.maxConnections = config.maxConnections;
  }

  setHealthy(up: boolean): void {
    if (this.healthy === up) return;
    this.healthy = up;
    if (!up) this.closeIdle();
    this.owner?.onServerChange(this);
  }

  setAdmin(state: AdminState): void {
    if (this.admin === state) return;
    this.admin = state;
    this.owner?.onServerChange(this);
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
