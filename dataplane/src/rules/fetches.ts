/**
 * The sample fetches, keyed by the catalogue's canonical names (api/src/rules/catalogue.ts
 * FETCHES; the test checks both lists agree). A factory binds a fetch's arguments once per
 * snapshot and returns:
 * - `value`: the single value a sample expression sees (HAProxy's default occurrence: the last
 *   header value, the last cookie, the first url_param), null for "no value";
 * - `each`: every value, as an ACL sees them (HAProxy SMP_OPT_ITERATE), or null when the fetch has
 *   one value or an explicit occurrence was given.
 *
 * Request fetches read `tx.req` and response fetches `tx.res`; either is missing in a TCP
 * transaction (and `res` before the response), which is "no value", not an error.
 */
import type { ir } from '@switchyard/api';
import type { MessageHead } from '../http/message-head.ts';
import type { StickTableHandle, StickTableLookup } from '../stick/types.ts';
import { countCookies, lastCookie, someCookie } from './cookies.ts';
import { countValues, lineAt, someLine, someValue, valueAt } from './header-values.ts';
import { firstParam, pathOf, queryOf, someParam } from './request-target.ts';
import type { HttpTransaction, Transaction } from './transaction.ts';
import { unmapAddress, type SampleValue, type Visit } from './values.ts';

export interface BoundFetch {
  readonly value: (tx: Transaction) => SampleValue;
  readonly each: ((tx: Transaction, visit: Visit) => boolean) | null;
}

export interface FetchContext {
  /** The snapshot's stick tables, for the `src_*` fetches (resolved once, here). */
  readonly tables: StickTableLookup;
}

/** Binds a fetch to its (catalogue-validated) arguments; throws on an argument it cannot use. */
export type FetchFactory = (args: readonly string[], context: FetchContext) => BoundFetch;

function single(value: (tx: Transaction) => SampleValue): BoundFetch {
  return { value, each: null };
}

function constant(v: SampleValue): FetchFactory {
  const fetch = single(() => v);
  return () => fetch;
}

function requestOf(tx: Transaction): MessageHead | null {
  return (tx as Partial<HttpTransaction>).req ?? null;
}

function responseOf(tx: Transaction): MessageHead | null {
  return (tx as Partial<HttpTransaction>).res ?? null;
}

/** A request fetch that reads only the head. */
function fromRequest(read: (req: MessageHead) => SampleValue): FetchFactory {
  const fetch = single((tx) => {
    const req = requestOf(tx);
    return req === null ? null : read(req);
  });
  return () => fetch;
}

function intArg(args: readonly string[], index: number, what: string): number | null {
  const text = args[index];
  if (text === undefined || text === '') return null;
  if (!/^[+-]?\d{1,15}$/.test(text)) throw new Error(`${what} must be an integer, not '${text}'`);
  return Number(text);
}

function nameArg(args: readonly string[]): string {
  const name = args[0];
  if (name === undefined || name === '') throw new Error('a name argument is required');
  return name;
}

// ---- hdr family: comma-split values (`hdr`) or whole lines (`fhdr`) ----

function headerFetch(message: (tx: Transaction) => MessageHead | null, lines: boolean): FetchFactory {
  return (args) => {
    const name = nameArg(args).toLowerCase();
    const occurrence = intArg(args, 1, 'the occurrence');
    // 0 or none: the last value for a sample, every value for a condition.
    const explicit = occurrence !== null && occurrence !== 0;
    const at = explicit ? occurrence : -1;
    const pick = lines ? lineAt : valueAt;
    const visitAll = lines ? someLine : someValue;
    return {
      value: (tx) => {
        const head = message(tx);
        return head === null ? null : pick(head, name, at);
      },
      each: explicit
        ? null
        : (tx, visit) => {
            const head = message(tx);
            return head !== null && visitAll(head, name, visit);
          },
    };
  };
}

function cookieFetch(message: (tx: Transaction) => MessageHead | null, header: 'cookie' | 'set-cookie'): FetchFactory {
  return (args) => {
    const name = args[0] ?? '';
    return {
      value: (tx) => {
        const head = message(tx);
        return head === null ? null : lastCookie(head, header, name);
      },
      each: (tx, visit) => {
        const head = message(tx);
        return head !== null && someCookie(head, header, name, visit);
      },
    };
  };
}

// ---- stick counters ----

type StickDataType = ir.StickData['type'];

function counterArg(args: readonly string[]): 0 | 1 | 2 {
  const text = args[0];
  if (text !== '0' && text !== '1' && text !== '2') throw new Error(`the stick counter must be 0, 1 or 2, not '${text ?? ''}'`);
  return Number(text) as 0 | 1 | 2;
}

function tableArg(args: readonly string[], context: FetchContext): StickTableHandle {
  const name = args[0];
  if (name === undefined || name === '') throw new Error('a stick table argument is required');
  const table = context.tables.get(name);
  if (table === undefined) throw new Error(`unknown stick table '${name}'`);
  return table;
}

