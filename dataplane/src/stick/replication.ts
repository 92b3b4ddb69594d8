/**
 * A runtime's stick tables and their replication, transport-agnostic: the transports (websocket
 * peers between pods, postMessage between threads) carry StickUpdate messages (wire.ts) and call
 * merge; nothing here does I/O or keeps a timer.
 *
 * Each origin writes only its own states; messages carry whole origin states per entry with the
 * writer's version, and a receiver keeps per entry and origin the highest version seen. Merging is
 * therefore idempotent and order-insensitive (an older state arriving late is ignored), and every
 * process that saw the same states reads the same values.
 *
 * Changes are found without scanning: each table keeps its entries in most-recently-changed order
 * with a change tick, and a feed remembers, per table, the tick it last took. A key changed 10,000
 * times between two takes is one row.
 */
import type { ir } from '@switchyard/api';
import type { StickTableLookup } from './types.ts';
import type { Entry } from './entry.ts';
import { StickTable, type NowClock } from './table.ts';
import { E_CHANGED, E_TOUCHED, FIRST_STATE, H_CHANGED, H_ORIGIN, H_UPDATED, H_VERSION, columnWidth, parseColumn } from './layout.ts';
import { WIRE_HEADER, type StickRow, type StickTableUpdate, type StickUpdate } from './wire.ts';

export type { StickRow, StickTableUpdate, StickUpdate } from './wire.ts';

export type TableFilter = (table: ir.StickTable) => boolean;
export type OriginFilter = (origin: string) => boolean;

export interface FeedOptions {
  /** Tables to include (e.g. `t => t.replicate` towards other pods); all by default. */
  tables?: TableFilter;
  /** Whose states to include; only this process's own origin by default. */
  origins?: OriginFilter;
}

/** Dropped origins remembered (their later-arriving states get conn_cur 0); the oldest are forgotten beyond. */
const MAX_DROPPED = 4096;
const DEFAULT_CHUNK = 1000;

/** The tables of a snapshot being built (StickTables.stage). */
export interface StagedTables extends StickTableLookup {
  readonly configs: readonly ir.StickTable[];
  readonly tables: ReadonlyMap<string, StickTable>;
  get(name: string): StickTable | undefined;
}

export class StickTables implements StickTableLookup {
  readonly origin: string;
  readonly #clock: NowClock;
  readonly #tables = new Map<string, StickTable>();
  readonly #dropped = new Set<string>();
  readonly #local: ChangeFeed;

  /** `clock` must be a wall clock shared by all writers (wall-clock.ts) once updates cross threads. */
  constructor(origin: string, clock: NowClock) {
    this.origin = origin;
    this.#clock = clock;
    this.#local = new ChangeFeed(this, {});
  }

  /** Creates, reconfigures (StickTable.reconfigure) or removes tables for a new snapshot, by name. */
  apply(configs: readonly ir.StickTable[]): void {
    this.commit(this.stage(configs));
  }

