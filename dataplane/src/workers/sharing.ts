/**
 * What the main thread and the worker threads do alike to a runtime's objects so that they count
 * in shared memory, and how a worker's copy of a snapshot differs from the main thread's.
 */
import type { ir } from '@switchyard/api';
import type { Cluster } from '../upstream/cluster.ts';
import type { AdminState, ServerState } from '../upstream/server-state.ts';
import type { ServerStateTuple } from './protocol.ts';
import type { SharedMemory } from './shared-memory.ts';

/** Counts the server's requests in its shared slot, and its counters in `worker`'s row (main: -1, none). */
export function shareServer(server: ServerState, memory: SharedMemory, slot: number, worker: number): void {
  server.inFlight.share(memory.counts, slot);
  if (worker >= 0) server.shareStats(memory.stats, memory.statsAt(slot, worker));
}

/** The server left the configuration: its slot is about to be given to something else. */
export function unshareServer(server: ServerState): void {
  server.inFlight.share(null);
  server.shareStats(null);
}

/**
 * Whether the cluster's balancing depends on in-flight counts: leastconn, random with several
 * draws, and any server with maxConnections (non-hashing algorithms skip full servers). Its
 * clusters then look at the shared counts before each pick (Cluster.sharedLoads).
 */
export function usesLoads(cluster: Cluster): boolean {
  const balance = cluster.config.balance;
  if (balance.algorithm === 'leastconn' || (balance.algorithm === 'random' && balance.randomDraws > 1)) return true;
  return cluster.servers.some((s) => s.maxConnections > 0);
}

/**
 * A worker thread's copy of a snapshot: no health checks and no slow start, which run once, in the
 * main thread; the worker follows the health, admin state and weight the main thread sends.
 */
export function followerSnapshot(snapshot: ir.Snapshot): ir.Snapshot {
  return {
    ...snapshot,
    clusters: snapshot.clusters.map((c) => ({
      ...c,
      health: null,
      servers: c.servers.map((s) => (s.slowStartMs === null ? s : { ...s, slowStartMs: null })),
    })),
  };
}

export function stateOf(server: ServerState): ServerStateTuple {
  return [server.identity, server.healthy, server.admin, server.weight];
}

/** A worker's server takes the state the main thread decided. */
export function follow(server: ServerState, healthy: boolean, admin: AdminState, weight: number): void {
  const weightChanged = server.weight !== weight;
  server.weight = weight;
  server.setHealthy(healthy);
  server.setAdmin(admin);
  if (weightChanged) server.owner?.onWeightChange(server);
}
