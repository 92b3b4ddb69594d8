/**
 * A raw TCP client for integration tests: collects everything received, tells whether and how the
 * peer closed, and waits for data by polling (never a fixed sleep).
 */
import net from 'node:net';
import { eventually } from './eventually.ts';

export interface TcpClient {
  readonly socket: net.Socket;
  /** Everything received so far (latin1). */
  readonly data: string;
  /** True once the peer ended or the socket closed. */
  readonly ended: boolean;
  /** Error seen on the socket, if any (e.g. ECONNRESET). */
  readonly error: Error | null;
  write(data: string | Buffer): void;
  /** Resolves with all data once `predicate(data)` holds (a string means "data contains it"). */
  waitFor(predicate: string | ((data: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Resolves with all data once the peer has closed. */
  waitEnd(timeoutMs?: number): Promise<string>;
  close(): void;
}

export function tcpConnect(port: number, host = '127.0.0.1'): Promise<TcpClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = '';
    let ended = false;
    let error: Error | null = null;
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (data += c));
    socket.on('end', () => (ended = true));
    socket.on('close', () => (ended = true));
    const client: TcpClient = {
      socket,
      get data() {
        return data;
      },
      get ended() {
        return ended;
      },
      get error() {
        return error;
      },
      write: (d) => void socket.write(d),
      waitFor(predicate, timeoutMs = 5000) {
        const test = typeof predicate === 'string' ? (d: string) => d.includes(predicate) : predicate;
        return eventually(
          () => {
            if (!test(data)) throw new Error(`not received yet; got ${JSON.stringify(data.slice(0, 300))}${ended ? ' (closed)' : ''}`);
            return data;
          },
          { timeoutMs, intervalMs: 5 },
        );
      },
      waitEnd(timeoutMs = 5000) {
        return eventually(
          () => {
            if (!ended) throw new Error(`peer did not close; got ${JSON.stringify(data.slice(0, 300))}`);
            return data;
          },
          { timeoutMs, intervalMs: 5 },
        );
      },
      close: () => void socket.destroy(),
    };
    let connected = false;
    socket.on('error', (err) => {
      error = err;
      if (!connected) reject(err);
    });
    socket.once('connect', () => {
      connected = true;
      resolve(client);
    });
  });
}

/** Whether a TCP connection to `port` is refused (nothing listens). */
export function connectRefused(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}
