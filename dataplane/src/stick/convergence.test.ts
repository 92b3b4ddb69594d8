/**
 * Property-style: random operations on three origins, updates delivered late, out of order and
 * twice; once everything is delivered every instance (and a newcomer fed full states) reads the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ir } from '@switchyard/api';
import { StickTables, type StickUpdate } from './replication.ts';
import type { StickEntry } from './types.ts';
import { ManualClock, overTheWire, stickTableConfig } from './testing.ts';

const STORE: ir.StickData[] = [
  { type: 'bytes_out_cnt' },
  { type: 'bytes_out_rate', periodMs: 3_000 },
  { type: 'conn_cnt' },
  { type: 'conn_cur' },
  { type: 'conn_rate', periodMs: 1_000 },
  { type: 'gpc0' },
  { type: 'gpc0_rate', periodMs: 2_000 },
  { type: 'http_err_cnt' },
  { type: 'http_err_rate', periodMs: 10_000 },
  { type: 'http_req_cnt' },
  { type: 'http_req_rate', periodMs: 10_000 },
  { type: 'server_id' },
];
const TYPES = STORE.map((d) => d.type);
const KEYS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '::ffff:10.0.0.4', '10.0.0.5'];
const ORIGINS = ['dp-a/1/w0', 'dp-a/1/w1', 'dp-b/2/w0'];

/** mulberry32: a small seeded generator, so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function run(seed: number): void {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const clock = new ManualClock(1_700_000_000_000);
  const config = stickTableConfig(STORE, { replicate: true });
  const nodes = ORIGINS.map((origin) => {
    const tables = new StickTables(origin, clock);
    tables.apply([config]);
    return { tables, tracked: [] as StickEntry[], inbox: [] as StickUpdate[] };
  });

  for (let step = 0; step < 3_000; step++) {
    const node = pick(nodes);
    const table = node.tables.get(config.name)!;
    const entry = table.track(pick(KEYS))!;
    const op = rnd();
    if (op < 0.1) {
      entry.trackStart();
      node.tracked.push(entry);
    } else if (op < 0.18) {
      node.tracked.splice(Math.floor(rnd() * node.tracked.length), 1)[0]?.trackStop();
    } else if (op < 0.45) {
      entry.httpRequest();
    } else if (op < 0.5) {
      entry.httpError();
    } else if (op < 0.55) {
      entry.bytesOut(1 + Math.floor(rnd() * 5_000));
    } else if (op < 0.6) {
      entry.incGpc0();
    } else if (op < 0.62) {
      entry.clearGpc0();
    } else if (op < 0.66) {
      entry.setServerId(1 + Math.floor(rnd() * 5));
    } else if (op < 0.8) {
      clock.advance(Math.floor(rnd() * (rnd() < 0.1 ? 5_000 : 300)));
    } else if (op < 0.9) {
      const update = node.tables.takeLocalChanges();
      if (update !== null) for (const other of nodes) if (other !== node) other.inbox.push(overTheWire(update));
    } else {
      // Deliver one waiting update, not necessarily the oldest; sometimes keep a copy for later.
      const target = pick(nodes);
      if (target.inbox.length > 0) {
        const i = Math.floor(rnd() * target.inbox.length);
        const update = target.inbox[i];
        if (rnd() < 0.8) target.inbox.splice(i, 1);
        target.tables.merge(update);
      }
    }
  }

  // Deliver everything still waiting, in random order, then the last changes of each.
  for (const node of nodes) {
    while (node.inbox.length > 0) node.tables.merge(node.inbox.splice(Math.floor(rnd() * node.inbox.length), 1)[0]);
  }
  const last = nodes.map((n) => n.tables.takeLocalChanges());
  nodes.forEach((node, i) => last.forEach((u, j) => u !== null && i !== j && node.tables.merge(overTheWire(u))));

  const newcomer = new StickTables('dp-c/3/w0', clock);
  newcomer.apply([config]);
  for (const u of nodes[0].tables.fullState(undefined, { maxRows: 2 })) newcomer.merge(overTheWire(u));

  clock.advance(Math.floor(rnd() * 2_000));
  for (const key of KEYS) {
    const readings = [...nodes.map((n) => n.tables), newcomer].map((tables) => {
      const entry = tables.get(config.name)!.lookup(key);
      return entry === null ? null : TYPES.map((type) => `${type}=${entry.read(type)}`).join(' ');
    });
    for (const r of readings) assert.equal(r, readings[0], `seed ${seed}, key ${key}`);
  }
}

test('three origins exchanging updates in any order read the same values', () => {
  for (let seed = 1; seed <= 25; seed++) run(seed);
});
