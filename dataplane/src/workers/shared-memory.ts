/**
 * The memory every thread of a multi-core data plane shares (SharedArrayBuffer, growable).
 *
 * - `counts` (Int32, Atomics): one slot per server (requests in flight, all threads together),
 *   per cluster (requests waiting for a slot in the main thread's queue, or on their way there),
 *   and two per listener (sessions open; connections waiting for a session slot). Threads add
 *   and subtract with Atomics; limits are compare-and-swap loops (upstream/in-flight.ts).
 * - `stats` (Float64): per server slot, one row of SERVER_COUNTERS per worker thread, written
 *   only by that thread with plain stores (no contention, no atomics); the main thread adds the
 *   rows up when asked (`Dataplane.servers()`). Row of (slot, worker): (slot * workers + worker).
 *
 * The main thread allocates slots (SlotAllocator) when a snapshot brings something new, and frees
 * them once every worker has committed the snapshot that removed it: by then every thread has
 * taken its share out of the slot (InFlight.share(null)), so it reads 0 and nobody touches it.
 */
import { SERVER_COUNTERS } from '../upstream/server-state.ts';

/** Slots the buffers start with; they grow by doubling up to MAX_SLOTS. */
const INITIAL_SLOTS = 256;
export const MAX_SLOTS = 1 << 16;

/** The buffers, as they are posted to each worker (workerData). */
export interface SharedBuffers {
  counts: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  workers: number;
}

export class SharedMemory {
  readonly buffers: SharedBuffers;
  /** Length-tracking views: they follow the buffers when the main thread grows them. */
  readonly counts: Int32Array;
  readonly stats: Float64Array;
  readonly workers: number;

  constructor(buffers: SharedBuffers) {
    this.buffers = buffers;
    this.workers = buffers.workers;
    this.counts = new Int32Array(buffers.counts);
    this.stats = new Float64Array(buffers.stats);
  }

  static create(workers: number): SharedMemory {
    return new SharedMemory({
      counts: new SharedArrayBuffer(INITIAL_SLOTS * 4, { maxByteLength: MAX_SLOTS * 4 }),
      stats: new SharedArrayBuffer(INITIAL_SLOTS * workers * SERVER_COUNTERS * 8, { maxByteLength: MAX_SLOTS * workers * SERVER_COUNTERS * 8 }),
      workers,
    });
  }

  /** Where the counters of server `slot` for `worker` start in `stats`. */
  statsAt(slot: number, worker: number): number {
    return (slot * this.workers + worker) * SERVER_COUNTERS;
  }

  get capacity(): number {
    return this.counts.length;
  }

  /** Grows both buffers to hold at least `slots` slots (main thread only, before posting them). */
  ensure(slots: number): void {
    if (slots <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < slots) capacity *= 2;
    capacity = Math.min(capacity, MAX_SLOTS);
    this.buffers.counts.grow(capacity * 4);
    this.buffers.stats.grow(capacity * this.workers * SERVER_COUNTERS * 8);
  }
}

/** Hands out slots of SharedMemory (main thread). Freed slots are reused, lowest first. */
export class SlotAllocator {
  private readonly memory: SharedMemory;
  private next = 0;
  private readonly free: number[] = [];

  constructor(memory: SharedMemory) {
    this.memory = memory;
  }

  /** A slot whose stats rows are zero; throws when MAX_SLOTS are in use. */
  allocate(): number {
    let slot: number;
    if (this.free.length > 0) slot = this.free.pop()!;
    else {
      if (this.next >= MAX_SLOTS) throw new Error(`more than ${MAX_SLOTS} servers, clusters and listeners in use at once`);
      slot = this.next++;
      this.memory.ensure(this.next);
    }
    const m = this.memory;
    m.stats.fill(0, m.statsAt(slot, 0), m.statsAt(slot + 1, 0));
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
    this.free.sort((a, b) => b - a);
  }

  get inUse(): number {
    return this.next - this.free.length;
  }
}