  /**
   * The tables a new snapshot will have, without touching the live ones: a table carried over by
   * name is the live object (reconfigured only at commit), a new one exists only in the stage. A
   * runtime compiles its rules against the stage, so a snapshot that fails to build changes nothing.
   */
  stage(configs: readonly ir.StickTable[]): StagedTables {
    const tables = new Map<string, StickTable>();
    for (const config of configs) tables.set(config.name, this.#tables.get(config.name) ?? new StickTable(config, this.origin, this.#clock));
    return { configs, get: (name) => tables.get(name), tables };
  }

  /** Makes a stage live: its tables replace the live set, carried-over ones taking their new configuration. */
  commit(staged: StagedTables): void {
    for (const config of staged.configs) {
      const table = staged.tables.get(config.name)!;
      if (this.#tables.get(config.name) === table) table.reconfigure(config);
      else this.#tables.set(config.name, table);
    }
    for (const name of [...this.#tables.keys()]) if (!staged.tables.has(name)) this.#tables.delete(name);
  }

  get(name: string): StickTable | undefined {
    return this.#tables.get(name);
  }

  tables(): IterableIterator<StickTable> {
    return this.#tables.values();
  }

  /**
   * This origin's states of the entries changed since the previous call (for the tables `filter`
   * selects), or null when none changed. One consumer: each table's changes are taken once, so a
   * second consumer (say, workers and pods wanting different tables) needs its own changeFeed.
   */
  takeLocalChanges(filter?: TableFilter): StickUpdate | null {
    return this.#local.take(filter);
  }

  /** An independent consumer of changes, with its own cursor (starting with everything held). */
  changeFeed(options: FeedOptions = {}): ChangeFeed {
    return new ChangeFeed(this, options);
  }

  /**
   * Everything held, all origins (or those `origins` selects), for a peer that just connected: in
   * updates of at most `maxRows` rows, most recently used entries first. Expired entries are left out.
   */
  fullState(filter?: TableFilter, options: { origins?: OriginFilter; maxRows?: number } = {}): StickUpdate[] {
    const max = Math.max(1, options.maxRows ?? DEFAULT_CHUNK);
    const now = this.nowMs();
    const updates: StickUpdate[] = [];
    let current: StickUpdate | null = null;
    let rows = 0;
    for (const table of this.#tables.values()) {
      if (filter !== undefined && !filter(table.config)) continue;
      const pass = originPass(table, options.origins ?? everyOrigin);
      const expire = table.config.expireMs;
      let encoder: TableEncoder | null = null;
      for (let e = table.lruHead; e !== null; e = e.lruNext) {
        if (expire !== null && e.refs === 0 && now - e.s[E_TOUCHED] >= expire) continue;
        if (current === null || rows === max) {
          current = { v: 1, origin: this.origin, sentAt: now, tables: [] };
          updates.push(current);
          rows = 0;
          encoder = null;
        }
        encoder ??= new TableEncoder(table, now);
        if (encoder.add(e, -1, pass)) {
          if (encoder.rows.length === 1) current.tables.push(encoder.update);
          rows++;
        }
      }
    }
    // An update opened for an entry without selected states may have stayed empty.
    return updates.filter((u) => u.tables.length > 0);
  }

  /**
   * Stores the states of `update` that are newer than those held (never this origin's own), for
   * tables known here with the same key type; columns this table does not store are skipped.
   * `update` must be valid (parseStickUpdate, parse-update.ts, on anything untrusted). Returns the states stored.
   */
  merge(update: StickUpdate): number {
    const now = this.nowMs();
    let stored = 0;
    for (const tu of update.tables) {
      const table = this.#tables.get(tu.name);
      if (table === undefined || table.config.type !== tu.type) continue;
      stored += this.#mergeTable(table, tu, update.sentAt, now);
    }
    return stored;
  }

  /**
   * `update` reduced to the tables `filter` selects (judged by this process's definitions; tables
   * unknown here are dropped), or null when none is left: for relaying a message as it is.
   */
  restrict(update: StickUpdate, filter: TableFilter): StickUpdate | null {
    const tables = update.tables.filter((tu) => {
      const table = this.#tables.get(tu.name);
      return table !== undefined && filter(table.config);
    });
    if (tables.length === 0) return null;
    return tables.length === update.tables.length ? update : { ...update, tables };
  }

  /**
   * A writer is gone for good (its process or thread ended): its connections are gone, so its
   * conn_cur counts no more, now and in any of its states arriving later; its rates, counters and
   * server ids stay until their entries expire. Origin ids name one process incarnation (peers/origin.ts).
   */
  dropOrigin(origin: string): void {
    if (origin === this.origin) return;
    this.#dropped.add(origin);
    if (this.#dropped.size > MAX_DROPPED) this.#dropped.delete(this.#dropped.values().next().value!);
    for (const table of this.#tables.values()) {
      const index = table.findOrigin(origin);
      const at = table.layout.off.conn_cur;
      if (index < 0 || at < 0) continue;
      const stride = table.layout.stride;
      for (let e = table.lruHead; e !== null; e = e.lruNext) {
        const s = e.s;
        for (let o = FIRST_STATE; o < s.length; o += stride) if (s[o + H_ORIGIN] === index) s[o + at] = 0;
      }
    }
  }

  /** Removes expired entries from every table; returns how many. */
  sweep(now = this.nowMs()): number {
    let removed = 0;
    for (const table of this.#tables.values()) removed += table.sweep(now);
    return removed;
  }

  nowMs(): number {
    return Math.floor(this.#clock.now());
  }

  #mergeTable(table: StickTable, tu: StickTableUpdate, sentAt: number, now: number): number {
    const layout = table.layout;
    // Per wire value after the header: where it goes in a local state (-1: not stored here), and
    // whether it is a time to decode.
    const target: number[] = [];
    const isTime: boolean[] = [];
    for (const name of tu.columns) {
      const column = parseColumn(name);
      const width = column === null ? 0 : columnWidth(column.type);
      const local = layout.columns.find((c) => c.name === name);
      for (let k = 0; k < width; k++) {
        target.push(local === undefined ? -1 : local.at + k);
        isTime.push(column!.type === 'server_id' ? k === 1 : width === 3 && k === 0);
      }
    }
    const stride = WIRE_HEADER + target.length;
    // Wire origin index -> local index; -1 for this process's own origin (never overwritten).
    const origins = tu.origins.map((o) => (o === this.origin ? -1 : table.originIndex(o)));
    const dropped = tu.origins.map((o) => this.#dropped.has(o));
    const expire = table.config.expireMs;
    const connCur = layout.off.conn_cur;
    const state = layout.blank.slice();
    let stored = 0;
    for (const row of tu.rows) {
      const key = table.convert(row[0]);
      if (key === null) continue;
      for (let w = 1; w + stride <= row.length; w += stride) {
        const wireOrigin = row[w] as number;
        const origin = origins[wireOrigin];
        if (origin === undefined || origin < 0) continue;
        for (let i = 0; i < state.length; i++) state[i] = layout.blank[i];
        const updatedAt = sentAt - (row[w + 2] as number);
        state[H_ORIGIN] = origin;
        state[H_VERSION] = sentAt - (row[w + 1] as number);
        state[H_UPDATED] = updatedAt;
        for (let k = 0; k < target.length; k++) {
          const at = target[k];
          if (at < 0) continue;
          const value = row[w + WIRE_HEADER + k] as number;
          state[at] = isTime[k] ? sentAt - value : value;
        }
        if (dropped[wireOrigin] && connCur >= 0) state[connCur] = 0;
        const fresh = expire === null || now - updatedAt < expire;
        if (table.mergeState(key, state, fresh, now)) stored++;
      }
    }
    return stored;
  }
}

/** A consumer of changes: each take returns the selected states changed since its previous take. */
export class ChangeFeed {
  readonly #owner: StickTables;
  readonly #options: FeedOptions;
  // Per table object: a table removed and added again is a new object, starting from 0.
  readonly #cursors = new WeakMap<StickTable, number>();

  constructor(owner: StickTables, options: FeedOptions) {
    this.#owner = owner;
    this.#options = options;
  }

  /** The changes since the previous take, or null; `filter` narrows the feed's own table filter. */
  take(filter?: TableFilter): StickUpdate | null {
    const now = this.#owner.nowMs();
    const tables: StickTableUpdate[] = [];
    for (const table of this.#owner.tables()) {
      if (this.#options.tables !== undefined && !this.#options.tables(table.config)) continue;
      if (filter !== undefined && !filter(table.config)) continue;
      const cursor = this.#cursors.get(table) ?? 0;
      this.#cursors.set(table, table.tick);
      if (table.tick === cursor) continue;
      const pass = originPass(table, this.#options.origins);
      const encoder = new TableEncoder(table, now);
      for (let e = table.chgHead; e !== null && e.s[E_CHANGED] > cursor; e = e.chgNext) encoder.add(e, cursor, pass);
      if (encoder.rows.length > 0) tables.push(encoder.update);
    }
    return tables.length === 0 ? null : { v: 1, origin: this.#owner.origin, sentAt: now, tables };
  }
}

const everyOrigin: OriginFilter = () => true;

/** Whether each local origin index is selected; own origin only by default. */
function originPass(table: StickTable, filter: OriginFilter | undefined): (index: number) => boolean {
  if (filter === undefined) return (index) => index === 0;
  const memo: (boolean | undefined)[] = [];
  return (index) => (memo[index] ??= filter(table.originName(index)));
}

/** Rows of one table for one message. */
class TableEncoder {
  readonly update: StickTableUpdate;
  readonly rows: StickRow[];
  readonly #table: StickTable;
  readonly #sentAt: number;
  /** Local origin index -> index in update.origins. */
  readonly #wireOrigin: number[] = [];
  /** The version of own states first sent in this message; one per message keeps versions close to the clock. */
  #version = 0;

  constructor(table: StickTable, sentAt: number) {
    this.#table = table;
    this.#sentAt = sentAt;
    this.rows = [];
    this.update = { name: table.config.name, type: table.config.type, columns: table.layout.columns.map((c) => c.name), origins: [], rows: this.rows };
  }

  /** Adds the row of `entry` with its states changed after `since` that `pass` selects; false when none. */
  add(entry: Entry, since: number, pass: (index: number) => boolean): boolean {
    const { s, layout } = entry;
    const sentAt = this.#sentAt;
    let row: StickRow | null = null;
    for (let o = FIRST_STATE; o < s.length; o += layout.stride) {
      const origin = s[o + H_ORIGIN];
      if (s[o + H_CHANGED] <= since || !pass(origin)) continue;
      // The own state gets its version when first sent after a change: every feed then sends the same one.
      if (origin === 0 && s[o + H_VERSION] === 0) s[o + H_VERSION] = this.#version ||= this.#table.nextVersion(sentAt);
      row ??= [entry.key];
      row.push(this.#originIndex(origin), sentAt - s[o + H_VERSION], sentAt - s[o + H_UPDATED]);
      for (const c of layout.columns) {
        const at = o + c.at;
        if (c.type === 'server_id') row.push(s[at], sentAt - s[at + 1]);
        else if (c.width === 3) row.push(sentAt - s[at], s[at + 1], s[at + 2]);
        else row.push(s[at]);
      }
    }
    if (row === null) return false;
    this.rows.push(row);
    return true;
  }

  #originIndex(local: number): number {
    let wire = this.#wireOrigin[local];
    if (wire === undefined) {
      wire = this.update.origins.length;
      this.update.origins.push(this.#table.originName(local));
      this.#wireOrigin[local] = wire;
    }
    return wire;
  }
}
