/**
 * A session's stick counters sc0..sc2 (HAProxy stkctr): which entry each slot tracks.
 * One object per session, reused across its transactions; it allocates nothing after creation.
 *
 * Tracking a slot starts tracking the entry (conn_cur up, see StickEntry.trackStart); release stops
 * every tracked entry once (conn_cur down) and frees the slots, so a second release, or one with
 * nothing tracked, does nothing. A slot already tracking ignores further tracks until release, as
 * HAProxy ignores track-sc on a busy counter. Two slots may track the same entry: each counts.
 */
import type { StickEntry, StickTableHandle, Trackers } from './types.ts';

export class SessionTrackers implements Trackers {
  #sc0: StickEntry | null = null;
  #sc1: StickEntry | null = null;
  #sc2: StickEntry | null = null;

  track(counter: 0 | 1 | 2, table: StickTableHandle, key: string): void {
    if (this.get(counter) !== null) return;
    const entry = table.track(key);
    if (entry === null) return;
    entry.trackStart();
    if (counter === 0) this.#sc0 = entry;
    else if (counter === 1) this.#sc1 = entry;
    else if (counter === 2) this.#sc2 = entry;
  }

  get(counter: number): StickEntry | null {
    return counter === 0 ? this.#sc0 : counter === 1 ? this.#sc1 : counter === 2 ? this.#sc2 : null;
  }

  /** Whether any slot tracks an entry. */
  get active(): boolean {
    return this.#sc0 !== null || this.#sc1 !== null || this.#sc2 !== null;
  }

  httpRequest(): void {
    this.#sc0?.httpRequest();
    this.#sc1?.httpRequest();
    this.#sc2?.httpRequest();
  }

  httpError(): void {
    this.#sc0?.httpError();
    this.#sc1?.httpError();
    this.#sc2?.httpError();
  }

  bytesOut(n: number): void {
    this.#sc0?.bytesOut(n);
    this.#sc1?.bytesOut(n);
    this.#sc2?.bytesOut(n);
  }

  release(): void {
    const a = this.#sc0;
    const b = this.#sc1;
    const c = this.#sc2;
    // Slots are freed first: a release re-entered from trackStop finds nothing left to stop.
    this.#sc0 = this.#sc1 = this.#sc2 = null;
    a?.trackStop();
    b?.trackStop();
    c?.trackStop();
  }
}
