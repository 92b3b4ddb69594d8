/**
 * One client connection in TCP mode: tcp-request rules and use_backend, persistence (stick on
 * src), balance, connect (with retries and redispatch), then move bytes both ways with
 * backpressure until either side closes. Half-closes are passed through. Stick counters tracked
 * by tcp-request rules stay tracked for the whole connection.
 */
import type net from 'node:net';
import type { KeySource } from '../lb/hash-key.ts';
import type { Reader } from '../sockets/reader.ts';
import type { Transaction } from '../rules/transaction.ts';
import { SessionTrackers } from '../stick/trackers.ts';
import type { StickTableLookup } from '../stick/types.ts';
import type { Cluster, Waiter } from '../upstream/cluster.ts';
import type { ServerState } from '../upstream/server-state.ts';
import { UpstreamConn, type UpstreamUser } from '../upstream/upstream-conn.ts';
import type { ListenerRuntime, ListenerSlot, Session } from './listener-runtime.ts';
import { stickKey, stickMatch, stickStoreRequest } from './persistence.ts';

/** As in http-session.ts: the client socket knows its session, and its listeners are shared. */
const SESSION = Symbol('TcpSession');
interface ClientSocket extends net.Socket {
  [SESSION]: TcpSession;
}

export class TcpSession implements UpstreamUser, Waiter, KeySource, Session, Transaction {
  private readonly client: net.Socket;
  private readonly reader: Reader;
  private readonly slot: ListenerSlot;
  private readonly runtime: ListenerRuntime;
  private cluster: Cluster | null = null;
  private conn: UpstreamConn | null = null;
  private pending: Buffer[] = [];
  private connected = false;
  private closed = false;
  private retriesLeft: number;
  private avoid: ServerState | null = null;
  private queueTimer: ReturnType<typeof setTimeout> | null = null;
  private hash: number | undefined = undefined;
  /** The server a stick entry names, or null: balance. */
  private persistent: ServerState | null = null;
  /** The connection's `stick on` key (null: none, or the cluster does not stick). */
  private stickKey: string | null = null;
  private bytesOut = 0;
  server: ServerState | null = null;
  queued = false;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly ssl = false;
  readonly sni = '';
  readonly target = '';
  readonly trackers = new SessionTrackers();
  /** Its place in the listener's SessionList. */
  listIndex = -1;

  /** `client` is paused (sockets/accept.ts); reading starts once a server is being connected. */
  constructor(client: net.Socket, reader: Reader, slot: ListenerSlot) {
    this.client = client;
    this.reader = reader;
    reader.sink = (data) => this.onClientData(data);
    this.slot = slot;
    const runtime = (this.runtime = slot.runtime);
    this.src = client.remoteAddress ?? '';
    this.srcPort = client.remotePort ?? 0;
    this.dst = client.localAddress ?? '';
    this.dstPort = client.localPort ?? 0;
    slot.sessions.add(this);
    client.setNoDelay(true);
    client.setTimeout(runtime.config.timeouts.tunnelMs ?? runtime.config.timeouts.clientMs);
    (client as ClientSocket)[SESSION] = this;
    client.on('end', TcpSession.onEnd);
    client.on('error', TcpSession.onGone);
    client.on('close', TcpSession.onGone);
    client.on('timeout', TcpSession.onGone);
    client.on('drain', TcpSession.onDrain);
    this.retriesLeft = 0;
    let cluster = runtime.cluster;
    const rules = runtime.rules;
    if (rules !== null) {
      if (rules.onTcpRequest(this) === 'reject') {
        this.destroy();
        return;
      }
      const chosen = rules.useBackend(this);
      if (chosen !== null) cluster = runtime.clusters.get(chosen) ?? null;
    }
    this.cluster = cluster;
    if (cluster === null) {
      this.destroy();
      return;
    }
    this.retriesLeft = cluster.config.retries;
    const stick = cluster.persistence?.stick ?? null;
    if (stick !== null) {
      this.stickKey = stickKey(stick, this);
      this.persistent = stickMatch(cluster, stick, this.stickKey);
    }
    this.hash = this.persistent === null ? cluster.keyHash(this) : undefined;
    this.assignServer();
    if (!this.closed) client.resume();
  }

