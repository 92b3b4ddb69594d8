/**
 * What the peer mesh needs from the data plane's stick tables: runtime/dataplane.ts implements it
 * over `StickTables` (workers/stick-relay.ts), with worker threads over its main thread's copy.
 * Only the replicated tables (`ir.StickTable.replicate`) ever reach the mesh.
 */
import type { StickUpdate } from '../stick/replication.ts';

export interface StickReplica {
  /** Everything known of the replicated tables, every origin, in chunks: what a new peer gets first. */
  fullState(): StickUpdate[];
  /** Merges a peer's validated update (idempotent; per origin the newest wins; never this process's own origins). */
  merge(update: StickUpdate): void;
  /** A writer is gone: its current connections (conn_cur) no longer count. */
  dropOrigin(origin: string): void;
  /** This process's changes to replicated tables, as they are taken (every ~10 ms when there are any). Returns an unsubscribe. */
  onLocalChanges(listener: (update: StickUpdate) => void): () => void;
  /**
   * A snapshot added a replicated table (or changed what one stores): what peers sent for it before
   * was dropped, so every peer must send its full state again. Returns an unsubscribe.
   */
  onTablesChanged(listener: () => void): () => void;
}

/** Every origin whose states an update carries (a full state relays many, a delta its sender's). */
export function originsIn(update: StickUpdate): Set<string> {
  const out = new Set<string>();
  for (const table of update.tables) for (const origin of table.origins) out.add(origin);
  return out;
}
