/**
 * One client connection in TCP mode: balance, connect (with retries and redispatch), then move
 * bytes both ways with backpressure until either side closes. Half-closes are passed through.
 */
import type net from 'node:net';
import type { Cluster, Waiter } from '../upstream/cluster.ts';
import type { ServerState } from '../upstream/server-state.ts';
import { UpstreamConn, type UpstreamUser } from '../upstream/upstream-conn.ts';
import type { KeySource, ListenerSlot, Session } from './listener-runtime.ts';

export class TcpSession implements UpstreamUser, Waiter, KeySource, Session {
  private readonly client: net.Socket;
  private readonly slot: ListenerSlot;
  private readonly cluster: Cluster | null;
  private conn: UpstreamConn | null = null;
  private pending: Buffer[] = [];
  private connected = false;
  private closed = false;
  private retriesLeft: number;
  private avoid: ServerState | null = null;
  private queueTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly hash: number | undefined;
  server: ServerState | null = null;
  queued = false;
  readonly src: string;
  readonly target = '';

  constructor(client: net.Socket, slot: ListenerSlot) {
    this.client = client;
    this.slot = slot;
    const runtime = slot.runtime;
    this.cluster = runtime.cluster;
    this.src = client.remoteAddress ?? '';
    slot.sessions.add(this);
    client.setNoDelay(true);
    client.setTimeout(runtime.config.timeouts.tunnelMs ?? runtime.config.timeouts.clientMs);
    client.on('data', (data: Buffer) => this.onClientData(data));
    client.on('end', () => (this.connected ? this.conn?.socket.end() : this.destroy()));
    client.on('error', () => this.destroy());
    client.on('close', () => this.destroy());
    client.on('timeout', () => this.destroy());
    client.on('drain', () => this.conn?.socket.resume());
    this.retriesLeft = this.cluster?.config.retries ?? 0;
    this.hash = runtime.keyHash === null ? undefined : runtime.keyHash(this);
    if (this.cluster === null) this.destroy();
    else this.assignServer();
  }

  header(): undefined {
    return undefined;
  }

  /** A TCP stream has no request boundary: a drained listener lets it run to its end. */
  drain(): void {}

  private onClientData(data: Buffer): void {
    if (!this.connected) {
      this.pending.push(data);
      return;
    }
    if (!this.conn!.socket.write(data)) this.client.pause();
  }

  private assignServer(): void {
    const cluster = this.cluster!;
    const server = cluster.pick(this.hash, this.avoid);
    // As in http-session.ts: reserve the slot, and queue behind requests waiting in other threads.
    if (server === null || cluster.othersWaiting || !server.tryTake()) {
      if (!cluster.available) return this.destroy();
      this.server = cluster.hashed ? server : null;
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

  onUpstreamData(data: Buffer): void {
    if (!this.client.write(data)) this.conn?.socket.pause();
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
      this.assignServer();
    } else if (server.tryTake()) this.grant(server);
    else this.assignServer();
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
    this.client.destroy();
  }
}
