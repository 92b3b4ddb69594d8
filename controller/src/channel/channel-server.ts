/**
 * The controller's end of the control channel: a websocket server that authenticates data
 * planes, runs one `Stream` per connection and pushes every snapshot the cache publishes. It is
 * the `LocalFleet` of this replica: the status writer reads what each connected data plane
 * ACKed, NACKed and reported.
 *
 * - Authentication: `Authorization: Bearer <token>` on the upgrade request, compared in constant
 *   time with `token()`, read for each connection so a rotated Secret applies at once (null
 *   refuses everyone). A refused client gets HTTP 401 and never reaches the websocket.
 * - Any path reaches the channel, so `ws://HOST:PORT` works as a data plane's `--controller`.
 * - One stream per node name: a newer stream replaces the older (closed with 4002).
 * - Heartbeats: a ping every `heartbeatMs`; a stream that misses two pongs is terminated.
 * - Peers (stick-table replication): every stream whose hello carried `peer` gets the list of the
 *   other data planes with a peer URL, on connect and whenever it changes (after a short holdoff,
 *   so a burst of connections makes one round). The list comes from this replica's own streams,
 *   or from a whole-fleet directory (`usePeerDirectory(fleetView)`) when replicas share reports.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { CloseCode, type PeerInfo } from '@switchyard/api';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { systemClock, type Clock, type Timer } from '../clock.ts';
import type { DataplaneStatus, LocalFleet } from './fleet.ts';
import type { SnapshotCache } from './snapshot-cache.ts';
import { Stream, type AckEvent, type HealthEvent, type NackEvent } from './stream.ts';

export interface ChannelServerOptions {
  cache: SnapshotCache;
  /** This controller replica's identity (the pod name), sent in the welcome. */
  replica: string;
  /** The bearer token data planes must present; read per connection. Null refuses everyone. */
  token: () => string | null;
  logger: Logger;
  /** Ping interval; default 10000. */
  heartbeatMs?: number;
  /** How long a new connection may take to say hello; default 10000. */
  helloTimeoutMs?: number;
  /** Largest message accepted from a data plane; default 16 MiB (a health report of many servers). */
  maxPayload?: number;
  clock?: Clock;
  /** Holdoff between a fleet change and the peers lists it causes; default 100 ms. */
  peersHoldoffMs?: number;
}

/** Where the data planes of the whole fleet are known (this replica's streams, or a FleetView). */
export interface PeerDirectory {
  list(): readonly DataplaneStatus[];
  onChange(listener: () => void): () => void;
}

type Listener<E> = (event: E) => void;

export class ChannelServer implements LocalFleet {
  readonly #cache: SnapshotCache;
  readonly #replica: string;
  readonly #token: () => string | null;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #heartbeatMs: number;
  readonly #helloTimeoutMs: number;
  readonly #wss: WebSocketServer;
  /** Every open connection, identified or not. */
  readonly #streams = new Map<Stream, WebSocket>();
  /** Identified streams by node name. */
  readonly #byNode = new Map<string, Stream>();
  readonly #changeListeners = new Set<() => void>();
  readonly #ackListeners = new Set<Listener<AckEvent>>();
  readonly #nackListeners = new Set<Listener<NackEvent>>();
  readonly #healthListeners = new Set<Listener<HealthEvent>>();
  readonly #unsubscribePublish: () => void;
  #server: http.Server | null = null;
  #ownsServer = false;
  #heartbeatTimer: Timer | null = null;
  #closing = false;
  readonly #peersHoldoffMs: number;
  #peerDirectory: PeerDirectory = this;
  #unsubscribePeerDirectory: (() => void) | null = null;
  #peersTimer: Timer | null = null;
  /** The fleet's peers (node and URL, sorted), encoded, as last sent round: skips rounds that change nothing. */
  #peersSignature: string | null = null;

