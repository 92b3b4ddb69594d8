/**
 * Socket reads into memory we own, through net's `onread` option, instead of Node's default
 * read path, which allocates a Buffer with its own backing store for every read and pushes it
 * through the Readable stream machinery to 'data' listeners. On a bare TCP pipe on one core
 * (wrk -c50, 2-byte responses) that path ran 55-59k requests/s and this one 66-69k; on 1 MiB
 * responses 1.1 GB/s against 2.0 GB/s (see the commit that introduced this file).
 *
 * A chunk handed to `sink` is BORROWED: the next read on this thread may overwrite it once the
 * sink returns. Code that keeps bytes past that copies them (`owned`); code that
 * writes them to a socket uses `write`, which knows whether the bytes can go as they are.
 *
 * Two kinds of read memory:
 * - one shared buffer per thread, used by every socket while its reads are small (request
 *   heads, small responses). A socket sitting idle points at it, so an idle connection holds no
 *   read buffer of its own. Chunks of it are copied when written (small copies, from Node's
 *   buffer pool).
 * - a buffer of the socket's own after a large read (a bulk transfer), written out without a
 *   copy. A write that could not complete at once holds the bytes until it does: the buffer
 *   is then lent to the writes, and the next read takes another. Buffers come from and go back
 *   to a small pool per thread, once no read will use them and no write holds them. Allocating
 *   one for each response and for each read after a queued write instead made V8 run a full
 *   collection every few MiB for their external memory (1 MiB responses on one core: about 5
 *   a second with V8's default young generation, 12 with a 1 MiB one, see v8-tuning.js).
 */
import type net from 'node:net';

/** Bytes per read: libuv's usual suggestion, and what Node's default path reads. */
export const READ_SIZE = 64 * 1024;
/** A read at least this large moves the socket to a buffer of its own for the next reads. */
const BULK_READ = 16 * 1024;

const shared = Buffer.allocUnsafe(READ_SIZE);

/** Buffers no socket reads into and no write holds, for the next socket that needs one. */
const pool: Buffer[] = [];
/** At most 1 MiB per thread kept for reuse. */
const POOL_SIZE = 16;

/**
 * SWITCHYARD_POISON_READS=1 (set by the test runner) overwrites read memory as soon as it may
 * be reused: the shared buffer once a sink returns, a socket's own buffer before it is read into
 * again. A chunk kept without a copy then shows up as corrupted bytes in tests instead of as a
 * rare race in production.
 */
const poison = process.env['SWITCHYARD_POISON_READS'] === '1';
const POISON_BYTE = 0x7e; // '~'

/** A buffer of a socket's own, about to be read into (again): poisoned first when testing. */
function poisoned(buffer: Buffer): Buffer {
  return poison ? buffer.fill(POISON_BYTE) : buffer;
}

function fromPool(): Buffer {
  const buffer = pool.pop();
  return buffer !== undefined ? poisoned(buffer) : Buffer.allocUnsafe(READ_SIZE);
}

function toPool(buffer: Buffer): void {
  if (pool.length < POOL_SIZE) pool.push(buffer);
}

export type ReadSink = (chunk: Buffer) => void;

/** What a socket is given as `onread`: its read memory and where its chunks go. */
export class Reader {
  /** Receives every chunk read; replaced as the socket changes hands (an upstream connection's next user). */
  sink: ReadSink;
  /** The socket's own buffer (after a large read), or null: reads go to the shared one. */
  private own: Buffer | null = null;
  /** Writes of `own`'s bytes not completed yet: the next read may not overwrite them. */
  private ownWrites = 0;
  /** Earlier buffers of its own that queued writes still hold (as few as such writes are; null: none yet, which idle sockets save). */
  private loans: Loan[] | null = null;
  private lastRead = 0;
  readonly onread: net.OnReadOpts;

  constructor(sink: ReadSink) {
    this.sink = sink;
    this.onread = {
      buffer: () => this.nextBuffer(),
      callback: (n: number, memory: Uint8Array) => this.onRead(n, memory as Buffer),
    };
  }

  private nextBuffer(): Buffer {
    if (this.lastRead < BULK_READ) {
      this.release();
      return shared;
    }
    if (this.own !== null && this.ownWrites === 0) return poisoned(this.own);
    this.release();
    return (this.own = fromPool());
  }

  /** This socket stops reading into its own buffer: to the pool with it, or lent to its writes. */
  private release(): void {
    if (this.own === null) return;
    if (this.ownWrites === 0) toPool(this.own);
    else (this.loans ??= []).push({ buffer: this.own, writes: this.ownWrites });
    this.own = null;
    this.ownWrites = 0;
  }

  private onRead(n: number, memory: Buffer): boolean {
    this.lastRead = n;
    this.sink(memory.subarray(0, n));
    if (poison && memory === shared) memory.fill(POISON_BYTE, 0, n);
    return true;
  }

  /** Whether `bytes` lie in read memory that a later read may overwrite. */
  borrows(bytes: Buffer): boolean {
    const memory = bytes.buffer;
    return memory === shared.buffer || (this.own !== null && memory === this.own.buffer) || this.loanOf(memory) !== undefined;
  }

  private loanOf(memory: ArrayBufferLike): Loan | undefined {
    if (this.loans !== null) for (const loan of this.loans) if (loan.buffer.buffer === memory) return loan;
    return undefined;
  }

  private endLoan(loan: Loan): void {
    this.loans!.splice(this.loans!.indexOf(loan), 1);
  }

  /** `bytes` if they are safe to keep, else a copy. */
  owned(bytes: Buffer): Buffer {
    return this.borrows(bytes) ? Buffer.from(bytes) : bytes;
  }

  /**
   * Writes bytes this reader handed out (or any other bytes) to `socket`, returning what
   * socket.write returns (false: wait for 'drain'). Shared memory is copied; the socket's own
   * buffer is written as it is and, while the write is queued, kept from reads and the pool.
   */
  write(socket: net.Socket, bytes: Buffer): boolean {
    const memory = bytes.buffer;
    if (memory === shared.buffer) return socket.write(Buffer.from(bytes));
    const buffer = this.own !== null && memory === this.own.buffer ? this.own : (this.loanOf(memory)?.buffer ?? null);
    if (buffer === null) return socket.write(bytes);
    let held = false;
    const flushed = socket.write(bytes, (err) => {
      if (!held) return;
      // After an error libuv may still hold the bytes: the buffer is never used again.
      if (err != null) this.forget(buffer);
      else this.count(buffer, -1);
    });
    // Unless bytes are left to write, the kernel took these at once: nothing holds the buffer.
    // The callback never runs before this (it comes on a later tick, after more reads).
    if (socket.writableLength > 0 || socket.destroyed) {
      held = true;
      this.count(buffer, 1);
    }
    return flushed;
  }

  private count(buffer: Buffer, change: 1 | -1): void {
    if (buffer === this.own) {
      this.ownWrites += change;
      return;
    }
    const loan = this.loanOf(buffer.buffer);
    if (loan === undefined) return;
    loan.writes += change;
    if (loan.writes > 0) return;
    this.endLoan(loan);
    toPool(buffer);
  }

  private forget(buffer: Buffer): void {
    if (buffer === this.own) {
      this.own = null;
      this.ownWrites = 0;
    }
    const loan = this.loanOf(buffer.buffer);
    if (loan !== undefined) this.endLoan(loan);
  }
}

/** A buffer of a socket's own that queued writes still hold. */
interface Loan {
  readonly buffer: Buffer;
  writes: number;
}
