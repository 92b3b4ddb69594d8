/**
 * A listening socket and its slot. The socket stays open across snapshots while its address,
 * port and mode stay the same; only the slot's runtime reference changes. Frontend
 * maxConnections is enforced like HAProxy's maxconn: connections past the limit wait, unread,
 * until a session ends (as they would in the kernel's accept queue), rather than being refused.
 * With worker threads (workers/) every thread has its own socket on the same port (SO_REUSEPORT,
 * the kernel spreads connections) and the session count is shared, so the limit is the Frontend's.
 */
import net from 'node:net';
import { acceptWithReaders } from '../sockets/accept.ts';
import type { Reader } from '../sockets/reader.ts';
import { InFlight } from '../upstream/in-flight.ts';
import { HttpSession } from '../proxy/http-session.ts';
import type { ListenerRuntime, ListenerSlot, Session } from '../proxy/listener-runtime.ts';
import { SessionList } from '../proxy/session-list.ts';
import { TcpSession } from '../proxy/tcp-session.ts';

export interface ListenerOptions {
  /** Open the socket with SO_REUSEPORT: each worker thread has its own on the same port. */
  reusePort?: boolean;
  /** Bind this port instead of the configuration's (workers after the first when it says 0). */
  port?: number;
  /** Connections wait, unread, until `open()`: a worker's listener serves once its snapshot commits. */
  held?: boolean;
}

export class Listener implements ListenerSlot {
  readonly key: string;
  readonly mode: 'http' | 'tcp';
  runtime: ListenerRuntime;
  draining = false;
  readonly sessions = new SessionList<Session>();
  private readonly server: net.Server;
  /** Accepted connections waiting for a session slot: paused, as they were accepted. */
  private readonly waiting: { socket: net.Socket; reader: Reader }[] = [];
  /** Sessions open, for maxConnections (over every worker thread when shared). */
  readonly admitted = new InFlight();
  /** Connections waiting for a session slot (over every worker thread when shared). */
  readonly parked = new InFlight();
  /** Set by workers/: called when a session ends while connections wait in another thread. */
  onSlotFreed: (() => void) | null = null;
  private readonly options: ListenerOptions;
  private held: boolean;
  /** Resolves drain()'s wait for the last session (accepted sockets are ours, not the net.Server's to count). */
  private onLastSession: (() => void) | null = null;
  /** What drain() returns, made once: a second call waits for the same end. */
  private drained: Promise<void> | null = null;

  constructor(runtime: ListenerRuntime, options: ListenerOptions = {}) {
    this.runtime = runtime;
    this.options = options;
    this.held = options.held ?? false;
    this.mode = runtime.config.mode;
    this.key = listenerKey(runtime.config.address, runtime.config.port);
    this.server = net.createServer();
  }

  listen(): Promise<void> {
    const { address, port } = this.runtime.config;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: address, port: this.options.port ?? port, backlog: 4096, reusePort: this.options.reusePort }, () => {
        this.server.off('error', onError);
        acceptWithReaders(this.server, (socket, reader) => this.onConnection(socket, reader));
        resolve();
      });
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : this.runtime.config.port;
  }

  private onConnection(socket: net.Socket, reader: Reader): void {
    if (this.held || !this.admitted.tryAdd(this.runtime.config.maxConnections)) {
      socket.on('error', () => socket.destroy());
      this.waiting.push({ socket, reader });
      this.parked.add();
      // A slot another thread freed between the check and the count above would wake nobody.
      if (this.parked.isShared && !this.held) this.admitWaiting();
      return;
    }
    this.startSession(socket, reader);
  }

  /** The session sets the reader's sink and resumes the socket (accepted paused). */
  private startSession(socket: net.Socket, reader: Reader): void {
    if (this.mode === 'http') new HttpSession(socket, reader, this);
    else new TcpSession(socket, reader, this);
  }

  closed(session: Session): void {
    if (!this.sessions.delete(session)) return;
    if (this.sessions.size === 0 && this.onLastSession !== null) this.onLastSession();
    this.admitted.sub();
    this.admitWaiting();
    if (this.onSlotFreed !== null && this.parked.value > this.parked.local) this.onSlotFreed();
  }

  /** Starts serving the connections that waited for it (see ListenerOptions.held). */
  open(): void {
    this.held = false;
    this.admitWaiting();
  }

  /** Starts sessions for waiting connections while there are free slots. */
  admitWaiting(): void {
    while (this.waiting.length > 0 && !this.held) {
      const { socket, reader } = this.waiting[0]!;
      if (!socket.destroyed && !this.admitted.tryAdd(this.runtime.config.maxConnections)) return;
      this.waiting.shift();
      this.parked.sub();
      if (socket.destroyed) continue;
      this.startSession(socket, reader);
    }
  }

  /** Stops accepting; resolves once open sessions finished their current request (HTTP) or stream (TCP). */
  drain(): Promise<void> {
    if (this.drained !== null) return this.drained;
    this.draining = true;
    for (const { socket } of this.waiting.splice(0)) {
      this.parked.sub();
      socket.destroy();
    }
    for (const session of this.sessions.snapshot()) session.drain();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const ended = this.sessions.size === 0 ? undefined : new Promise<void>((resolve) => (this.onLastSession = resolve));
    this.drained = Promise.all([stopped, ended]).then(() => undefined);
    return this.drained;
  }
}

export function listenerKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
