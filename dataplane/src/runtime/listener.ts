/**
 * A listening socket and its slot. The socket stays open across snapshots while its address,
 * port and mode stay the same; only the slot's runtime reference changes. Frontend
 * maxConnections is enforced like HAProxy's maxconn: connections past the limit wait, unread,
 * until a session ends (as they would in the kernel's accept queue), rather than being refused.
 * With worker threads (workers/) every thread has its own sockets on the same port and the
 * session count is shared, so the limit is the Frontend's.
 *
 * Each thread opens ACCEPT_SOCKETS sockets per listener, all SO_REUSEPORT on the same address and
 * port, and the kernel spreads new connections over them. libuv accepts one connection per
 * listening socket per loop iteration (libuv pull request 3696), and under load an iteration lasts
 * as long as the work it found ready: with one socket, 200 connections opened at once while others
 * were busy waited up to 200-340 ms for their first response (HAProxy, which accepts up to
 * tune.maxaccept = 64 per iteration: 30-47 ms). With 8 sockets: 30-140 ms, and a new connection
 * per request (wrk -c50, one core) went from 9.9-11.8k to 12.2-15.8k requests/s, in 6 of 6
 * interleaved pairs. 16 measured no better than 8.
 */
import net from 'node:net';
import { acceptWithReaders } from '../sockets/accept.ts';
import type { Reader } from '../sockets/reader.ts';
import { InFlight } from '../upstream/in-flight.ts';
import { HttpSession } from '../proxy/http-session.ts';
import type { ListenerRuntime, ListenerSlot, Session } from '../proxy/listener-runtime.ts';
import { SessionList } from '../proxy/session-list.ts';
import { TcpSession } from '../proxy/tcp-session.ts';

/** Listening sockets per listener and thread (see above). */
export const ACCEPT_SOCKETS = 8;

export interface ListenerOptions {
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
  /** The listening sockets, once open: the first one's port is the listener's. */
  private readonly servers: net.Server[] = [];
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
  }

  /** Opens the sockets; the first one binds port 0 when asked to, the others its port. Nothing stays open on failure. */
  async listen(): Promise<void> {
    const { address, port } = this.runtime.config;
    try {
      await this.bind(address, this.options.port ?? port);
      for (let i = 1; i < ACCEPT_SOCKETS; i++) await this.bind(address, this.port);
    } catch (err) {
      for (const server of this.servers.splice(0)) server.close();
      throw err;
    }
  }

  private bind(host: string, port: number): Promise<void> {
    const server = net.createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: 4096, reusePort: true }, () => {
        server.off('error', reject);
        acceptWithReaders(server, (socket, reader) => this.onConnection(socket, reader));
        this.servers.push(server);
        resolve();
      });
    });
  }

  get port(): number {
    const address = this.servers[0]?.address();
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
    const stopped = Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    const ended = this.sessions.size === 0 ? undefined : new Promise<void>((resolve) => (this.onLastSession = resolve));
    this.drained = Promise.all([stopped, ended]).then(() => undefined);
    return this.drained;
  }
}

export function listenerKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
