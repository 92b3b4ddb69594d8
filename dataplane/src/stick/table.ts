/**
 * A stick table: key -> entry, bounded by `size` (least recently used evicted first) and `expire`.
 *
 * Use, for the LRU order and the expiry, is what HAProxy counts as a touch: `track` and every
 * update, local or a fresh remote one; `lookup` (a fetch such as `src_http_req_rate`) is a read and
 * neither refreshes nor promotes an entry. Entries tracked by a session (refs > 0) are neither
 * evicted nor expired, as HAProxy's ref_cnt; when every entry is tracked, `track` of a new key
 * returns null. Expired entries leave on access and through `sweep`, which the owner calls
 * periodically: no timer per entry. Because every touch stamps the current time and moves the
 * entry to the head, the list is in expiry order and a sweep stops at the first live entry.
 *
 * Times are the clock's milliseconds rounded down. The clock must be a wall clock shared by every
 * writer (see wall-clock.ts) as soon as states cross processes: rates and expiry of remote states
 * are evaluated with the local clock.
 */
import type { ir } from '@switchyard/api';
import type { Clock } from '../clock.ts';
import type { StickTableHandle } from './types.ts';
import { Entry } from './entry.ts';
import { convertKey } from './keys.ts';
import { E_CHANGED, E_TOUCHED, FIRST_STATE, H_CHANGED, H_ORIGIN, H_VERSION, layoutOf, relayout, sameLayout, type Layout } from './layout.ts';

export type NowClock = Pick<Clock, 'now'>;

export class StickTable implements StickTableHandle {
  #config: ir.StickTable;
  #layout: Layout;
  readonly #clock: NowClock;
  readonly #entries = new Map<string, Entry>();
  /** Origin ids by index; 0 is this process's. */
  readonly #origins: string[];
  readonly #originIndex = new Map<string, number>();
  #version = 0;
  // The last key converted: a client's requests repeat it, and converting may allocate.
  #lastText: string | null = null;
  #lastKey: string | null = null;

  // A number field beyond 2^30 allocates on every write: the change counter lives in a typed array.
  readonly #tick = new Float64Array(1);

  // Internal to the stick module: the two lists, most recent first.
  lruHead: Entry | null = null;
  lruTail: Entry | null = null;
  chgHead: Entry | null = null;
  chgTail: Entry | null = null;

  constructor(config: ir.StickTable, origin: string, clock: NowClock) {
    this.#config = config;
    this.#layout = layoutOf(config.store);
    this.#clock = clock;
    this.#origins = [origin];
    this.#originIndex.set(origin, 0);
  }

  get config(): ir.StickTable {
    return this.#config;
  }

  get layout(): Layout {
    return this.#layout;
  }

  /** This process's origin. */
  get origin(): string {
    return this.#origins[0];
  }

  /** Entries held, expired ones included until a sweep or an access removes them. */
  get size(): number {
    return this.#entries.size;
  }

  /** Increases with every state change (local write or merge); change feeds keep cursors in it. */
  get tick(): number {
    return this.#tick[0];
  }

