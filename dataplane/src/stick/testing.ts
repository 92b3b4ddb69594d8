/**
 * For tests (here and elsewhere): stick tables without any transport. A StickTables needs only an
 * origin id and something with now(); `exchange` plays the transport between instances.
 */
import type { ir } from '@switchyard/api';
import type { NowClock } from './table.ts';
import { parseStickUpdate } from './parse-update.ts';
import type { StickTables, StickUpdate } from './replication.ts';

/** Time that only moves when told to (epoch-like milliseconds, any start). */
export class ManualClock implements NowClock {
  #now: number;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.#now += ms;
  }

  set(ms: number): void {
    this.#now = ms;
  }
}

/** A table definition with test defaults: an ip table of 100 entries, no expiry, storing `store`. */
export function stickTableConfig(store: ir.StickData[], overrides: Partial<ir.StickTable> = {}): ir.StickTable {
  return { name: 'frontend:default/web', type: 'ip', keyLength: 32, size: 100, expireMs: null, store, replicate: false, ...overrides };
}

/** Through JSON and the validator, as a peer would receive it. */
export function overTheWire(update: StickUpdate): StickUpdate {
  const parsed = parseStickUpdate(JSON.parse(JSON.stringify(update)));
  if ('error' in parsed) throw new Error(`invalid update: ${parsed.error}`);
  return parsed;
}

/** Every instance's local changes delivered to every other instance (over the wire). */
export function exchange(instances: readonly StickTables[]): void {
  const updates = instances.map((i) => i.takeLocalChanges());
  instances.forEach((target, t) => {
    updates.forEach((update, u) => {
      if (update !== null && u !== t) target.merge(overTheWire(update));
    });
  });
}
