/**
 * The one socket lifecycle every probe shares: connect, run a dialog, map whatever happens to a
 * layered result. It guarantees what each probe promises: the promise always resolves (never
 * rejects), the socket is always destroyed, and the whole probe is bounded by `timeoutMs`.
 *
 * Layering (HAProxy `chk_report_conn_err()`):
 * - error before the TCP connection is established: L4CON (refused, unreachable...), or SOCKERR
 *   for local resource problems (no file descriptors, bad address);
 * - timeout before it is established: L4TOUT;
 * - I/O error after it is established: SOCKERR;
 * - timeout after it is established: L7TOUT;
 * - peer closed before the dialog got what it needed: L7RSP.
 */
import net from 'node:net';
import { getSystemErrorMessage } from 'node:util';
import { checkResult } from '../result.ts';
import type { CheckResult, CheckStatus } from '../result.ts';

export interface ProbeTarget {
  host: string;
  port: number;
}

/** What a dialog decides: a status plus the code and info that go into the result's detail. */
export interface Outcome {
  status: CheckStatus;
  code?: number | null;
  info?: string | null;
  /** Bytes to send politely before closing (e.g. MySQL COM_QUIT); best effort. */
  goodbye?: Buffer;
}

/**
 * A parser over everything received so far and not yet consumed. Return undefined to wait for
 * more bytes, or `[value, consumed]` to resolve `read()` with value and drop `consumed` bytes.
 * `eof` is true once the peer has closed its side: return a value then, or the read fails with
 * L7RSP.
 */
export type Parser<T> = (buf: Buffer, eof: boolean) => readonly [T, number] | undefined;

/** Largest amount of unconsumed input kept; beyond it the reply is rejected as L7RSP. */
export const MAX_BUFFERED = 256 * 1024;

export class ProbeFailure extends Error {
  readonly outcome: Outcome;
  constructor(outcome: Outcome) {
    super(outcome.info ?? outcome.status);
    this.outcome = outcome;
  }
}

/** Rejection of a pending read once the probe is already settled (timeout, error): ignored. */
class Settled extends Error {}

export interface ProbeConnection {
  /** Queues data; the promise settles once it is handed to the kernel (or the write failed). */
  write(data: Buffer | string): Promise<void>;
  read<T>(parser: Parser<T>): Promise<T>;
}

export type Dialog = (conn: ProbeConnection) => Promise<Outcome>;