  get frontend(): string {
    return this.runtime.config.frontend;
  }

  get tables(): StickTableLookup {
    return this.runtime.tables;
  }

  header(): undefined {
    return undefined;
  }

  /** A TCP stream has no request boundary: a drained listener lets it run to its end. */
  drain(): void {}

  private onClientData(data: Buffer): void {
    if (!this.connected) {
      this.pending.push(this.reader.owned(data));
      return;
    }
    if (!this.reader.write(this.conn!.socket, data)) this.client.pause();
  }

  private assignServer(): void {
    const cluster = this.cluster!;
    const persistent = this.persistent;
    const server = persistent ?? cluster.pick(this.hash, this.avoid);
    // As in http-session.ts: reserve the slot, and queue behind requests waiting in other threads.
    if (server === null || cluster.othersWaiting || !server.tryTake()) {
      if (!cluster.available && persistent === null) return this.destroy();
      this.server = cluster.hashed || persistent !== null ? server : null;
      cluster.enqueue(this);
      this.queueTimer = setTimeout(() => {
        this.queueTimer = null;
        cluster.dequeue(this);
        this.destroy();
      }, cluster.config.timeouts.queueMs);
      return;
    }
    this.grant(server);
  }

  grant(server: ServerState): void {
    if (this.queueTimer !== null) clearTimeout(this.queueTimer);
    this.queueTimer = null;
    this.server = server;
    const stick = this.cluster!.persistence?.stick;
    if (stick) stickStoreRequest(stick, server, this.stickKey);
    this.conn = new UpstreamConn(server, this, this.cluster!.config.timeouts.connectMs);
  }

  abandon(): void {
    this.destroy();
  }

  onUpstreamConnect(conn: UpstreamConn): void {
    this.connected = true;
    const config = this.cluster!.config;
    conn.socket.setTimeout(config.timeouts.tunnelMs ?? config.timeouts.serverMs);
    for (const chunk of this.pending) conn.socket.write(chunk);
    this.pending = [];
  }

  onUpstreamData(data: Buffer, conn: UpstreamConn): void {
    this.bytesOut += data.length;
    if (!conn.reader.write(this.client, data)) conn.socket.pause();
  }

  onUpstreamDrain(): void {
    this.client.resume();
  }

  onUpstreamEnd(): void {
    this.client.end();
  }

  onUpstreamError(): void {
    this.onUpstreamGone();
  }

  onUpstreamClose(): void {
    this.onUpstreamGone();
  }

  onUpstreamTimeout(): void {
    this.destroy();
  }

  private onUpstreamGone(): void {
    if (this.closed) return;
    if (this.connected) return this.destroy();
    // Connection attempt failed: retry the same server, redispatch on the last retry.
    const server = this.server!;
    server.connectErrors++;
    // Detach and destroy the failed connection so its remaining events (an error is followed
    // by a close) never reach this session again and are not blamed on the next attempt.
    this.conn?.destroy();
    this.conn = null;
    this.server = null;
    server.drop();
    if (this.retriesLeft <= 0) return this.destroy();
    this.retriesLeft--;
    server.retries++;
    if (this.cluster!.config.redispatch && this.retriesLeft === 0) {
      server.redispatches++;
      this.avoid = server;
      this.persistent = null;
      this.hash = this.cluster!.keyHash(this);
      this.assignServer();
    } else if (server.tryTake()) this.grant(server);
    else this.assignServer();
  }

  // The client socket's listeners (`this` is the socket).
  private static onEnd(this: ClientSocket): void {
    const session = this[SESSION];
    if (session.connected) session.conn?.socket.end();
    else session.destroy();
  }

  private static onGone(this: ClientSocket): void {
    this[SESSION].destroy();
  }

  private static onDrain(this: ClientSocket): void {
    this[SESSION].conn?.socket.resume();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.slot.closed(this);
    if (this.queueTimer !== null) clearTimeout(this.queueTimer);
    if (this.queued) this.cluster?.dequeue(this);
    const conn = this.conn;
    this.conn = null;
    conn?.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null && conn !== null) server.drop();
    if (this.trackers.active) {
      if (this.bytesOut > 0) this.trackers.bytesOut(this.bytesOut);
      this.trackers.release();
    }
    this.client.destroy();
  }
}
