/**
 * One data plane's stream, as a state machine with no socket in it (the channel server gives it a
 * transport): hello first, then pushes and their answers (ARCHITECTURE data flow step 7).
 *
 * - No push before the first snapshot exists, and none before the hello.
 * - At most one push is unacknowledged. A snapshot published meanwhile replaces the one waiting
 *   (it is sent when the outstanding ack or nack arrives); snapshots are never queued.
 * - Every push has a fresh nonce; an ack or nack whose nonce is not the outstanding one is stale
 *   and ignored.
 * - A version the data plane already answered (acked, nacked, or announced in its hello as the
 *   one it serves) is not pushed again on this stream: `hello.lastVersion` equal to the current
 *   version counts as acked without a push.
 * - Heartbeats: the server calls `heartbeat()` every interval; each one pings, and a stream that
 *   missed two pongs in a row is terminated.
 * - Peers (stick-table replication): a data plane whose hello carried `peer` gets `offerPeers`
 *   lists, sent only when they differ from the last one sent on this stream.
 */
import { randomUUID } from 'node:crypto';
import { CloseCode, DataplaneMessageSchema, decodeMessage, encodeMessage, HelloSchema } from '@switchyard/api';
import type { Ack, Hello, HealthReport, Nack, PeerInfo, ServerHealth } from '@switchyard/api';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.ts';
import type { DataplaneStatus } from './fleet.ts';
import type { VersionedSnapshot } from './versioned-snapshot.ts';

/** What a stream needs from its websocket. */
export interface StreamTransport {
  /** One text message; a push arrives as fragments of one message (see `encodePush`). */
  send(message: string | readonly Buffer[]): void;
  /** A closing handshake with an application code and reason. */
  close(code: number, reason: string): void;
  ping(): void;
  /** Drops the connection at once (dead peer). */
  terminate(): void;
}

export interface AckEvent {
  node: string;
  version: string;
  /** From sending the push to receiving its ack. */
  latencyMs: number;
}

export interface NackEvent {
  node: string;
  version: string;
  error: string;
}

export interface HealthEvent {
  node: string;
  servers: ServerHealth[];
}

/** What a stream tells its server. */
export interface StreamEvents {
  /** A valid hello arrived: the stream has a node name now. */
  identified(stream: Stream): void;
  /** The stream's DataplaneStatus changed (ack, nack, health). */
  changed(stream: Stream): void;
  ack(event: AckEvent): void;
  nack(event: NackEvent): void;
  health(event: HealthEvent): void;
}

export interface StreamOptions {
  replica: string;
  transport: StreamTransport;
  events: StreamEvents;
  /** The snapshot to serve the data plane when it says hello (the cache's current one). */
  current: () => VersionedSnapshot | null;
  clock: Clock;
  logger: Logger;
  /** How often the server pings; told to the data plane in the welcome. */
  heartbeatMs: number;
  /** The hello must arrive within this long, else the stream closes with 4000. */
  helloTimeoutMs: number;
  /** Nonce generator; unique per push. */
  nonce?: () => string;
}

export type StreamPhase = 'awaiting-hello' | 'open' | 'closed';

/** Pongs a stream may miss in a row; at the next heartbeat it is terminated. */
export const MISSED_PONGS_LIMIT = 2;

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
const MAX_REASON_BYTES = 123;

interface Outstanding {
  version: string;
  nonce: string;
  sentAt: number;
}

export class Stream {
  readonly #options: StreamOptions;
  readonly #nonce: () => string;
  #log: Logger;
  #phase: StreamPhase = 'awaiting-hello';
  #helloTimer: Timer | null;
  #missedPongs = 0;
  #node: string | null = null;
  /** The newest snapshot this stream should get; replaced, never queued. */
  #desired: VersionedSnapshot | null = null;
  #outstanding: Outstanding | null = null;
  /** The last version the data plane answered or announced; never pushed again. */
  #settled: string | null = null;
  #status: DataplaneStatus | null = null;
  /** The hello carried `peer` (even null): this data plane understands `peers` messages. */
  #wantsPeers = false;
  /** The last peers list sent, encoded; null before the first. */
  #peersSent: string | null = null;

