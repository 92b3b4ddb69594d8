/**
 * Test helpers for the rules engine: transactions over parsed heads, IR builders, and small
 * stick-table fakes implementing the stick/types.ts contract (counters and sliding rates over an
 * injected clock), so the tests never depend on the real tables or on wall-clock time.
 */
import assert from 'node:assert/strict';
import type { ir } from '@switchyard/api';
import { MessageHead, parseRequestHead, parseResponseHead } from '../http/message-head.ts';
import type { StickDataType, StickEntry, StickTableHandle, StickTableLookup, Trackers } from '../stick/types.ts';
import type { HttpTransaction, LogRecord, Transaction } from './transaction.ts';

// ---- heads and transactions ----

/** A request head from its lines (request line first), CRLFs added. */
export function requestHead(...lines: string[]): MessageHead {
  const head = new MessageHead();
  assert.equal(parseRequestHead(lines.join('\r\n') + '\r\n\r\n', head), null);
  return head;
}

export function responseHead(...lines: string[]): MessageHead {
  const head = new MessageHead();
  assert.equal(parseResponseHead(lines.join('\r\n') + '\r\n\r\n', head), null);
  return head;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type TestTransaction = Mutable<Transaction>;
export type TestHttpTransaction = Mutable<HttpTransaction>;

export function tcpTx(init: Partial<TestTransaction> = {}): TestTransaction {
  return {
    src: '::ffff:192.0.2.10',
    srcPort: 40000,
    dst: '::ffff:198.51.100.1',
    dstPort: 80,
    frontend: 'default/web',
    ssl: false,
    sni: '',
    trackers: new FakeTrackers(),
    tables: tablesOf(),
    ...init,
  };
}

export function httpTx(req: MessageHead, init: Partial<TestHttpTransaction> = {}): TestHttpTransaction {
  return { ...tcpTx(), req, res: null, captures: [], ...init };
}

// ---- IR builders ----

export function smp(fetch: string, args: string[] = [], ...converters: [string, ...string[]][]): ir.Sample {
  return { fetch, args, converters: converters.map(([name, ...cargs]) => ({ name, args: cargs })) };
}

export function criterion(sample: ir.Sample, method: 'str' | 'beg' | 'end' | 'sub' | 'reg' | 'dir' | 'dom', patterns: string[], ignoreCase = false): ir.Criterion {
  return { sample, method, ignoreCase, patterns };
}

/** An anonymous `{ ... }` term. */
export function term(c: ir.Criterion, negate = false): ir.ConditionTerm {
  return { negate, name: null, criteria: [c] };
}

export function acl(name: string, criteria: ir.Criterion[], negate = false): ir.ConditionTerm {
  return { negate, name, criteria };
}

export function when(...alternatives: ir.ConditionTerm[][]): ir.Condition {
  return { unless: false, any: alternatives };
}

export function unless(...alternatives: ir.ConditionTerm[][]): ir.Condition {
  return { unless: true, any: alternatives };
}

export function text(t: string): ir.LogFormatPart {
  return { kind: 'text', text: t };
}

export function emptyRules(): ir.Rules {
  return { httpRequest: [], httpResponse: [], tcpRequest: [], useBackends: [], captures: 0, log: null };
}

export function logRecord(init: Partial<LogRecord> = {}): LogRecord {
  return {
    acceptedAt: Date.UTC(2026, 10, 21, 13, 55, 36, 123),
    th: 0,
    ti: 2,
    tR: 3,
    tw: 0,
    tc: 1,
    tr: 12,
    ta: 20,
    tt: 25,
    status: 200,
    bytesOut: 1234,
    bytesIn: 321,
    backend: 'default/app',
    server: 'app-1',
    termination: '----',
    actconn: 5,
    feconn: 4,
    beconn: 3,
    srvconn: 2,
    retries: 0,
    srvQueue: 0,
    backendQueue: 0,
    method: 'GET',
    uri: '/index.html?x=1',
    version: 'HTTP/1.1',
    ...init,
  };
}

// ---- stick tables ----

export class FakeClock {
  now = 1_000_000;
}

export function stickTable(name: string, store: ir.StickData[] = [{ type: 'http_req_rate', periodMs: 10_000 }]): ir.StickTable {
  return { name, type: 'ip', keyLength: 32, size: 1000, expireMs: 30_000, store, replicate: false };
}

/** A stick entry counting events on a clock; rates count the events of the last period. */
export class FakeEntry implements StickEntry {
  readonly key: string;
  private readonly table: FakeTable;
  connCur = 0;
  gpc0 = 0;
  private readonly connections: number[] = [];
  private readonly requests: number[] = [];
  private readonly errors: number[] = [];
  private readonly bytes: [number, number][] = [];
  private server = 0;

  constructor(table: FakeTable, key: string) {
    this.table = table;
    this.key = key;
  }

  private within(type: StickDataType, times: number[]): number {
    const period = this.table.period(type);
    const since = this.table.clock.now - period;
    return times.filter((t) => t > since).length;
  }

  read(type: StickDataType): number {
    if (!this.table.stores(type)) return 0;
    switch (type) {
      case 'conn_cur':
        return this.connCur;
      case 'conn_cnt':
        return this.connections.length;
      case 'conn_rate':
        return this.within(type, this.connections);
      case 'http_req_cnt':
        return this.requests.length;
      case 'http_req_rate':
        return this.within(type, this.requests);
      case 'http_err_cnt':
        return this.errors.length;
      case 'http_err_rate':
        return this.within(type, this.errors);
      case 'bytes_out_rate': {
        const since = this.table.clock.now - this.table.period(type);
        return this.bytes.filter(([t]) => t > since).reduce((sum, [, n]) => sum + n, 0);
      }
      case 'gpc0':
        return this.gpc0;
      default:
        return 0;
    }
  }

  serverId(): number {
    return this.server;
  }

  trackStart(): void {
    this.connCur++;
    this.connections.push(this.table.clock.now);
  }

  trackStop(): void {
    this.connCur--;
  }

  httpRequest(): void {
    this.requests.push(this.table.clock.now);
  }

  httpError(): void {
    this.errors.push(this.table.clock.now);
  }

  bytesOut(n: number): void {
    this.bytes.push([this.table.clock.now, n]);
  }

  incGpc0(): void {
    this.gpc0++;
  }

  clearGpc0(): void {
    this.gpc0 = 0;
  }

  setServerId(id: number): void {
    this.server = id;
  }
}

export class FakeTable implements StickTableHandle {
  readonly config: ir.StickTable;
  readonly clock: FakeClock;
  readonly entries = new Map<string, FakeEntry>();

  constructor(config: ir.StickTable, clock = new FakeClock()) {
    this.config = config;
    this.clock = clock;
  }

  stores(type: StickDataType): boolean {
    return this.config.store.some((d) => d.type === type);
  }

  period(type: StickDataType): number {
    const data = this.config.store.find((d) => d.type === type);
    return data !== undefined && 'periodMs' in data ? data.periodMs : 0;
  }

  track(key: string): StickEntry | null {
    const k = key.startsWith('::ffff:') ? key.slice(7) : key;
    let entry = this.entries.get(k);
    if (entry === undefined) {
      entry = new FakeEntry(this, k);
      this.entries.set(k, entry);
    }
    return entry;
  }

  lookup(key: string): StickEntry | null {
    return this.entries.get(key.startsWith('::ffff:') ? key.slice(7) : key) ?? null;
  }

  get size(): number {
    return this.entries.size;
  }
}

export function tablesOf(...tables: FakeTable[]): StickTableLookup {
  const byName = new Map(tables.map((t) => [t.config.name, t]));
  return { get: (name) => byName.get(name) };
}

/** Trackers as the contract describes them: a slot already tracking ignores track(). */
export class FakeTrackers implements Trackers {
  readonly slots: (StickEntry | null)[] = [null, null, null];
  trackCalls = 0;

  track(counter: 0 | 1 | 2, table: StickTableHandle, key: string): void {
    this.trackCalls++;
    if (this.slots[counter] !== null) return;
    const entry = table.track(key);
    if (entry === null) return;
    entry.trackStart();
    this.slots[counter] = entry;
  }

  get(counter: number): StickEntry | null {
    return this.slots[counter] ?? null;
  }

  httpRequest(): void {
    for (const e of this.slots) e?.httpRequest();
  }

  httpError(): void {
    for (const e of this.slots) e?.httpError();
  }

  bytesOut(n: number): void {
    for (const e of this.slots) e?.bytesOut(n);
  }

  release(): void {
    for (let i = 0; i < 3; i++) {
      this.slots[i]?.trackStop();
      this.slots[i] = null;
    }
  }
}
