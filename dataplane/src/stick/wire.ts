/**
 * The replication message: plain data (JSON and structured clone alike), entry states rather than
 * events, so a hot key costs one row per message however often it changed in between.
 *
 * A table's rows share its `columns` (the stored data types, rates with their period) and its
 * `origins` (the writers the rows' states come from). A row is [key, ...states], each state
 * `3 + sum(widths)` numbers:
 *
 *   originIndex, sentAt - version, sentAt - updatedAt, ...one value per column width:
 *     counter    value (gpc0 may be negative: see StickEntry.clearGpc0)
 *     server_id  id, sentAt - writtenAt (writtenAt -1: never)
 *     rate       sentAt - currStart, curr, prev
 *
 * Times (and versions, which start from the clock) travel as differences from `sentAt`: mostly
 * small numbers instead of 13 digits each. All numbers are integers, so decoding is exact and a
 * state relayed in another message (another sentAt) comes out identical.
 */
import type { ir } from '@switchyard/api';

export const WIRE_HEADER = 3;

export interface StickUpdate {
  v: 1;
  /** The sending process's own origin; states inside may be others' (a full state relays all). */
  origin: string;
  /** The sender's wall clock, epoch ms. Times inside are relative to it; receivers may also use it to measure lag. */
  sentAt: number;
  tables: StickTableUpdate[];
}

export interface StickTableUpdate {
  /** ir.StickTable.name. */
  name: string;
  /** Key type: a receiver whose table has another type ignores this table. */
  type: ir.StickTable['type'];
  /** `conn_cur`, `server_id`, `http_req_rate(10000)`...: a receiver takes the columns it stores too. */
  columns: string[];
  origins: string[];
  rows: StickRow[];
}

export type StickRow = [key: string, ...states: number[]];