  constructor(options: StreamOptions) {
    this.#options = options;
    this.#nonce = options.nonce ?? randomUUID;
    this.#log = options.logger;
    this.#helloTimer = options.clock.setTimeout(() => {
      this.#helloTimer = null;
      if (this.#phase === 'awaiting-hello') this.close(CloseCode.BadHello, `no hello within ${options.helloTimeoutMs}ms`);
    }, options.helloTimeoutMs);
    this.#helloTimer.unref?.();
  }

  get phase(): StreamPhase {
    return this.#phase;
  }

  /** The data plane's name from its hello; null before. */
  get node(): string | null {
    return this.#node;
  }

  /** The push waiting for an answer, if any. */
  get outstanding(): Readonly<Outstanding> | null {
    return this.#outstanding;
  }

  /** Whether the data plane asked for `peers` messages (its hello had `peer`). */
  get wantsPeers(): boolean {
    return this.#wantsPeers;
  }

  /**
   * The other data planes with a peer server. Sent (whole) when the stream is open, the data plane
   * asked for peers, and the list differs from the last one sent here.
   */
  offerPeers(peers: readonly PeerInfo[]): void {
    if (this.#phase !== 'open' || !this.#wantsPeers) return;
    const text = encodeMessage({ type: 'peers', peers: [...peers] });
    if (text === this.#peersSent) return;
    this.#peersSent = text;
    this.#log.debug({ peers: peers.map((p) => p.node) }, 'peers');
    this.#options.transport.send(text);
  }

  /** A copy of the data plane's status; null before the hello. */
  status(): DataplaneStatus | null {
    return this.#status === null ? null : { ...this.#status, nack: this.#status.nack && { ...this.#status.nack } };
  }

  /** One text frame from the data plane. */
  receive(text: string): void {
    if (this.#phase === 'closed') return;
    if (this.#phase === 'awaiting-hello') {
      this.#receiveHello(text);
      return;
    }
    const decoded = decodeMessage(DataplaneMessageSchema, text);
    if (!decoded.ok) {
      this.protocolError(decoded.error);
      return;
    }
    const message = decoded.message;
    switch (message.type) {
      case 'hello':
        this.protocolError('type: hello was already received on this stream');
        return;
      case 'ack':
        this.#onAck(message);
        return;
      case 'nack':
        this.#onNack(message);
        return;
      case 'health':
        this.#onHealth(message);
        return;
    }
  }

  /** A newer snapshot was published. */
  offer(snapshot: VersionedSnapshot): void {
    this.#desired = snapshot;
    this.#pump();
  }

  pong(): void {
    this.#missedPongs = 0;
  }

  /** Called every heartbeat interval by the server: ping, or terminate a peer that stopped answering. */
  heartbeat(): void {
    if (this.#phase === 'closed') return;
    if (this.#missedPongs >= MISSED_PONGS_LIMIT) {
      this.#log.warn({ missedPongs: this.#missedPongs }, 'data plane stopped answering pings; terminating its stream');
      this.#phase = 'closed';
      this.#clearHelloTimer();
      this.#options.transport.terminate();
      return;
    }
    this.#missedPongs++;
    this.#options.transport.ping();
  }

  /** A violation of the protocol: closes with 4001 (or 4000 before the hello) naming the field. */
  protocolError(error: string): void {
    if (this.#phase === 'closed') return;
    const code = this.#phase === 'awaiting-hello' ? CloseCode.BadHello : CloseCode.BadMessage;
    this.#log.warn({ code, error }, 'closing a data plane stream: invalid message');
    this.close(code, error);
  }

  close(code: number, reason: string): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#clearHelloTimer();
    this.#options.transport.close(code, truncateReason(reason));
  }

  /** The transport is gone (closed by either side, or terminated). */
  closed(): void {
    this.#phase = 'closed';
    this.#clearHelloTimer();
  }

  #receiveHello(text: string): void {
    const decoded = decodeMessage(HelloSchema, text);
    if (!decoded.ok) {
      this.protocolError(`hello: ${decoded.error}`);
      return;
    }
    const hello: Hello = decoded.message;
    this.#clearHelloTimer();
    this.#phase = 'open';
    this.#node = hello.node;
    this.#log = this.#log.child({ node: hello.node });
    this.#settled = hello.lastVersion;
    this.#wantsPeers = hello.peer !== undefined;
    this.#status = {
      node: hello.node,
      replica: this.#options.replica,
      ackedVersion: hello.lastVersion,
      nack: null,
      health: [],
      updatedAt: this.#options.clock.now(),
      ...(hello.peer === undefined ? {} : { peerUrl: hello.peer?.url ?? null }),
    };
    this.#options.transport.send(encodeMessage({ type: 'welcome', replica: this.#options.replica, heartbeatMs: this.#options.heartbeatMs }));
    this.#log.info({ lastVersion: hello.lastVersion }, 'data plane connected');
    this.#options.events.identified(this);
    if (this.#phase !== 'open') return;
    this.#desired = this.#options.current();
    this.#pump();
  }

  #pump(): void {
    if (this.#phase !== 'open' || this.#outstanding !== null || this.#desired === null) return;
    const next = this.#desired;
    if (next.version === this.#settled) return;
    const nonce = this.#nonce();
    this.#outstanding = { version: next.version, nonce, sentAt: this.#options.clock.now() };
    this.#log.debug({ version: next.version, nonce }, 'push');
    this.#options.transport.send(encodePush(next, nonce));
  }

  /** The outstanding push this answer is for, or null if it is stale (or names another version). */
  #answered(message: Ack | Nack): Outstanding | null {
    const outstanding = this.#outstanding;
    if (outstanding === null || outstanding.nonce !== message.nonce) {
      this.#log.debug({ type: message.type, version: message.version, nonce: message.nonce, outstanding: outstanding?.nonce ?? null }, 'stale answer ignored');
      return null;
    }
    if (outstanding.version !== message.version) {
      this.protocolError(`version: ${message.version} is not the version ${outstanding.version} pushed with nonce ${message.nonce}`);
      return null;
    }
    this.#outstanding = null;
    return outstanding;
  }

  #onAck(ack: Ack): void {
    const push = this.#answered(ack);
    if (push === null) return;
    const now = this.#options.clock.now();
    this.#settled = ack.version;
    this.#status = { ...this.#status!, ackedVersion: ack.version, nack: null, updatedAt: now };
    this.#log.debug({ version: ack.version }, 'ack');
    this.#options.events.ack({ node: this.#node!, version: ack.version, latencyMs: Math.max(0, now - push.sentAt) });
    this.#options.events.changed(this);
    this.#pump();
  }

  #onNack(nack: Nack): void {
    const push = this.#answered(nack);
    if (push === null) return;
    this.#settled = nack.version;
    this.#status = { ...this.#status!, nack: { version: nack.version, error: nack.error }, updatedAt: this.#options.clock.now() };
    this.#log.warn({ version: nack.version, error: nack.error }, 'data plane rejected the snapshot (NACK); it keeps serving its last good one');
    this.#options.events.nack({ node: this.#node!, version: nack.version, error: nack.error });
    this.#options.events.changed(this);
    this.#pump();
  }

  #onHealth(report: HealthReport): void {
    this.#status = { ...this.#status!, health: report.servers, updatedAt: this.#options.clock.now() };
    this.#options.events.health({ node: this.#node!, servers: report.servers });
    this.#options.events.changed(this);
  }

  #clearHelloTimer(): void {
    if (this.#helloTimer !== null) this.#options.clock.clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
  }
}