  nowMs(): number {
    return Math.floor(this.#clock.now());
  }

  track(text: string): Entry | null {
    const key = this.#key(text);
    if (key === null) return null;
    const now = this.nowMs();
    const entry = this.#live(key, now);
    if (entry === undefined) return this.#create(key, now);
    this.#touch(entry, now);
    return entry;
  }

  lookup(text: string): Entry | null {
    const key = this.#key(text);
    if (key === null) return null;
    return this.#live(key, this.nowMs()) ?? null;
  }

  /** Removes expired entries not in use; returns how many. */
  sweep(now = this.nowMs()): number {
    const expire = this.#config.expireMs;
    if (expire === null) return 0;
    let removed = 0;
    for (let e = this.lruTail; e !== null; ) {
      const next = e.lruPrev;
      if (now - e.s[E_TOUCHED] < expire) break;
      if (e.refs === 0) {
        this.#remove(e);
        removed++;
      }
      e = next;
    }
    return removed;
  }

  /**
   * A new snapshot's definition of this table (same name). Entries are kept when the keys mean
   * the same (same type, and same keyLength for strings): data types no longer stored are dropped
   * from them, new ones start at zero, a rate whose period changed starts over, and a smaller size
   * evicts the least recently used. A new key type or length empties the table: converting keys
   * would merge or split entries. Either way the table object stays, so the rules and sessions
   * holding it keep working, and entries they hold but the table dropped keep counting on their own.
   */
  reconfigure(config: ir.StickTable): void {
    const old = this.#config;
    const layout = layoutOf(config.store);
    this.#config = config;
    this.#lastText = null;
    if (old.type !== config.type || (config.type === 'string' && old.keyLength !== config.keyLength)) {
      this.#layout = layout;
      this.clear();
      return;
    }
    while (this.#entries.size > config.size && this.#evictOne());
    if (!sameLayout(layout, this.#layout)) {
      for (const e of this.#entries.values()) {
        e.s = relayout(e.s, e.layout, layout);
        e.layout = layout;
      }
    }
    this.#layout = layout;
  }

  /** Removes every entry. */
  clear(): void {
    for (const e of this.#entries.values()) e.live = false;
    this.#entries.clear();
    this.lruHead = this.lruTail = this.chgHead = this.chgTail = null;
  }

  /** The entry for an already converted key, expired or not (replication, tests). */
  peek(key: string): Entry | undefined {
    return this.#entries.get(key);
  }

  // ---- The stick module's own API (entries and replication). ----

  /** Converts key text to this table's key, or null. */
  convert(text: string): string | null {
    return this.#key(text);
  }

  originName(index: number): string {
    return this.#origins[index];
  }

  /** The index of an origin id, registered on first sight. */
  originIndex(origin: string): number {
    let index = this.#originIndex.get(origin);
    if (index === undefined) {
      index = this.#origins.length;
      this.#origins.push(origin);
      this.#originIndex.set(origin, index);
    }
    return index;
  }

  /** The index of an origin id, or -1 when none of its states was ever seen. */
  findOrigin(origin: string): number {
    return this.#originIndex.get(origin) ?? -1;
  }

  /**
   * A fresh version for the own origin's states: increasing, and starting from the clock so a
   * table created again (or a process reusing an origin id) is still newer than what peers hold.
   */
  nextVersion(now: number): number {
    this.#version = Math.max(this.#version + 1, now);
    return this.#version;
  }

  /** The own state (at 0) of `entry` was just written: refresh, promote, and record the change. */
  localWrite(entry: Entry, now: number): void {
    if (!entry.live) return;
    const tick = ++this.#tick[0];
    entry.s[FIRST_STATE + H_CHANGED] = tick;
    entry.s[E_CHANGED] = tick;
    this.#touch(entry, now);
    this.#promoteChanged(entry);
  }

  /**
   * Stores a remote origin's state (`state`: one state in this table's layout, origin index set)
   * when newer than the one held. A fresh state (within `expire` of its write) creates the entry
   * when missing and refreshes it; a stale one is only stored into an existing entry. The own
   * origin (index 0) is never written here. Returns whether it was stored.
   */
  mergeState(key: string, state: readonly number[], fresh: boolean, now: number): boolean {
    const origin = state[H_ORIGIN];
    if (origin === 0) return false;
    let entry: Entry | null = this.#live(key, now) ?? null;
    if (entry === null) {
      if (!fresh) return false;
      entry = this.#create(key, now);
      if (entry === null) return false;
    }
    const s = entry.s;
    const stride = this.#layout.stride;
    let at = -1;
    for (let o = FIRST_STATE; o < s.length; o += stride) {
      if (s[o + H_ORIGIN] === origin) {
        at = o;
        break;
      }
    }
    if (at >= 0) {
      if (s[at + H_VERSION] >= state[H_VERSION]) return false;
      for (let k = 0; k < stride; k++) s[at + k] = state[k];
    } else {
      at = s.length;
      for (let k = 0; k < stride; k++) s.push(state[k]);
    }
    const tick = ++this.#tick[0];
    s[at + H_CHANGED] = tick;
    s[E_CHANGED] = tick;
    if (fresh) this.#touch(entry, now);
    this.#promoteChanged(entry);
    return true;
  }

  /** Live entries, most recently used first. */
  *entries(): IterableIterator<Entry> {
    for (let e = this.lruHead; e !== null; e = e.lruNext) yield e;
  }

  #key(text: string): string | null {
    if (text === this.#lastText) return this.#lastKey;
    const key = convertKey(this.#config.type, this.#config.keyLength, text);
    this.#lastText = text;
    this.#lastKey = key;
    return key;
  }

  /** The entry for `key` unless missing or expired (then removed). */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const expire = this.#config.expireMs;
    if (expire !== null && entry.refs === 0 && now - entry.s[E_TOUCHED] >= expire) {
      this.#remove(entry);
      return undefined;
    }
    return entry;
  }

  #create(key: string, now: number): Entry | null {
    if (this.#entries.size >= this.#config.size && !this.#evictOne()) return null;
    const entry = new Entry(key, this, this.#layout, now);
    this.#entries.set(key, entry);
    entry.lruNext = this.lruHead;
    if (this.lruHead !== null) this.lruHead.lruPrev = entry;
    else this.lruTail = entry;
    this.lruHead = entry;
    return entry;
  }

  /** Evicts the least recently used entry no session tracks; false when there is none. */
  #evictOne(): boolean {
    for (let e = this.lruTail; e !== null; e = e.lruPrev) {
      if (e.refs === 0) {
        this.#remove(e);
        return true;
      }
    }
    return false;
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key);
    entry.live = false;
    const { lruPrev, lruNext } = entry;
    if (lruPrev !== null) lruPrev.lruNext = lruNext;
    else this.lruHead = lruNext;
    if (lruNext !== null) lruNext.lruPrev = lruPrev;
    else this.lruTail = lruPrev;
    entry.lruPrev = entry.lruNext = null;
    if (entry.s[E_CHANGED] > 0) {
      const { chgPrev, chgNext } = entry;
      if (chgPrev !== null) chgPrev.chgNext = chgNext;
      else this.chgHead = chgNext;
      if (chgNext !== null) chgNext.chgPrev = chgPrev;
      else this.chgTail = chgPrev;
      entry.chgPrev = entry.chgNext = null;
    }
  }

  #touch(entry: Entry, now: number): void {
    entry.s[E_TOUCHED] = now;
    if (this.lruHead === entry || !entry.live) return;
    const { lruPrev, lruNext } = entry;
    // Not the head, so lruPrev is set.
    lruPrev!.lruNext = lruNext;
    if (lruNext !== null) lruNext.lruPrev = lruPrev;
    else this.lruTail = lruPrev;
    entry.lruPrev = null;
    entry.lruNext = this.lruHead;
    this.lruHead!.lruPrev = entry;
    this.lruHead = entry;
  }

  /** Moves a just-changed entry to the head of the change list (entering it on its first change). */
  #promoteChanged(entry: Entry): void {
    if (this.chgHead === entry) return;
    const { chgPrev, chgNext } = entry;
    if (chgPrev !== null) {
      chgPrev.chgNext = chgNext;
      if (chgNext !== null) chgNext.chgPrev = chgPrev;
      else this.chgTail = chgPrev;
    }
    entry.chgPrev = null;
    entry.chgNext = this.chgHead;
    if (this.chgHead !== null) this.chgHead.chgPrev = entry;
    else this.chgTail = entry;
    this.chgHead = entry;
  }
}
