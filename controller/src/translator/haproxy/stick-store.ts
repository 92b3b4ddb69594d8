/**
 * A stick table's `store` entries (`http_req_rate(10s)`, `conn_cur`; several may share an entry
 * separated by commas, as in HAProxy's `store` line) as `ir.StickData`.
 */
import { Duration, parseDuration } from '@switchyard/api';
import type { ir } from '@switchyard/api';
import { suggest } from '../field-errors.ts';
import { fail, quoted } from './parse-error.ts';

type Counter = Exclude<ir.StickData, { periodMs: number }>['type'];
type Rate = Extract<ir.StickData, { periodMs: number }>['type'];

/** server_id is Backend persistence's business: a Frontend table cannot store it. */
const COUNTERS: readonly Counter[] = ['conn_cur', 'conn_cnt', 'http_req_cnt', 'http_err_cnt', 'bytes_out_cnt', 'gpc0'];
const RATES: readonly Rate[] = ['conn_rate', 'http_req_rate', 'http_err_rate', 'bytes_out_rate', 'gpc0_rate'];
export const STORE_TYPES: readonly string[] = [...COUNTERS, ...RATES];

const ITEM_RE = /^([A-Za-z0-9_]*)(?:\((.*)\))?$/;

/** The data types of one `store` entry. */
export function parseStoreEntry(source: string): ir.StickData[] {
  const out: ir.StickData[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= source.length; i++) {
    const c = source[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (i === source.length || (c === ',' && depth === 0)) {
      out.push(parseItem(source.slice(start, i), start));
      start = i + 1;
    }
  }
  return out;
}

function parseItem(item: string, at: number): ir.StickData {
  const m = ITEM_RE.exec(item);
  if (!m || m[1] === '') fail(at, `expected a data type such as http_req_rate(10s) or conn_cur, got ${quoted(item)}`);
  const name = m[1]!;
  const period = m[2];
  if ((COUNTERS as readonly string[]).includes(name)) {
    if (period !== undefined) fail(at + name.length, `${name} is a counter and takes no period`);
    return { type: name as Counter };
  }
  if ((RATES as readonly string[]).includes(name)) {
    if (period === undefined) fail(at + name.length, `${name} needs a period, e.g. ${name}(10s)`);
    const ms = Duration.safeParse(period).success ? parseDuration(period) : 0;
    if (ms <= 0) fail(at + name.length + 1, `${name} needs a period greater than 0 such as 10s, got ${quoted(period)}`);
    return { type: name as Rate, periodMs: ms };
  }
  if (name === 'server_id') fail(at, 'server_id is stored by Backend stick persistence, not by a Frontend table');
  const hint = suggest(name, STORE_TYPES);
  return fail(at, `unknown data type ${quoted(name)}${hint ? ` (did you mean ${hint}?)` : ''}; expected one of ${STORE_TYPES.join(', ')}`);
}