/** The UTF-8 JSON of each snapshot, encoded once however many streams push it. */
const snapshotJson = new WeakMap<VersionedSnapshot, Buffer>();
const PUSH_END = Buffer.from('}');

/**
 * `encodeMessage({ type: 'push', ... })` as the fragments of one websocket text message: the
 * envelope (version and this stream's nonce) around the snapshot's JSON bytes, which every stream
 * shares. Fifty data planes then cost one serialisation and no copies, instead of fifty
 * multi-megabyte strings and their UTF-8 conversions.
 */
export function encodePush(snapshot: VersionedSnapshot, nonce: string): Buffer[] {
  let json = snapshotJson.get(snapshot);
  if (json === undefined) {
    json = Buffer.from(JSON.stringify(snapshot.snapshot), 'utf8');
    snapshotJson.set(snapshot, json);
  }
  const head = `{"type":"push","version":${JSON.stringify(snapshot.version)},"nonce":${JSON.stringify(nonce)},"snapshot":`;
  return [Buffer.from(head, 'utf8'), json, PUSH_END];
}

/** Cuts a close reason to the 123 bytes a close frame allows, on a character boundary. */
export function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let out = '';
  for (const ch of reason) {
    if (Buffer.byteLength(out + ch) > MAX_REASON_BYTES - 3) break;
    out += ch;
  }
  return `${out}...`;
}