  constructor(options: ChannelServerOptions) {
    this.#cache = options.cache;
    this.#replica = options.replica;
    this.#token = options.token;
    this.#log = options.logger.child({ component: 'channel' });
    this.#clock = options.clock ?? systemClock;
    this.#heartbeatMs = options.heartbeatMs ?? 10_000;
    this.#helloTimeoutMs = options.helloTimeoutMs ?? 10_000;
    if (!(this.#heartbeatMs > 0)) throw new RangeError(`heartbeatMs must be positive, got ${this.#heartbeatMs}`);
    if (!(this.#helloTimeoutMs > 0)) throw new RangeError(`helloTimeoutMs must be positive, got ${this.#helloTimeoutMs}`);
    this.#peersHoldoffMs = options.peersHoldoffMs ?? 100;
    if (!(this.#peersHoldoffMs >= 0)) throw new RangeError(`peersHoldoffMs must be >= 0, got ${this.#peersHoldoffMs}`);
    this.#wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: options.maxPayload ?? 16 * 1024 * 1024 });
    this.#unsubscribePublish = this.#cache.onPublish((snapshot) => {
      for (const stream of this.#byNode.values()) stream.offer(snapshot);
    });
  }

  /** Starts an HTTP server of its own on host:port (0 for any free port). */
  async listen(host: string, port: number): Promise<AddressInfo> {
    if (this.#server !== null) throw new Error('the channel server is already listening or attached');
    const server = http.createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' });
      res.end('switchyard control channel: connect with a websocket\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.attach(server);
    this.#ownsServer = true;
    const address = this.address()!;
    this.#log.info({ address: address.address, port: address.port }, 'control channel listening');
    return address;
  }

  /** Serves the channel on an existing HTTP server: every websocket upgrade request is ours. */
  attach(server: http.Server): void {
    if (this.#server !== null) throw new Error('the channel server is already listening or attached');
    if (this.#closing) throw new Error('the channel server is closed');
    this.#server = server;
    server.on('upgrade', this.#onUpgrade);
    this.#scheduleHeartbeat();
  }

  address(): AddressInfo | null {
    const address = this.#server?.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  /** Closes every stream with 1001 (going away) and stops serving. Idempotent. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#unsubscribePublish();
    if (this.#heartbeatTimer !== null) this.#clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    if (this.#peersTimer !== null) this.#clock.clearTimeout(this.#peersTimer);
    this.#peersTimer = null;
    this.#unsubscribePeerDirectory?.();
    this.#unsubscribePeerDirectory = null;
    const server = this.#server;
    server?.off('upgrade', this.#onUpgrade);
    const closed = [...this.#streams].map(
      ([stream, ws]) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          ws.once('close', () => resolve());
          stream.close(CloseCode.GoingAway, 'controller shutting down');
          // A peer that does not finish the closing handshake soon is cut off.
          setTimeout(() => ws.terminate(), 1000).unref();
        }),
    );
    await Promise.all(closed);
    if (server !== null && this.#ownsServer) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    this.#log.info('control channel closed');
  }

  // ---- LocalFleet

  list(): DataplaneStatus[] {
    const out: DataplaneStatus[] = [];
    for (const stream of this.#byNode.values()) {
      const status = stream.status();
      if (status !== null) out.push(status);
    }
    return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  onChange(listener: () => void): () => void {
    return subscribe(this.#changeListeners, listener);
  }

  // ---- Peers (stick-table replication)

  /**
   * Takes the peers lists from `directory` (the whole fleet: a FleetView merging every replica's
   * reports) instead of this replica's own streams. This replica's changes still trigger a round.
   */
  usePeerDirectory(directory: PeerDirectory): void {
    this.#unsubscribePeerDirectory?.();
    this.#peerDirectory = directory;
    this.#unsubscribePeerDirectory = directory === this ? null : directory.onChange(() => this.#peersChanged());
    this.#peersSignature = null;
    this.#peersChanged();
  }

  /** The data planes of the fleet that have a peer server, sorted by node (what `peers` messages list). */
  peers(): PeerInfo[] {
    const byNode = new Map<string, string>();
    for (const dp of this.#peerDirectory.list()) if (typeof dp.peerUrl === 'string' && dp.peerUrl !== '') byNode.set(dp.node, dp.peerUrl);
    return [...byNode]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([node, url]) => ({ node, url }));
  }

  // ---- Observability hooks (metrics)

  /** Each ACK of a push, with the time from push to ACK. */
  onAck(listener: Listener<AckEvent>): () => void {
    return subscribe(this.#ackListeners, listener);
  }

  onNack(listener: Listener<NackEvent>): () => void {
    return subscribe(this.#nackListeners, listener);
  }

  onHealth(listener: Listener<HealthEvent>): () => void {
    return subscribe(this.#healthListeners, listener);
  }

  /** Data planes connected and identified (hello received). */
  get connectedCount(): number {
    return this.#byNode.size;
  }

  // ---- internals

  readonly #onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    if (this.#closing) {
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    let expected: string | null;
    try {
      expected = this.#token();
    } catch (err) {
      this.#log.error({ err }, 'cannot read the channel token; refusing the connection');
      expected = null;
    }
    const problem = checkBearer(req.headers.authorization, expected);
    if (problem !== null) {
      // Never the token itself, neither the expected one nor the presented one.
      this.#log.warn({ remote, reason: problem }, 'refused a data plane connection: not authorized');
      refuse(socket, 401, 'Unauthorized');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, remote));
  };

  #accept(ws: WebSocket, remote: string): void {
    if (this.#closing) {
      ws.close(CloseCode.GoingAway, 'controller shutting down');
      return;
    }
    const stream: Stream = new Stream({
      replica: this.#replica,
      clock: this.#clock,
      logger: this.#log.child({ remote }),
      heartbeatMs: this.#heartbeatMs,
      helloTimeoutMs: this.#helloTimeoutMs,
      current: () => this.#cache.current,
      transport: {
        send: (message) => {
          if (typeof message === 'string') ws.send(message);
          // Fragments of one text message: ws writes each buffer as it is, without copying.
          else message.forEach((part, i) => ws.send(part, { binary: false, fin: i === message.length - 1 }));
        },
        close: (code, reason) => ws.close(code, reason),
        ping: () => ws.ping(),
        terminate: () => ws.terminate(),
      },
      events: {
        identified: (s) => this.#identified(s),
        changed: () => this.#changed(),
        ack: (e) => emit(this.#ackListeners, e),
        nack: (e) => emit(this.#nackListeners, e),
        health: (e) => emit(this.#healthListeners, e),
      },
    });
    this.#streams.set(stream, ws);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) stream.protocolError('binary frames are not part of the protocol; send JSON text');
      else stream.receive(rawToString(data));
    });
    ws.on('pong', () => stream.pong());
    ws.on('error', (err) => this.#log.debug({ err, remote }, 'data plane socket error'));
    ws.on('close', (code: number, reason: Buffer) => {
      stream.closed();
      this.#streams.delete(stream);
      const node = stream.node;
      if (node !== null && this.#byNode.get(node) === stream) {
        this.#byNode.delete(node);
        this.#log.info({ node, code, reason: reason.toString() }, 'data plane disconnected');
        this.#changed();
      }
    });
  }

  #identified(stream: Stream): void {
    const node = stream.node!;
    const older = this.#byNode.get(node);
    this.#byNode.set(node, stream);
    if (older !== undefined && older !== stream) {
      this.#log.warn({ node }, 'a newer stream for this data plane replaces the older one');
      older.close(CloseCode.Replaced, `replaced by a newer stream for ${node}`);
    }
    // The newcomer gets the current list at once (rounds only go to streams whose list changed).
    if (stream.wantsPeers) this.#offerPeers(stream, this.peers());
    this.#changed();
  }

  #changed(): void {
    this.#peersChanged();
    for (const listener of [...this.#changeListeners]) call(listener, undefined);
  }

  /** Schedules a peers round; most changes (acks, health) leave the list as it was and cost one comparison. */
  #peersChanged(): void {
    if (this.#closing || this.#peersTimer !== null) return;
    const timer = this.#clock.setTimeout(() => {
      this.#peersTimer = null;
      this.#peersRound();
    }, this.#peersHoldoffMs);
    timer.unref?.();
    this.#peersTimer = timer;
  }

  #peersRound(): void {
    if (this.#closing) return;
    const peers = this.peers();
    const signature = JSON.stringify(peers);
    if (signature === this.#peersSignature) return;
    this.#peersSignature = signature;
    for (const stream of this.#byNode.values()) this.#offerPeers(stream, peers);
  }

  /** Everyone but the stream's own data plane (the stream itself skips an unchanged list). */
  #offerPeers(stream: Stream, peers: readonly PeerInfo[]): void {
    if (!stream.wantsPeers) return;
    stream.offerPeers(peers.filter((p) => p.node !== stream.node));
  }

  #scheduleHeartbeat(): void {
    const timer = this.#clock.setTimeout(() => {
      if (this.#closing) return;
      for (const stream of [...this.#streams.keys()]) stream.heartbeat();
      this.#scheduleHeartbeat();
    }, this.#heartbeatMs);
    timer.unref?.();
    this.#heartbeatTimer = timer;
  }
}

/** Null when the header carries the expected token, else why not (without any token in it). */
export function checkBearer(header: string | undefined, expected: string | null): string | null {
  if (expected === null || expected === '') return 'no token configured';
  if (header === undefined) return 'no Authorization header';
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (match === null) return 'Authorization is not a bearer token';
  // Hash both sides: equal lengths for timingSafeEqual, and no length leak.
  const presented = createHash('sha256').update(match[1]!).digest();
  const wanted = createHash('sha256').update(expected).digest();
  return timingSafeEqual(presented, wanted) ? null : 'wrong token';
}

function refuse(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.once('finish', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      (status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '') +
      `\r\n${body}`,
  );
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function subscribe<T>(set: Set<T>, listener: T): () => void {
  set.add(listener);
  return () => set.delete(listener);
}

function emit<E>(listeners: Set<Listener<E>>, event: E): void {
  for (const listener of [...listeners]) call(listener, event);
}

/** A listener that throws must not break the stream; its error surfaces as uncaught. */
function call<E>(listener: (event: E) => void, event: E): void {
  try {
    listener(event);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
