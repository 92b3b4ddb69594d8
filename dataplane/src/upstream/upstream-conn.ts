/**
 * A connection to a server. Its socket listeners are installed once; the session using it is a
 * field that changes as the connection moves between requests and the idle pool, so handing a
 * pooled connection to the next request costs no listener churn.
 */
import net from 'node:net';
import { Reader } from '../sockets/reader.ts';
import type { ServerState } from './server-state.ts';

export interface UpstreamUser {
  onUpstreamConnect(conn: UpstreamConn): void;
  /** `data` is borrowed (sockets/reader.ts): write it with conn.reader.write, copy what you keep. */
  onUpstreamData(data: Buffer, conn: UpstreamConn): void;
  onUpstreamEnd(): void;
  onUpstreamError(err: Error): void;
  onUpstreamClose(): void;
  onUpstreamTimeout(): void;
  onUpstreamDrain(): void;
}

export class UpstreamConn {
  readonly socket: net.Socket;
  readonly reader: Reader;
  readonly server: ServerState;
  user: UpstreamUser | null;
  connected = false;
  closed = false;
  /** Requests served on this connection; > 0 means it is a reused connection. */
  uses = 0;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private timeoutMs = 0;

  constructor(server: ServerState, user: UpstreamUser, connectMs: number) {
    this.server = server;
    this.user = user;
    const { address, port } = server.config;
    this.reader = new Reader((data) => {
      if (this.user) this.user.onUpstreamData(data, this);
      else this.destroy(); // an idle connection that speaks is out of sync: drop it
    });
    this.socket = net.connect({ host: address, port, noDelay: true, onread: this.reader.onread });
    this.connectTimer = setTimeout(() => this.onConnectTimeout(), connectMs);
    this.socket.once('connect', () => {
      clearTimeout(this.connectTimer!);
      this.connectTimer = null;
      this.connected = true;
      this.user?.onUpstreamConnect(this);
    });
    this.socket.on('end', () => {
      if (this.user) this.user.onUpstreamEnd();
      else this.destroy();
    });
    this.socket.on('error', (err) => this.user?.onUpstreamError(err));
    this.socket.on('close', () => this.onClose());
    this.socket.on('timeout', () => {
      // The server timeout stays armed in the pool: an idle connection that long unused is closed.
      if (this.user) this.user.onUpstreamTimeout();
      else this.destroy();
    });
    this.socket.on('drain', () => this.user?.onUpstreamDrain());
  }

  private onConnectTimeout(): void {
    this.connectTimer = null;
    const err = Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' });
    const user = this.user;
    this.user = null;
    this.destroy();
    user?.onUpstreamError(err);
  }

  private onClose(): void {
    this.closed = true;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    const idle = this.server.idle;
    const i = idle.indexOf(this);
    if (i >= 0) idle.splice(i, 1);
    const user = this.user;
    this.user = null;
    user?.onUpstreamClose();
  }

  /** Returns the connection to its server's idle pool; it must be between messages. */
  release(): void {
    this.user = null;
    if (this.closed || this.socket.destroyed || !this.server.healthy || this.server.retired) {
      this.destroy();
      return;
    }
    this.server.idle.push(this);
  }

  /** Arms the inactivity timeout, only when its length changes (each arming allocates a timer). */
  setTimeout(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  destroy(): void {
    this.user = null;
    this.socket.destroy();
  }
}

/** An idle pooled connection to `server`, or null. Most recently used first (warm, least likely closed). */
export function takeIdle(server: ServerState, user: UpstreamUser): UpstreamConn | null {
  const idle = server.idle;
  while (idle.length > 0) {
    const conn = idle.pop()!;
    if (conn.closed || conn.socket.destroyed) continue;
    conn.user = user;
    return conn;
  }
  return null;
}
