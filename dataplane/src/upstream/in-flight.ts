/**
 * A count of things in progress (requests on a server, sessions on a listener).
 *
 * With one thread it is a plain number. With worker threads (workers/) it is also mirrored into
 * one slot of memory shared by every thread, which holds the sum over all of them: `value` reads
 * that sum, and reserving under a limit is a compare-and-swap on it, so limits hold exactly across
 * threads. `local` is always what this thread holds, so the thread can take its share out of the
 * slot when it stops using it (`share(null)`), and the slot can then be given to something else.
 */
export class InFlight {
  /** What this thread holds. */
  local = 0;
  private shared: Int32Array | null = null;
  private index = 0;

  /** The total: over every thread when shared. */
  get value(): number {
    return this.shared === null ? this.local : Atomics.load(this.shared, this.index);
  }

  get isShared(): boolean {
    return this.shared !== null;
  }

  /** Counts one more if the total is below `max` (0: no limit); false when at the limit. */
  tryAdd(max: number): boolean {
    const shared = this.shared;
    if (shared === null) {
      if (max > 0 && this.local >= max) return false;
      this.local++;
      return true;
    }
    if (max <= 0) Atomics.add(shared, this.index, 1);
    else {
      const i = this.index;
      for (;;) {
        const current = Atomics.load(shared, i);
        if (current >= max) return false;
        if (Atomics.compareExchange(shared, i, current, current + 1) === current) break;
      }
    }
    this.local++;
    return true;
  }

  /** Counts one more, whatever the limit. */
  add(): void {
    this.local++;
    if (this.shared !== null) Atomics.add(this.shared, this.index, 1);
  }

  sub(): void {
    this.local--;
    if (this.shared !== null) Atomics.sub(this.shared, this.index, 1);
  }

  /** This thread now holds one that another thread already counted in the shared slot. */
  adopt(): void {
    this.local++;
  }

  /** One this thread counted moves to another thread, which will `adopt` it; the total stays. */
  handOff(): void {
    this.local--;
  }

  /**
   * Mirrors into `slots[index]` from now on (adding what this thread holds), or with null stops
   * (taking it out). Shared slots are laid out by workers/shared-memory.ts.
   */
  share(slots: Int32Array | null, index = 0): void {
    if (this.shared === slots && this.index === index) return;
    if (this.shared !== null) Atomics.sub(this.shared, this.index, this.local);
    this.shared = slots;
    this.index = index;
    if (slots !== null) Atomics.add(slots, index, this.local);
  }
}