/** `sc_<data>(n)`: the entry tracked in slot n; 0 when the slot tracks nothing. */
function trackedRead(type: StickDataType): FetchFactory {
  return (args) => {
    const counter = counterArg(args);
    return single((tx) => tx.trackers.get(counter)?.read(type) ?? 0);
  };
}

/** `src_<data>(table)`: the client address's entry, looked up without creating it; 0 when absent. */
function sourceRead(type: StickDataType): FetchFactory {
  return (args, context) => {
    const table = tableArg(args, context);
    return single((tx) => table.lookup(unmapAddress(tx.src))?.read(type) ?? 0);
  };
}

const HTTP_10 = '1.0';
const HTTP_11 = '1.1';

export const FETCH_TABLE: Readonly<Record<string, FetchFactory>> = {
  always_true: constant(true),
  always_false: constant(false),
  src: () => single((tx) => unmapAddress(tx.src)),
  src_port: () => single((tx) => tx.srcPort),
  dst: () => single((tx) => unmapAddress(tx.dst)),
  dst_port: () => single((tx) => tx.dstPort),
  ssl_fc: () => single((tx) => tx.ssl),
  // HAProxy's ssl_fc_sni has no value without TLS or without SNI, rather than an empty one.
  ssl_fc_sni: () => single((tx) => (tx.sni === '' ? null : tx.sni)),
  method: fromRequest((req) => req.method),
  path: fromRequest((req) => pathOf(req.target)),
  url: fromRequest((req) => req.target),
  query: fromRequest((req) => queryOf(req.target)),
  base: fromRequest((req) => {
    const path = pathOf(req.target);
    if (req.host === '') return path;
    return path === null ? req.host : req.host + path;
  }),
  'req.ver': fromRequest((req) => (req.minor === 0 ? HTTP_10 : HTTP_11)),
  url_param: (args) => {
    const name = nameArg(args);
    return {
      value: (tx) => {
        const req = requestOf(tx);
        return req === null ? null : firstParam(req.target, name);
      },
      each: (tx, visit) => {
        const req = requestOf(tx);
        return req !== null && someParam(req.target, name, visit);
      },
    };
  },
  'req.hdr': headerFetch(requestOf, false),
  'req.fhdr': headerFetch(requestOf, true),
  'req.hdr_cnt': (args) => {
    const name = nameArg(args).toLowerCase();
    return single((tx) => {
      const req = requestOf(tx);
      return req === null ? null : countValues(req, name);
    });
  },
  'req.cook': cookieFetch(requestOf, 'cookie'),
  'req.cook_cnt': (args) => {
    const name = args[0] ?? '';
    return single((tx) => {
      const req = requestOf(tx);
      return req === null ? null : countCookies(req, name);
    });
  },
  'res.hdr': headerFetch(responseOf, false),
  'res.cook': cookieFetch(responseOf, 'set-cookie'),
  status: () =>
    single((tx) => {
      const res = responseOf(tx);
      return res === null ? null : res.status;
    }),
  sc_conn_cur: trackedRead('conn_cur'),
  sc_conn_cnt: trackedRead('conn_cnt'),
  sc_conn_rate: trackedRead('conn_rate'),
  sc_http_req_cnt: trackedRead('http_req_cnt'),
  sc_http_req_rate: trackedRead('http_req_rate'),
  sc_http_err_cnt: trackedRead('http_err_cnt'),
  sc_http_err_rate: trackedRead('http_err_rate'),
  sc_bytes_out_rate: trackedRead('bytes_out_rate'),
  sc_get_gpc0: trackedRead('gpc0'),
  sc_inc_gpc0: (args) => {
    const counter = counterArg(args);
    return single((tx) => {
      const entry = tx.trackers.get(counter);
      if (entry === null) return 0;
      entry.incGpc0();
      return entry.read('gpc0');
    });
  },
  sc_clr_gpc0: (args) => {
    const counter = counterArg(args);
    return single((tx) => {
      const entry = tx.trackers.get(counter);
      if (entry === null) return 0;
      const previous = entry.read('gpc0');
      entry.clearGpc0();
      return previous;
    });
  },
  src_conn_cur: sourceRead('conn_cur'),
  src_conn_cnt: sourceRead('conn_cnt'),
  src_conn_rate: sourceRead('conn_rate'),
  src_http_req_cnt: sourceRead('http_req_cnt'),
  src_http_req_rate: sourceRead('http_req_rate'),
  src_http_err_cnt: sourceRead('http_err_cnt'),
  src_http_err_rate: sourceRead('http_err_rate'),
  src_bytes_out_rate: sourceRead('bytes_out_rate'),
  src_get_gpc0: sourceRead('gpc0'),
  // Like HAProxy, src_inc_gpc0 creates the entry when the client has none yet.
  src_inc_gpc0: (args, context) => {
    const table = tableArg(args, context);
    return single((tx) => {
      const entry = table.track(unmapAddress(tx.src));
      if (entry === null) return 0;
      entry.incGpc0();
      return entry.read('gpc0');
    });
  },
};
