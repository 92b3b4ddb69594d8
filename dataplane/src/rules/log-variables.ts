/**
 * The log-format variables (api/src/rules/catalogue.ts LOG_VARIABLES; the test checks both lists
 * agree), as HAProxy's build_logline prints them. Three kinds:
 * - text: quoted by `%{+Q}`; absent or empty prints `-` in a log line (HAProxy's "mandatory"
 *   option of log-format) and nothing in a header value;
 * - number: printed as is, never quoted (HAProxy ignores +Q on numbers);
 * - custom: prints itself, honouring +Q where HAProxy does (captures, request line) and not
 *   where it does not (dates, termination state).
 *
 * Connection variables (`%ci`, `%fp`, `%f`...) read the transaction; the request line variables
 * (`%r`, `%HM`, `%HU`...) read the LogRecord in a log line (the request as it arrived, before any
 * rewrite) and the current request head in a header value; everything else needs the LogRecord
 * and prints nothing without one.
 */
import os from 'node:os';
import type { MessageHead } from '../http/message-head.ts';
import { gmtLogDate, localLogDate, pad3 } from './log-dates.ts';
import { encodeHeaderCapture, encodeUrl } from './log-encoding.ts';
import type { HttpTransaction, LogRecord, Transaction } from './transaction.ts';
import { unmapAddress } from './values.ts';

export type LogVariable =
  | { kind: 'text'; read: (tx: Transaction, record: LogRecord | null) => string | null }
  | { kind: 'number'; read: (tx: Transaction, record: LogRecord | null) => number | null }
  | { kind: 'custom'; render: (tx: Transaction, record: LogRecord | null, quote: boolean) => string };

const HOSTNAME = os.hostname();
const BADREQ = '<BADREQ>';

function text(read: (tx: Transaction, record: LogRecord | null) => string | null): LogVariable {
  return { kind: 'text', read };
}

function number(read: (tx: Transaction, record: LogRecord | null) => number | null): LogVariable {
  return { kind: 'number', read };
}

function recordNumber(read: (record: LogRecord) => number): LogVariable {
  return number((_tx, record) => (record === null ? null : read(record)));
}

function recordText(read: (record: LogRecord) => string): LogVariable {
  return text((_tx, record) => (record === null ? null : read(record)));
}

function quoted(value: string, quote: boolean): string {
  return quote ? `"${value}"` : value;
}

/** A variable of the record HAProxy prints as is, never quoted (dates, termination state); nothing without a record. */
function recordRaw(format: (record: LogRecord) => string): LogVariable {
  return { kind: 'custom', render: (_tx, record) => (record === null ? '' : format(record)) };
}

function capturesOf(tx: Transaction): readonly (string | null)[] {
  return (tx as Partial<HttpTransaction>).captures ?? [];
}

/** `%hr`: `{a|b}`, empty captures as nothing; no braces at all when the frontend captures nothing. */
function renderCaptures(tx: Transaction, quote: boolean): string {
  const captures = capturesOf(tx);
  if (captures.length === 0) return '';
  let out = '{';
  for (let i = 0; i < captures.length; i++) {
    if (i > 0) out += '|';
    const c = captures[i];
    if (c !== null && c !== undefined) out += encodeHeaderCapture(c);
  }
  return quoted(out + '}', quote);
}

/** `%hrl`: space separated, `-` for an empty capture (or `""` quoted, each one). */
function renderCaptureList(tx: Transaction, quote: boolean): string {
  const captures = capturesOf(tx);
  let out = '';
  for (let i = 0; i < captures.length; i++) {
    if (i > 0) out += ' ';
    const c = captures[i];
    const value = c === null || c === undefined ? (quote ? '' : '-') : encodeHeaderCapture(c);
    out += quoted(value, quote);
  }
  return out;
}

/** The request line's parts: from the record (as received) in a log line, from the head otherwise. */
interface RequestLine {
  method: string;
  uri: string;
  version: string;
}

const scratch: RequestLine = { method: '', uri: '', version: '' };

