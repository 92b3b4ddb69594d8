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
 *   copy. When a write could not complete at once the socket keeps a reference to the bytes
 *   until it does, so the buffer goes with the write and the next read gets a fresh one.
 */
import type net from 'node:net';

/** Bytes per read: libuv's usual suggestion, and what Node's default path reads. */
export const READ_SIZE = 64 * 1024;
/** A read at least this large moves the socket to a buffer of its own for the next reads. */
const BULK_READ = 16 * 1024;

const shared = Buffer.allocUnsafe(READ_SIZE);

/**
 * SWITCHYARD_POISON_READS=1 (set by the test runner) overwrites every borrowed chunk still in
 * read memory once its sink returns, so a chunk kept without a copy shows up as corrupted
 * bytes in tests instead of as a rare race in production.
 */
const poison = process.env['SWITCHYARD_POISON_READS'] === '1';
const POISON_BYTE = 0x7e; // '~'

export type ReadSink = (chunk: Buffer) => void;

/** What a socket is given as `onread`: its read memory and where its chunks go. */
export class Reader {
  /** Receives every chunk read; replaced as the socket changes hands (an upstream connection's next user). */
  sink: ReadSink;
  /** The socket's own buffer (after a large read), or null: reads go to the shared one. */
  private own: Buffer | null = null;
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
      this.own = null;
      return shared;
    }
    return (this.own ??= Buffer.allocUnsafe(READ_SIZE));
  }

  private onRead(n: number, memory: Buffer): boolean {
    this.lastRead = n;
    this.sink(memory.subarray(0, n));
    if (poison && (memory === shared || memory === this.own)) memory.fill(POISON_BYTE, 0, n);
    return true;
  }

  /** Whether `bytes` lie in read memory that the next read may overwrite. */
  borrows(bytes: Buffer): boolean {
    return bytes.buffer === shared.buffer || (this.own !== null && bytes.buffer === this.own.buffer);
  }

  /** `bytes` if they are safe to keep, else a copy. */
  owned(bytes: Buffer): Buffer {
    return this.borrows(bytes) ? Buffer.from(bytes) : bytes;
  }

  /**
   * Writes bytes this reader handed out (or any other bytes) to `socket`, returning what
   * socket.write returns (false: wait for 'drain'). Shared memory is copied; the socket's own
   * buffer is written as it is and, when the write is left queued, given up to it.
   */
  write(socket: net.Socket, bytes: Buffer): boolean {
    if (bytes.buffer === shared.buffer) return socket.write(Buffer.from(bytes));
    const flushed = socket.write(bytes);
    if (this.own !== null && bytes.buffer === this.own.buffer && socket.writableLength > 0) this.own = null;
    return flushed;
  }
}
