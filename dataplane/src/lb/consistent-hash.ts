/**
 * `hash-type consistent` (HAProxy lb_chash): a ring of 32-bit points, POINTS_PER_WEIGHT per unit
 * of weight per server; a key belongs to the first point at or after its hash (wrapping around).
 *
 * A server's points depend only on its name and their index (point j of server "web-1" is the
 * same whatever the other servers, the weights or the order of the server list), so:
 * - adding a server only moves keys to it, about 1/(N+1) of them;
 * - removing a server only moves its own keys, spread over the others;
 * - raising a weight adds points (keys move only to that server), lowering it removes points;
 * - every data-plane pod, and every configuration reload, agrees on the ring.
 * Hashing the name rather than the position (HAProxy hashes its numeric id) keeps keys in place
 * when servers are inserted or reordered in the Backend.
 *
 * The ring is two sorted typed arrays (point keys and owner ids). Events are applied lazily, on the
 * first lookup after them: a few changed servers are merged in or filtered out in O(points), a
 * burst of changes (a cluster coming up) rebuilds the ring with a radix sort. A lookup is a binary
 * search, O(log points), without allocation. `avoid` walks the ring to the next point owned by
 * another server.
 */
import type { LbServer } from './algorithm.ts';
import { hashString, mix32 } from './hash-fn.ts';
import type { HashLookup } from './hashed-algorithm.ts';

/** Ring points per unit of weight: weight 1 gives 64 points, weight 256 gives 16384. */
export const POINTS_PER_WEIGHT = 64;

/** Above this many changed servers, one full rebuild beats merging them one by one. */
const MERGE_LIMIT = 4;

/** The ring positions of a server's first `count` points. */
export function serverPoints(name: string, count: number): Uint32Array {
  const seed = hashString(name);
  const points = new Uint32Array(count);
  for (let j = 0; j < count; j++) points[j] = mix32((seed + Math.imul(j + 1, 0x9e3779b9)) | 0);
  return points;
}

const NO_POINTS = new Uint32Array(0);

class RingMember {
  server: LbServer;
  up = true;
  /** Points for `pointsName` and the current weight, in index order (cached). */
  points: Uint32Array = NO_POINTS;
  pointsName = '';
  /** How many of its points are on the ring now. */
  onRing = 0;

  constructor(server: LbServer) {
    this.server = server;
  }

  /** The points this member should have on the ring (none when down or at weight 0). */
  wanted(): Uint32Array {
    if (!this.up) return NO_POINTS;
    // Fractional weights (slow start) count too: points are added one by one as the weight grows.
    const weight = this.server.weight;
    const count = weight > 0 ? Math.max(1, Math.round(weight * POINTS_PER_WEIGHT)) : 0;
    const name = this.server.name;
    if (this.points.length !== count || this.pointsName !== name) {
      this.points = count === 0 ? NO_POINTS : serverPoints(name, count);
      this.pointsName = name;
    }
    return this.points;
  }
}

export class ConsistentHashLookup implements HashLookup {
  /** Known servers by id. */
  readonly #members: (RingMember | undefined)[] = [];
  /** Servers changed since the ring was last brought up to date. */
  readonly #changed = new Set<RingMember>();
  #keys = new Uint32Array(0);
  /** Owner of each point, by server id. */
  #ids = new Uint32Array(0);

  onServerUp(server: LbServer): void {
    let m = this.#members[server.id];
    if (m === undefined) {
      m = new RingMember(server);
      this.#members[server.id] = m;
    } else {
      m.server = server;
      m.up = true;
    }
    this.#changed.add(m);
  }

  onServerDown(server: LbServer): void {
    const m = this.#members[server.id];
    if (m === undefined || !m.up) return;
    m.up = false;
    this.#changed.add(m);
  }

  onWeightChange(server: LbServer): void {
    const m = this.#members[server.id];
    if (m !== undefined && m.up) this.#changed.add(m);
  }

  /** Number of points on the ring. */
  get size(): number {
    if (this.#changed.size > 0) this.#update();
    return this.#keys.length;
  }

  lookup(hash: number, avoid: LbServer | null): LbServer | null {
    if (this.#changed.size > 0) this.#update();
    const keys = this.#keys;
    const n = keys.length;
    if (n === 0) return null;
    const h = hash >>> 0;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    const at = lo === n ? 0 : lo;
    const ids = this.#ids;
    const members = this.#members;
    const owner = ids[at];
    const server = (members[owner] as RingMember).server;
    if (avoid === null || server !== avoid) return server;
    for (let step = 1, i = at + 1; step < n; step++, i++) {
      if (i === n) i = 0;
      if (ids[i] !== owner) return (members[ids[i]] as RingMember).server;
    }
    return server;
  }

  #update(): void {
    const changed = this.#changed;
    if (changed.size > MERGE_LIMIT) this.#rebuild();
    else for (const m of changed) this.#replace(m);
    changed.clear();
  }

  /** Takes the member's points off the ring and merges its wanted points in. O(points). */
  #replace(m: RingMember): void {
    const id = m.server.id;
    const add = m.wanted().slice().sort();
    const keys = this.#keys;
    const ids = this.#ids;
    const size = keys.length - m.onRing + add.length;
    const newKeys = new Uint32Array(size);
    const newIds = new Uint32Array(size);
    let i = 0;
    let j = 0;
    let k = 0;
    for (;;) {
      while (i < keys.length && ids[i] === id) i++;
      if (i >= keys.length || j >= add.length) break;
      // Equal keys order by id, as in a full rebuild.
      if (keys[i] < add[j] || (keys[i] === add[j] && ids[i] < id)) {
        newKeys[k] = keys[i];
        newIds[k++] = ids[i++];
      } else {
        newKeys[k] = add[j++];
        newIds[k++] = id;
      }
    }
    for (; i < keys.length; i++) {
      if (ids[i] === id) continue;
      newKeys[k] = keys[i];
      newIds[k++] = ids[i];
    }
    for (; j < add.length; j++) {
      newKeys[k] = add[j];
      newIds[k++] = id;
    }
    m.onRing = add.length;
    this.#keys = newKeys;
    this.#ids = newIds;
  }

  /** Builds the whole ring: points laid out in id order, then a stable radix sort by key. O(points). */
  #rebuild(): void {
    let total = 0;
    for (const m of this.#members) if (m !== undefined) total += m.wanted().length;
    let keys = new Uint32Array(total);
    let ids = new Uint32Array(total);
    let k = 0;
    for (const m of this.#members) {
      if (m === undefined) continue;
      const points = m.wanted();
      keys.set(points, k);
      ids.fill(m.server.id, k, k + points.length);
      k += points.length;
      m.onRing = points.length;
    }
    // Two stable counting passes on 16-bit digits: equal keys keep their id order.
    let outKeys = new Uint32Array(total);
    let outIds = new Uint32Array(total);
    const counts = new Uint32Array(65536);
    for (let shift = 0; shift <= 16; shift += 16) {
      counts.fill(0);
      for (let i = 0; i < total; i++) counts[(keys[i] >>> shift) & 0xffff]++;
      let sum = 0;
      for (let d = 0; d < 65536; d++) {
        const c = counts[d];
        counts[d] = sum;
        sum += c;
      }
      for (let i = 0; i < total; i++) {
        const at = counts[(keys[i] >>> shift) & 0xffff]++;
        outKeys[at] = keys[i];
        outIds[at] = ids[i];
      }
      [keys, outKeys] = [outKeys, keys];
      [ids, outIds] = [outIds, ids];
    }
    this.#keys = keys;
    this.#ids = ids;
  }
}