function requestLine(tx: Transaction, record: LogRecord | null): RequestLine | null {
  if (record !== null) {
    if (record.method === '') return null;
    scratch.method = record.method;
    scratch.uri = record.uri;
    scratch.version = record.version;
    return scratch;
  }
  const req: MessageHead | undefined = (tx as Partial<HttpTransaction>).req;
  if (req === undefined || req.method === '') return null;
  scratch.method = req.method;
  scratch.uri = req.target;
  scratch.version = req.minor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
  return scratch;
}

/** A request line variable, `<BADREQ>` when there is no request (a TCP session, an unparsable head). */
function line(part: (l: RequestLine) => string): LogVariable {
  return {
    kind: 'custom',
    render: (tx, record, quote) => {
      const l = requestLine(tx, record);
      return quoted(l === null ? BADREQ : encodeUrl(part(l)), quote);
    },
  };
}

function uriPath(uri: string): string {
  const q = uri.indexOf('?');
  return q < 0 ? uri : uri.slice(0, q);
}

function uriQuery(uri: string): string {
  const q = uri.indexOf('?');
  return q < 0 ? '' : uri.slice(q);
}

/** Tq: -1 when the request head never completed, as HAProxy. */
function requestTime(r: LogRecord): number {
  return r.tR < 0 ? -1 : Math.max(r.th, 0) + Math.max(r.ti, 0) + r.tR;
}

export const LOG_VARIABLE_TABLE: Readonly<Record<string, LogVariable>> = {
  ci: text((tx) => unmapAddress(tx.src)),
  cp: number((tx) => tx.srcPort),
  fi: text((tx) => unmapAddress(tx.dst)),
  fp: number((tx) => tx.dstPort),
  // The LogRecord does not carry the server-side connection's addresses: printed as HAProxy does
  // when there is no server connection.
  bi: text(() => null),
  bp: text(() => null),
  si: text(() => null),
  sp: text(() => null),
  f: text((tx) => tx.frontend),
  // HAProxy marks a frontend whose bind terminates TLS with `~`.
  ft: text((tx) => (tx.ssl ? `${tx.frontend}~` : tx.frontend)),
  b: recordText((r) => r.backend),
  s: recordText((r) => r.server),
  t: recordRaw((r) => localLogDate(r.acceptedAt)),
  // The request date: accept date plus handshake and idle time (HAProxy %tr).
  tr: recordRaw((r) => localLogDate(r.acceptedAt + (r.ti >= 0 ? r.ti + Math.max(r.th, 0) : 0))),
  T: recordRaw((r) => gmtLogDate(r.acceptedAt)),
  Ts: recordNumber((r) => Math.floor(r.acceptedAt / 1000)),
  ms: recordRaw((r) => pad3(r.acceptedAt - Math.floor(r.acceptedAt / 1000) * 1000)),
  Th: recordNumber((r) => r.th),
  Ti: recordNumber((r) => r.ti),
  TR: recordNumber((r) => r.tR),
  Tq: recordNumber(requestTime),
  Tw: recordNumber((r) => r.tw),
  Tc: recordNumber((r) => r.tc),
  Tr: recordNumber((r) => r.tr),
  Ta: recordNumber((r) => r.ta),
  Tt: recordNumber((r) => r.tt),
  ST: recordNumber((r) => r.status),
  B: recordNumber((r) => r.bytesOut),
  U: recordNumber((r) => r.bytesIn),
  tsc: recordRaw((r) => r.termination),
  ts: recordRaw((r) => r.termination.slice(0, 2)),
  ac: recordNumber((r) => r.actconn),
  fc: recordNumber((r) => r.feconn),
  bc: recordNumber((r) => r.beconn),
  sc: recordNumber((r) => r.srvconn),
  rc: recordNumber((r) => r.retries),
  sq: recordNumber((r) => r.srvQueue),
  bq: recordNumber((r) => r.backendQueue),
  hr: { kind: 'custom', render: (tx, _record, quote) => renderCaptures(tx, quote) },
  hrl: { kind: 'custom', render: (tx, _record, quote) => renderCaptureList(tx, quote) },
  r: line((l) => `${l.method} ${l.uri} ${l.version}`),
  HM: line((l) => l.method),
  HU: line((l) => l.uri),
  HP: line((l) => uriPath(l.uri)),
  HQ: line((l) => uriQuery(l.uri)),
  HV: line((l) => l.version),
  H: text(() => HOSTNAME),
  pid: number(() => process.pid),
};
