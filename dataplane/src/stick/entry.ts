/**
 * One key of a stick table: its origin states (layout.ts) and its places in the table's two lists
 * (least recently used, for eviction and expiry; most recently changed, for change feeds).
 *
 * Reads combine origins: counters and rates are summed, server_id is the last one written. Local
 * updates only ever write the own origin's state (index 0, kept first in `s`), created on the
 * first write: an entry learnt from peers costs nothing for an origin that never saw the key.
 *
 * The fields below the contract are the stick module's own (table.ts, replication.ts), public
 * only because the table links entries into its lists; nothing else should touch them.
 */
import type { StickDataType, StickEntry } from './types.ts';
import type { StickTable } from './table.ts';
import { freqTotal, freqUpdate, freqValue } from './freq-counter.ts';
import { E_TOUCHED, FIRST_STATE, H_ORIGIN, H_UPDATED, H_VERSION, pushBlank, type Layout } from './layout.ts';

// The own state, when it exists, is the first: its numbers are at OWN + a layout offset.
const OWN = FIRST_STATE;

export class Entry implements StickEntry {
  readonly key: string;
  /** The table this entry was created in (a tracked entry carries its table, for sc_* fetches). */
  readonly table: StickTable;
  /** Layout of `s`: the table's, or the one the table had when this entry left it. */
  layout: Layout;
  /** [touchedAt, changeTick, ...origin states] (layout.ts), the own origin's state first when it exists. */
  s: number[];
  lruPrev: Entry | null = null;
  lruNext: Entry | null = null;
  chgPrev: Entry | null = null;
  chgNext: Entry | null = null;
  /** Sessions tracking this entry: while > 0 it is neither evicted nor expired (HAProxy ref_cnt). */
  refs = 0;
  /** False once removed from its table (evicted, expired, table emptied): updates then stay local to the object. */
  live = true;

  constructor(key: string, table: StickTable, layout: Layout, now: number) {
    this.key = key;
    this.table = table;
    this.layout = layout;
    this.s = [now, 0];
  }

  /** Last use: the entry expires `expireMs` after it. */
  get touchedAt(): number {
    return this.s[E_TOUCHED];
  }

  read(type: StickDataType): number {
    const L = this.layout;
    const at = L.off[type];
    if (at < 0) return 0;
    if (type === 'server_id') return this.serverId();
    const s = this.s;
    const stride = L.stride;
    const period = L.period[type];
    if (period > 0) {
      const now = this.table.nowMs();
      let total = 0;
      for (let o = FIRST_STATE; o < s.length; o += stride) total += freqTotal(s, o + at, period, now);
      return freqValue(total, period);
    }
    let sum = 0;
    for (let o = FIRST_STATE; o < s.length; o += stride) sum += s[o + at];
    // gpc0 states may be negative after a clear (see clearGpc0); the total never is.
    return sum < 0 ? 0 : sum;
  }

  /** Last writer wins: the latest write time, then the larger origin id. */
  serverId(): number {
    const L = this.layout;
    const at = L.off.server_id;
    if (at < 0) return 0;
    const s = this.s;
    let best = -1;
    for (let o = FIRST_STATE; o < s.length; o += L.stride) {
      const written = s[o + at + 1];
      if (written < 0) continue;
      if (best < 0 || written > s[best + at + 1] || (written === s[best + at + 1] && this.table.originName(s[o + H_ORIGIN]) > this.table.originName(s[best + H_ORIGIN]))) {
        best = o;
      }
    }
    return best < 0 ? 0 : s[best + at];
  }

  trackStart(): void {
    this.refs++;
    const now = this.table.nowMs();
    const s = this.#own(now);
    const off = this.layout.off;
    if (off.conn_cur >= 0) s[OWN + off.conn_cur]++;
    if (off.conn_cnt >= 0) s[OWN + off.conn_cnt]++;
    if (off.conn_rate >= 0) freqUpdate(s, OWN + off.conn_rate, this.layout.period.conn_rate, now, 1);
  }

  trackStop(): void {
    if (this.refs > 0) this.refs--;
    const s = this.#own(this.table.nowMs());
    const at = this.layout.off.conn_cur;
    if (at >= 0 && s[OWN + at] > 0) s[OWN + at]--;
  }

  httpRequest(): void {
    const now = this.table.nowMs();
    const s = this.#own(now);
    const off = this.layout.off;
    if (off.http_req_cnt >= 0) s[OWN + off.http_req_cnt]++;
    if (off.http_req_rate >= 0) freqUpdate(s, OWN + off.http_req_rate, this.layout.period.http_req_rate, now, 1);
  }

  httpError(): void {
    const now = this.table.nowMs();
    const s = this.#own(now);
    const off = this.layout.off;
    if (off.http_err_cnt >= 0) s[OWN + off.http_err_cnt]++;
    if (off.http_err_rate >= 0) freqUpdate(s, OWN + off.http_err_rate, this.layout.period.http_err_rate, now, 1);
  }

  bytesOut(n: number): void {
    if (!(n > 0) || !Number.isFinite(n)) return;
    const bytes = Math.floor(n);
    const now = this.table.nowMs();
    const s = this.#own(now);
    const off = this.layout.off;
    if (off.bytes_out_cnt >= 0) s[OWN + off.bytes_out_cnt] += bytes;
    if (off.bytes_out_rate >= 0) freqUpdate(s, OWN + off.bytes_out_rate, this.layout.period.bytes_out_rate, now, bytes);
  }

  incGpc0(): void {
    const now = this.table.nowMs();
    const s = this.#own(now);
    const off = this.layout.off;
    if (off.gpc0 >= 0) s[OWN + off.gpc0]++;
    if (off.gpc0_rate >= 0) freqUpdate(s, OWN + off.gpc0_rate, this.layout.period.gpc0_rate, now, 1);
  }

  /**
   * gpc0 reads 0 afterwards, fleet-wide: this origin cannot reset the others' states, so its own
   * gpc0 becomes minus their sum (a clear made elsewhere at the same time, before either saw the
   * other's, can leave the total below 0, read as 0 until increments bring it up).
   */
  clearGpc0(): void {
    const s = this.#own(this.table.nowMs());
    const at = this.layout.off.gpc0;
    if (at < 0) return;
    let others = 0;
    for (let o = OWN + this.layout.stride; o < s.length; o += this.layout.stride) others += s[o + at];
    s[OWN + at] = -others;
  }

  /** Ignored unless a non-negative integer: a state carrying anything else would fail validation at every peer. */
  setServerId(id: number): void {
    if (!Number.isSafeInteger(id) || id < 0) return;
    const now = this.table.nowMs();
    const s = this.#own(now);
    const at = this.layout.off.server_id;
    if (at < 0) return;
    s[OWN + at] = id;
    s[OWN + at + 1] = now;
  }

  /** `s` with the own state first (at OWN), marked as written now (version to be stamped). */
  #own(now: number): number[] {
    let s = this.s;
    if (s.length === OWN || s[OWN + H_ORIGIN] !== 0) {
      const grown: number[] = [];
      for (let i = 0; i < OWN; i++) grown.push(s[i]);
      pushBlank(grown, this.layout, 0);
      for (let i = OWN; i < s.length; i++) grown.push(s[i]);
      s = this.s = grown;
    }
    s[OWN + H_VERSION] = 0;
    s[OWN + H_UPDATED] = now;
    this.table.localWrite(this, now);
    return s;
  }
}