/** Opens a connection to target, runs dialog on it and maps every way it can end to a result. */
export function runDialog(target: ProbeTarget, timeoutMs: number, dialog: Dialog | null): Promise<CheckResult> {
  const started = performance.now();
  return new Promise<CheckResult>((resolve) => {
    let settled = false;
    let connected = false;
    let eof = false;
    let buffer: Buffer = Buffer.alloc(0);
    let waiter: { parse: Parser<unknown>; resolve: (v: unknown) => void; reject: (e: Error) => void } | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const socket = new net.Socket();

    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (outcome.goodbye && connected && !socket.destroyed) {
        // Flush the goodbye, then destroy; the write cannot outlive a short grace period.
        const grace = setTimeout(() => socket.destroy(), 1000);
        grace.unref();
        socket.end(outcome.goodbye, () => {
          clearTimeout(grace);
          socket.destroy();
        });
      } else {
        socket.destroy();
      }
      if (waiter) {
        const w = waiter;
        waiter = null;
        w.reject(new Settled());
      }
      resolve(
        checkResult(outcome.status, {
          code: outcome.code ?? null,
          info: outcome.info ?? null,
          durationMs: performance.now() - started,
        }),
      );
    };

    const pump = (): void => {
      if (!waiter || settled) return;
      let parsed: readonly [unknown, number] | undefined;
      try {
        parsed = waiter.parse(buffer, eof);
      } catch (err) {
        const w = waiter;
        waiter = null;
        w.reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (parsed) {
        const [value, consumed] = parsed;
        buffer = buffer.subarray(Math.min(consumed, buffer.length));
        const w = waiter;
        waiter = null;
        w.resolve(value);
      } else if (eof) {
        const w = waiter;
        waiter = null;
        w.reject(new ProbeFailure({ status: 'L7RSP', info: buffer.length ? 'connection closed before a complete reply' : 'connection closed without a reply' }));
      } else if (buffer.length > MAX_BUFFERED) {
        const w = waiter;
        waiter = null;
        w.reject(new ProbeFailure({ status: 'L7RSP', info: `reply larger than ${MAX_BUFFERED} bytes` }));
      }
    };

    const conn: ProbeConnection = {
      write(data) {
        return new Promise<void>((res) => {
          if (settled || socket.destroyed) res();
          else socket.write(data, () => res());
        });
      },
      read<T>(parse: Parser<T>): Promise<T> {
        if (settled) return Promise.reject(new Settled());
        if (waiter) return Promise.reject(new Error('concurrent read on a probe connection'));
        return new Promise<T>((res, rej) => {
          waiter = { parse, resolve: res as (v: unknown) => void, reject: rej };
          pump();
        });
      },
    };

    timer = setTimeout(() => {
      settle(connected ? { status: 'L7TOUT' } : { status: 'L4TOUT', info: 'connection timed out' });
    }, Math.max(0, timeoutMs));

    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) settle({ status: 'SOCKERR', info: describeError(err) });
      else settle({ status: connectErrorStatus(err), info: describeError(err) });
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      pump();
    });
    socket.on('end', () => {
      eof = true;
      pump();
    });
    socket.on('close', () => {
      if (!connected) {
        settle({ status: 'L4CON', info: 'connection closed' });
        return;
      }
      // Reached without 'error' when the peer closed cleanly and no dialog read is pending:
      // the dialog may still be writing; it is told on its next read (eof is set).
      eof = true;
      pump();
    });
    socket.once('connect', () => {
      connected = true;
      if (!dialog) {
        settle({ status: 'L4OK' });
        return;
      }
      let run: Promise<Outcome>;
      try {
        run = dialog(conn);
      } catch (err) {
        run = Promise.reject(err);
      }
      run.then(settle, (err: unknown) => {
        if (err instanceof Settled) return;
        if (err instanceof ProbeFailure) settle(err.outcome);
        else settle({ status: 'SOCKERR', info: err instanceof Error ? err.message : String(err) });
      });
    });

    try {
      socket.setNoDelay(true);
      socket.connect({ host: target.host, port: target.port });
    } catch (err) {
      // Synchronous argument errors (bad port, bad host): a local problem, like HAProxy's SOCKERR.
      settle({ status: 'SOCKERR', info: err instanceof Error ? err.message : String(err) });
    }
  });
}

/** Errors meaning "could not reach the server" rather than "could not even try". */
const L4_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function connectErrorStatus(err: NodeJS.ErrnoException): CheckStatus {
  return err.code && L4_ERRORS.has(err.code) ? 'L4CON' : 'SOCKERR';
}

/** strerror()-style text ("Connection refused"), as HAProxy puts in the info. */
export function describeError(err: NodeJS.ErrnoException): string {
  if (typeof err.errno === 'number' && err.errno < 0) {
    try {
      const text = getSystemErrorMessage(err.errno);
      return text.charAt(0).toUpperCase() + text.slice(1);
    } catch {
      // fall through
    }
  }
  return err.code ?? err.message;
}

/** Index of the first CRLF (or bare LF) in buf, and the length of the terminator. */
export function findLineEnd(buf: Buffer, from = 0): { index: number; length: number } | null {
  const lf = buf.indexOf(0x0a, from);
  if (lf < 0) return null;
  if (lf > from && buf[lf - 1] === 0x0d) return { index: lf - 1, length: 2 };
  return { index: lf, length: 1 };
}
