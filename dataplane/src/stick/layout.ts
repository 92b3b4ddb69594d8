/**
 * Where each stored data type lives in an origin state. An entry keeps all its origin states in
 * one flat number array (stride numbers each) rather than an object per origin or per counter:
 * 100k entries times a few origins is a few arrays, not a few hundred thousand objects.
 *
 * The array starts with two numbers of the entry itself, [touchedAt, changeTick] (kept there, not
 * in object fields, because a number beyond 2^30 in a field is a heap allocation on every write,
 * and these are written on every request), then the states.
 *
 * A state: [origin, version, updatedAt, changedTick, ...columns], a column being
 * - a counter (conn_cur, conn_cnt, http_req_cnt, http_err_cnt, bytes_out_cnt, gpc0): its value;
 * - server_id: [id, writtenAt] (writtenAt -1: never written, so it loses to any write);
 * - a rate: [currStart, curr, prev] (freq-counter.ts).
 * `origin` indexes the table's origin names (0 is this process's own origin), `version` is the
 * writer's sequence (0 on the own state: changed since last stamped, see replication), `updatedAt`
 * the writer's clock at its last write, `changedTick` the table's local change counter when this
 * state last changed here (local write or merge), which change feeds compare with their cursor.
 */
import type { ir } from '@switchyard/api';
import type { StickDataType } from './types.ts';
import { FREQ_WIDTH } from './freq-counter.ts';

/** The entry's last use (local, or a fresh remote update): it expires `expireMs` after it. */
export const E_TOUCHED = 0;
/** The table's change tick when a state of the entry last changed here (0: never). */
export const E_CHANGED = 1;
/** Where the first state starts. */
export const FIRST_STATE = 2;

export const H_ORIGIN = 0;
export const H_VERSION = 1;
export const H_UPDATED = 2;
export const H_CHANGED = 3;
export const HEADER = 4;

export type RateType = Extract<ir.StickData, { periodMs: number }>['type'];
export type CounterType = Exclude<StickDataType, RateType | 'server_id'>;

export const COUNTER_TYPES: readonly CounterType[] = ['conn_cur', 'conn_cnt', 'http_req_cnt', 'http_err_cnt', 'bytes_out_cnt', 'gpc0'];
export const RATE_TYPES: readonly RateType[] = ['conn_rate', 'http_req_rate', 'http_err_rate', 'bytes_out_rate', 'gpc0_rate'];

export interface Column {
  readonly type: StickDataType;
  /** Rates only, else 0. */
  readonly period: number;
  /** `http_req_rate(10000)`, `conn_cur`: what a column is called in replication messages. */
  readonly name: string;
  readonly width: number;
  /** Offset in a state. */
  readonly at: number;
}

export interface Layout {
  readonly stride: number;
  readonly columns: readonly Column[];
  /** Offset of each type in a state, -1 when not stored. */
  readonly off: Readonly<Record<StickDataType, number>>;
  /** Period of each stored rate; 0 for other types and rates not stored. */
  readonly period: Readonly<Record<StickDataType, number>>;
  /** A state nobody wrote yet (origin 0). */
  readonly blank: readonly number[];
}

export function isRate(type: StickDataType): type is RateType {
  return (RATE_TYPES as readonly string[]).includes(type);
}

export function columnWidth(type: StickDataType): number {
  return type === 'server_id' ? 2 : isRate(type) ? FREQ_WIDTH : 1;
}

export function columnName(type: StickDataType, period: number): string {
  return isRate(type) ? `${type}(${period})` : type;
}

const COLUMN_NAME = /^([a-z0-9_]+)(?:\((\d{1,10})\))?$/;

/** The type and period a column name stands for, or null for a name this version does not know. */
export function parseColumn(name: string): { type: StickDataType; period: number } | null {
  const m = COLUMN_NAME.exec(name);
  if (m === null) return null;
  const type = m[1] as StickDataType;
  if (isRate(type)) {
    const period = m[2] === undefined ? NaN : Number(m[2]);
    return period > 0 ? { type, period } : null;
  }
  if (m[2] !== undefined) return null;
  return type === 'server_id' || (COUNTER_TYPES as readonly string[]).includes(type) ? { type, period: 0 } : null;
}

export function layoutOf(store: readonly ir.StickData[]): Layout {
  const off = {
    server_id: -1, conn_cur: -1, conn_cnt: -1, http_req_cnt: -1, http_err_cnt: -1, bytes_out_cnt: -1, gpc0: -1,
    conn_rate: -1, http_req_rate: -1, http_err_rate: -1, bytes_out_rate: -1, gpc0_rate: -1,
  };
  const period = { ...off };
  for (const type of Object.keys(period) as StickDataType[]) period[type] = 0;
  const columns: Column[] = [];
  let at = HEADER;
  for (const data of store) {
    if (off[data.type] >= 0) continue; // one column per type, as HAProxy
    const p = 'periodMs' in data ? Math.max(1, Math.floor(data.periodMs)) : 0;
    const width = columnWidth(data.type);
    columns.push({ type: data.type, period: p, name: columnName(data.type, p), width, at });
    off[data.type] = at;
    if ('periodMs' in data) period[data.type] = p;
    at += width;
  }
  const blank: number[] = [];
  for (let i = 0; i < at; i++) blank.push(0);
  if (off.server_id >= 0) blank[off.server_id + 1] = -1;
  return { stride: at, columns, off, period, blank };
}

export function sameLayout(a: Layout, b: Layout): boolean {
  return a.columns.length === b.columns.length && a.columns.every((c, i) => c.name === b.columns[i].name);
}

/** A blank state of `layout` for origin index `origin`, appended to `out`. */
export function pushBlank(out: number[], layout: Layout, origin: number): void {
  const start = out.length;
  for (const v of layout.blank) out.push(v);
  out[start + H_ORIGIN] = origin;
}

/**
 * The states of `s` (laid out by `from`) laid out by `to`: columns both have are kept, the others
 * start blank, columns `to` lacks are dropped. A rate whose period changed is another column.
 */
export function relayout(s: readonly number[], from: Layout, to: Layout): number[] {
  const out: number[] = [];
  for (let i = 0; i < FIRST_STATE; i++) out.push(s[i]);
  for (let o = FIRST_STATE; o < s.length; o += from.stride) {
    const base = out.length;
    pushBlank(out, to, s[o + H_ORIGIN]);
    for (let h = 0; h < HEADER; h++) out[base + h] = s[o + h];
    for (const c of to.columns) {
      const old = from.columns.find((f) => f.name === c.name);
      if (old !== undefined) for (let k = 0; k < c.width; k++) out[base + c.at + k] = s[o + old.at + k];
    }
  }
  return out;
}
