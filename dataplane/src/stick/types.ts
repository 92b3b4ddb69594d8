/**
 * CONTRACT (stick tables), shared by the rules engine, the sessions and replication.
 *
 * A table keeps, per key, one state per *origin* (a data-plane process's worker thread): counters
 * and rates are summed over origins when read, `server_id` is the most recently written one. A
 * data plane only ever writes its own origin's state; replication ships whole origin states, so
 * merging is idempotent and counters from several pods add up instead of overwriting each other.
 */
import type { ir } from '@switchyard/api';

export type StickDataType = ir.StickData['type'];

export interface StickEntry {
  readonly key: string;
  /** Current value summed over origins: counters, conn_cur, gpc0; rates over their period, sliding (HAProxy freq_ctr). 0 when the table does not store `type`. */
  read(type: StickDataType): number;
  /** The server id (ir.Server.id) most recently stored for this key, or 0. */
  serverId(): number;
  // Local updates (this origin), each refreshing the entry's expiry. No-ops for data the table does not store.
  /** Tracking started: conn_cur, conn_cnt and conn_rate go up. */
  trackStart(): void;
  /** Tracking ended: conn_cur goes down. */
  trackStop(): void;
  httpRequest(): void;
  httpError(): void;
  bytesOut(n: number): void;
  incGpc0(): void;
  clearGpc0(): void;
  setServerId(id: number): void;
}

export interface StickTableHandle {
  readonly config: ir.StickTable;
  /** The entry for `key` (converted to the table's type: ip tables take IPv4 or mapped IPv6 text, integer tables decimal text), created when missing, evicting the least recently used one when full; null when the key does not convert. */
  track(key: string): StickEntry | null;
  /** The entry for `key`, or null when absent or expired; never creates. */
  lookup(key: string): StickEntry | null;
  /** Live entries. */
  readonly size: number;
}

/** The tables of the running snapshot, by `ir.StickTable.name`. */
export interface StickTableLookup {
  get(name: string): StickTableHandle | undefined;
}

/**
 * A transaction's tracked counters sc0, sc1 and sc2 (HAProxy stkctr). `track` on a slot already
 * tracking is ignored, as in HAProxy; `release` ends tracking of all slots (conn_cur down).
 */
export interface Trackers {
  track(counter: 0 | 1 | 2, table: StickTableHandle, key: string): void;
  /** The entry tracked in slot `counter`, or null. */
  get(counter: number): StickEntry | null;
  /** Applies to every tracked entry. */
  httpRequest(): void;
  httpError(): void;
  bytesOut(n: number): void;
  release(): void;
}
