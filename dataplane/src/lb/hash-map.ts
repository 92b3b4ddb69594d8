/**
 * `hash-type map-based` (HAProxy lb_map): a table with one slot per unit of weight, filled in a
 * smooth interleaved order, indexed by `hash % total weight`. Cheap and perfectly proportional,
 * but any change of the server set or of a weight remaps most keys (that is what
 * `consistent` is for).
 *
 * The table depends only on the usable servers' ids and weights (never on the order events came
 * in), so every data-plane pod maps a key to the same server. It is rebuilt lazily, on the first
 * lookup after an up, down or weight event, so that a burst of events costs one rebuild.
 * `avoid` moves to the next slot holding another server, found in O(1) from a precomputed index.
 */
import type { LbServer } from './algorithm.ts';
import type { HashLookup } from './hashed-algorithm.ts';
import { IndexedHeap } from './heap.ts';

class Slotter {
  heapIndex = -1;
  readonly server: LbServer;
  readonly weight: number;
  /** Slots taken so far. */
  taken = 0;

  constructor(server: LbServer, weight: number) {
    this.server = server;
    this.weight = weight;
  }
}

/** The k-th slot of a server of weight w ideally sits at (2k+1)/(2w) of the table. */
function earlierSlot(a: Slotter, b: Slotter): boolean {
  const d = (2 * a.taken + 1) * b.weight - (2 * b.taken + 1) * a.weight;
  return d < 0 || (d === 0 && a.server.id < b.server.id);
}

/** Slots for an effective weight: rounded, at least one for any positive weight. */
function slotsFor(weight: number): number {
  return weight > 0 ? Math.max(1, Math.round(weight)) : 0;
}

/** One slot per unit of weight, servers interleaved in proportion (ordered by id on ties). */
export function buildWeightTable(servers: readonly LbServer[]): LbServer[] {
  const heap = new IndexedHeap<Slotter>(earlierSlot);
  let total = 0;
  for (const s of servers) {
    const slots = slotsFor(s.weight);
    if (slots === 0) continue;
    heap.push(new Slotter(s, slots));
    total += slots;
  }
  const table = new Array<LbServer>(total);
  for (let i = 0; i < total; i++) {
    const top = heap.peek() as Slotter;
    table[i] = top.server;
    top.taken++;
    if (top.taken === top.weight) heap.pop();
    else heap.update(top);
  }
  return table;
}

export class MapHashLookup implements HashLookup {
  /** Up servers by id. */
  readonly #servers: (LbServer | undefined)[] = [];
  #dirty = false;
  #table: LbServer[] = [];
  /** For each slot, the next slot (cyclically) holding another server; -1 when there is none. */
  #next = new Int32Array(0);

  onServerUp(server: LbServer): void {
    this.#servers[server.id] = server;
    this.#dirty = true;
  }

  onServerDown(server: LbServer): void {
    if (this.#servers[server.id] === undefined) return;
    this.#servers[server.id] = undefined;
    this.#dirty = true;
  }

  onWeightChange(server: LbServer): void {
    if (this.#servers[server.id] !== undefined) this.#dirty = true;
  }

  lookup(hash: number, avoid: LbServer | null): LbServer | null {
    if (this.#dirty) this.#rebuild();
    const table = this.#table;
    const size = table.length;
    if (size === 0) return null;
    const i = (hash >>> 0) % size;
    const server = table[i];
    if (avoid === null || server !== avoid) return server;
    const j = this.#next[i];
    return j >= 0 ? table[j] : server;
  }

  /** Total weight of the table (its number of slots). */
  get size(): number {
    if (this.#dirty) this.#rebuild();
    return this.#table.length;
  }

  #rebuild(): void {
    this.#dirty = false;
    const up: LbServer[] = [];
    for (const s of this.#servers) if (s !== undefined) up.push(s);
    const table = buildWeightTable(up);
    const n = table.length;
    const next = new Int32Array(n).fill(-1);
    // Start right before a change of server and walk backwards around the table.
    let r = -1;
    for (let i = 0; i < n; i++) {
      if (table[i] !== table[(i + 1) % n]) {
        r = i;
        break;
      }
    }
    if (r >= 0) {
      next[r] = (r + 1) % n;
      for (let step = 1; step < n; step++) {
        const i = (r - step + n) % n;
        const j = (i + 1) % n;
        next[i] = table[j] !== table[i] ? j : next[j];
      }
    }
    this.#table = table;
    this.#next = next;
  }
}
