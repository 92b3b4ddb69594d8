/**
 * A listening socket and its slot. The socket stays open across snapshots while its address,
 * port and mode stay the same; only the slot's runtime reference changes. Frontend
 * maxConnections is enforced like HAProxy's maxconn: connections past the limit wait, unread,
 * until a session ends (as they would in the kernel's accept queue), rather than being refused.
 */
import net from 'node:net';
import { HttpSession } from '../proxy/http-session.ts';
import type { ListenerRuntime, ListenerSlot, Session } from '../proxy/listener-runtime.ts';
import { TcpSession } from '../proxy/tcp-session.ts';

export class Listener implements ListenerSlot {
  readonly key: string;
  readonly mode: 'http' | 'tcp';
  runtime: ListenerRuntime;
  draining = false;
  readonly sessions = new Set<Session>();
  private readonly server: net.Server;
  private readonly waiting: net.Socket[] = [];

  constructor(runtime: ListenerRuntime) {
    this.runtime = runtime;
    this.mode = runtime.config.mode;
    this.key = listenerKey(runtime.config.address, runtime.config.port);
    this.server = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
  }

  listen(): Promise<void> {
    const { address, port } = this.runtime.config;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: address, port, backlog: 4096 }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : this.runtime.config.port;
  }

  private onConnection(socket: net.Socket): void {
    const max = this.runtime.config.maxConnections;
    if (max > 0 && this.sessions.size >= max) {
      socket.pause();
      socket.on('error', () => socket.destroy());
      this.waiting.push(socket);
      return;
    }
    this.startSession(socket);
  }

  private startSession(socket: net.Socket): void {
    if (this.mode === 'http') new HttpSession(socket, this);
    else new TcpSession(socket, this);
  }

  closed(session: Session): void {
    this.sessions.delete(session);
    while (this.waiting.length > 0) {
      const max = this.runtime.config.maxConnections;
      if (max > 0 && this.sessions.size >= max) return;
      const socket = this.waiting.shift()!;
      if (socket.destroyed) continue;
      socket.resume();
      this.startSession(socket);
    }
  }

  /** Stops accepting; open sessions finish their current request (HTTP) or stream (TCP). */
  drain(): Promise<void> {
    this.draining = true;
    for (const socket of this.waiting.splice(0)) socket.destroy();
    for (const session of this.sessions) session.drain();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export function listenerKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
