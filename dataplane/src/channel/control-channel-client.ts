/**
 * The data plane's end of the control channel: connects to a controller replica, says hello with
 * the version it serves, applies pushed snapshots one at a time and answers ACK or NACK, and
 * reports server health (a full report after connecting, after an ACK that changed the report —
 * servers added or removed —, and, coalesced, whenever a server changes state). An ACK that leaves
 * the report as it was sends none: with thousands of servers and many data planes, re-sending an
 * unchanged report after every push was most of the controller's work per change.
 *
 * While no controller is reachable nothing changes: the last good snapshot keeps serving. The
 * client reconnects with jittered exponential backoff, trying the controller URLs in turn, and
 * judges a controller dead when the socket closes or no ping arrives for three heartbeat
 * intervals (the interval comes in the welcome).
 *
 * Stick-table peers: with `peer` set (this data plane's peer server, or null for none) the hello
 * says so and the controller sends `peers` lists, delivered as `peers` events (the CLI hands them
 * to the peer mesh). Without the controller the last list stays: peers keep replicating.
 */
import { ControllerMessageSchema, decodeMessage, encodeMessage, PROTOCOL_VERSION } from '@switchyard/api';
import type { DataplaneMessage, PeerInfo, Push, ServerHealth } from '@switchyard/api';
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { ApplyOutcome, SnapshotApplier } from './snapshot-applier.ts';

/** Where health reports come from (a `Dataplane`). */
export interface HealthSource {
  healthReport(): ServerHealth[];
  onHealthChange(listener: () => void): () => void;
}

export interface Backoff {
  /** Delay ceiling of the first retry; it doubles per failed attempt. */
  initialMs: number;
  /** Largest delay ceiling. */
  maxMs: number;
}

export interface ControlChannelClientOptions {
  /** Controller URLs (`ws://host:port`, any path); tried in turn. */
  urls: string[];
  /** The bearer token, or a function read at each connection (a rotated token file applies). */
  token: string | (() => string);
  /** This data plane's name (unique in the fleet). */
  node: string;
  applier: Pick<SnapshotApplier, 'apply' | 'version'>;
  health: HealthSource;
  logger: Logger;
  /** Default { initialMs: 500, maxMs: 15000 }. */
  backoff?: Backoff;
  /** In [0, 1): jitter and the first URL. Default Math.random. */
  random?: () => number;
  clock?: Clock;
  /** Health changes within this window go out as one report. Default 200. */
  healthCoalesceMs?: number;
  /** The connection and the welcome must come within this long. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Stick-table replication: where this data plane's peer server is reachable, or null without
   * one. Set (even null), the controller sends `peers` lists (`peers` events); unset (the default),
   * the hello does not mention peers, as before replication existed.
   */
  peer?: { url: string } | null;
}

export interface ClientState {
  /** Connected and welcomed by a replica. */
  connected: boolean;
  /** The replica we are connected to, or null. */
  replica: string | null;
  /** The URL connected or being tried, or null while waiting to retry or stopped. */
  url: string | null;
  /** The version served and last ACKed (the applier's), or null before the first. */
  ackedVersion: string | null;
  /** Failed connection attempts since the last successful one. */
  failures: number;
}

export type ClientEvent =
  | { type: 'connecting'; url: string; attempt: number }
  | { type: 'connected'; url: string; replica: string }
  | { type: 'disconnected'; url: string; code: number; reason: string; retryInMs: number | null }
  | { type: 'answered'; outcome: ApplyOutcome }
  | { type: 'health-sent'; servers: number }
  /** The other data planes with a peer server (whole list each time). */
  | { type: 'peers'; peers: PeerInfo[] };

/** Missed heartbeats after which the controller is considered gone. */
const DEAD_AFTER_HEARTBEATS = 3;
const MAX_NACK_ERROR = 4096;

/**
 * "Equal jitter": the ceiling doubles per failed attempt from `initialMs` up to `maxMs`, and the
 * delay is uniform in [ceiling / 2, ceiling), so clients spread out but never retry at once.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempt));
  let r = random();
  if (!(r >= 0 && r < 1)) r = 0;
  return ceiling / 2 + (r * ceiling) / 2;
}

export class ControlChannelClient {
  readonly #urls: string[];
  readonly #token: () => string;
  readonly #node: string;
  readonly #applier: Pick<SnapshotApplier, 'apply' | 'version'>;
  readonly #health: HealthSource;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #coalesceMs: number;
  readonly #connectTimeoutMs: number;
  readonly #peer: { url: string } | null | undefined;
  readonly #listeners = new Set<(event: ClientEvent) => void>();
  #started = false;
  #ws: WebSocket | null = null;
  #url: string | null = null;
  #replica: string | null = null;
  /** The controller's ping interval, from the welcome. */
  #heartbeatMs = 0;
  /** The current stream got a ping or a push after its welcome: the controller really serves us. */
  #healthy = false;
  #nextUrl = 0;
  #failures = 0;
  #retryTimer: TimerHandle | null = null;
  #deadTimer: TimerHandle | null = null;
  #healthTimer: TimerHandle | null = null;
  /** The last health message sent on the current stream, to skip unchanged reports. */
  #lastHealth: string | null = null;
  #unsubscribeHealth: (() => void) | null = null;
  /** Pushes are applied one after the other. */
  #applying: Promise<unknown> = Promise.resolve();

  constructor(options: ControlChannelClientOptions) {
    if (options.urls.length === 0) throw new Error('at least one controller URL is needed');
    for (const url of options.urls) {
      const protocol = new URL(url).protocol;
      if (!['ws:', 'wss:', 'http:', 'https:'].includes(protocol)) throw new Error(`controller URL ${url}: must be ws:// or wss://`);
    }
    this.#urls = [...options.urls];
    const token = options.token;
    this.#token = typeof token === 'function' ? token : () => token;
    this.#node = options.node;
    this.#applier = options.applier;
    this.#health = options.health;
    this.#log = options.logger.child({ component: 'channel', node: options.node });
    this.#backoff = options.backoff ?? { initialMs: 500, maxMs: 15_000 };
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
    this.#coalesceMs = options.healthCoalesceMs ?? 200;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#peer = options.peer;
    if (!(this.#backoff.initialMs > 0 && this.#backoff.maxMs >= this.#backoff.initialMs)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${JSON.stringify(this.#backoff)}`);
    }
  }

  get state(): ClientState {
    return {
      connected: this.#replica !== null,
      replica: this.#replica,
      url: this.#url,
      ackedVersion: this.#applier.version,
      failures: this.#failures,
    };
  }

  /** Connection events, answers and health reports, for logs, metrics and tests. Returns an unsubscribe. */
  onEvent(listener: (event: ClientEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#nextUrl = Math.floor(clamp01(this.#random()) * this.#urls.length);
    this.#unsubscribeHealth = this.#health.onHealthChange(() => this.#healthChanged());
    this.#connect();
  }

  /** Closes the connection and stops reconnecting; the data plane keeps serving. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#unsubscribeHealth?.();
    this.#unsubscribeHealth = null;
    this.#clearTimer('retry');
    this.#clearTimer('dead');
    this.#clearTimer('health');
    const ws = this.#ws;
    if (ws !== null && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'data plane stopping');
        setTimeout(() => ws.terminate(), 1000).unref();
      });
    }
    await this.#applying;
  }

  #connect(): void {
    if (!this.#started) return;
    const url = this.#urls[this.#nextUrl % this.#urls.length]!;
    this.#nextUrl = (this.#nextUrl + 1) % this.#urls.length;
    this.#url = url;
    this.#emit({ type: 'connecting', url, attempt: this.#failures });
    let token: string;
    try {
      token = this.#token();
    } catch (err) {
      this.#log.error({ err }, 'cannot read the channel token');
      token = '';
    }
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, handshakeTimeout: this.#connectTimeoutMs });
    this.#ws = ws;
    // Until the welcome, the whole connection must complete within the connect timeout.
    this.#armDead(this.#connectTimeoutMs, 'no welcome from the controller in time');
    ws.on('open', () => {
      if (ws !== this.#ws) return;
      const peer = this.#peer === undefined ? {} : { peer: this.#peer };
      this.#send(ws, { type: 'hello', protocol: PROTOCOL_VERSION, node: this.#node, lastVersion: this.#applier.version, ...peer });
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (ws !== this.#ws) return;
      if (isBinary) {
        this.#log.error('binary frame from the controller; closing');
        ws.close(1003, 'binary frames are not part of the protocol');
        return;
      }
      this.#onMessage(ws, rawToString(data));
    });
    ws.on('ping', () => {
      if (ws === this.#ws && this.#replica !== null) this.#alive();
    });
    ws.on('error', (err) => {
      if (ws !== this.#ws || !this.#started) return;
      const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
      if (status === '401') this.#log.error({ url }, 'the controller refused our token (401)');
      else this.#log.warn({ url, err: err.message }, 'control channel error');
    });
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(ws, url, code, reason.toString()));
  }

  #onMessage(ws: WebSocket, text: string): void {
    const decoded = decodeMessage(ControllerMessageSchema, text);
    if (!decoded.ok) {
      this.#log.error({ error: decoded.error }, 'invalid message from the controller; reconnecting');
      ws.close(1002, closeReason(decoded.error));
      return;
    }
    const message = decoded.message;
    if (message.type === 'welcome') {
      this.#replica = message.replica;
      this.#lastHealth = null; // a new stream (maybe another replica) gets the full report
      this.#heartbeatMs = message.heartbeatMs;
      this.#armHeartbeatDeadline();
      this.#log.info({ url: this.#url, replica: message.replica, serving: this.#applier.version }, 'connected to the controller');
      this.#emit({ type: 'connected', url: this.#url!, replica: message.replica });
      if (this.#applier.version !== null) this.#sendHealth();
      return;
    }
    if (this.#replica !== null) this.#alive();
    if (message.type === 'peers') {
      // Never ourselves, whatever the controller says.
      const peers = message.peers.filter((p) => p.node !== this.#node);
      this.#log.debug({ peers: peers.map((p) => p.node) }, 'peers from the controller');
      this.#emit({ type: 'peers', peers });
      return;
    }
    this.#onPush(ws, message);
  }

  /** A ping or a push: the controller is there. */
  #alive(): void {
    this.#healthy = true;
    this.#failures = 0;
    this.#armHeartbeatDeadline();
  }

  #onPush(ws: WebSocket, push: Push): void {
    this.#applying = this.#applying.then(async () => {
      const outcome = await this.#applier.apply({ version: push.version, snapshot: push.snapshot });
      this.#emit({ type: 'answered', outcome });
      if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) {
        // The stream is gone; the next one's hello carries the version we serve.
        this.#log.debug({ version: push.version }, 'answer not sent: the connection closed meanwhile');
        return;
      }
      if (outcome.ok) {
        this.#send(ws, { type: 'ack', version: push.version, nonce: push.nonce });
        this.#sendHealth();
      } else {
        const error = outcome.error.length > 0 ? outcome.error.slice(0, MAX_NACK_ERROR) : 'unknown error';
        this.#send(ws, { type: 'nack', version: push.version, nonce: push.nonce, error });
      }
    });
  }

  #onClose(ws: WebSocket, url: string, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = null;
    this.#url = null;
    const wasConnected = this.#replica !== null;
    const wasHealthy = this.#healthy;
    this.#replica = null;
    this.#healthy = false;
    this.#clearTimer('dead');
    this.#clearTimer('health');
    if (!this.#started) {
      this.#emit({ type: 'disconnected', url, code, reason, retryInMs: null });
      return;
    }
    // A stream that never proved healthy, or that the controller ended for a protocol reason
    // (4000-4999: bad hello, bad message, replaced by a namesake), counts as a failed attempt, so
    // the delays grow instead of reconnecting in a tight loop.
    if (!wasHealthy || (code >= 4000 && code <= 4999)) this.#failures++;
    const delay = backoffDelay(Math.max(0, this.#failures - 1), this.#backoff, this.#random);
    const fields = { url, code, reason, retryInMs: Math.round(delay), serving: this.#applier.version };
    if (wasConnected) this.#log.warn(fields, 'lost the controller; still serving the last good snapshot');
    else this.#log.info(fields, 'could not reach the controller');
    this.#emit({ type: 'disconnected', url, code, reason, retryInMs: delay });
    const timer = this.#clock.setTimeout(() => {
      this.#retryTimer = null;
      this.#connect();
    }, delay);
    timer.unref?.();
    this.#retryTimer = timer;
  }

  #armHeartbeatDeadline(): void {
    this.#armDead(this.#heartbeatMs * DEAD_AFTER_HEARTBEATS, `no heartbeat from the controller for ${DEAD_AFTER_HEARTBEATS} intervals`);
  }

  #armDead(ms: number, why: string): void {
    this.#clearTimer('dead');
    const ws = this.#ws;
    const timer = this.#clock.setTimeout(() => {
      this.#deadTimer = null;
      if (ws === null || ws !== this.#ws) return;
      this.#log.warn({ url: this.#url }, `${why}; reconnecting`);
      ws.terminate();
    }, ms);
    timer.unref?.();
    this.#deadTimer = timer;
  }

  #healthChanged(): void {
    if (this.#replica === null || this.#healthTimer !== null) return;
    const timer = this.#clock.setTimeout(() => {
      this.#healthTimer = null;
      this.#sendHealth();
    }, this.#coalesceMs);
    timer.unref?.();
    this.#healthTimer = timer;
  }

  /** A full report now (it also covers any change waiting to be coalesced). */
  #sendHealth(): void {
    this.#clearTimer('health');
    const ws = this.#ws;
    if (ws === null || this.#replica === null || ws.readyState !== WebSocket.OPEN) return;
    const servers = this.#health.healthReport();
    const text = encodeMessage({ type: 'health', servers });
    if (text === this.#lastHealth) return;
    this.#lastHealth = text;
    ws.send(text);
    this.#emit({ type: 'health-sent', servers: servers.length });
  }

  #send(ws: WebSocket, message: DataplaneMessage): void {
    ws.send(encodeMessage(message));
  }

  #clearTimer(which: 'retry' | 'dead' | 'health'): void {
    const timer = which === 'retry' ? this.#retryTimer : which === 'dead' ? this.#deadTimer : this.#healthTimer;
    if (timer !== null) this.#clock.clearTimeout(timer);
    if (which === 'retry') this.#retryTimer = null;
    else if (which === 'dead') this.#deadTimer = null;
    else this.#healthTimer = null;
  }

  #emit(event: ClientEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

/** A close reason fits 123 bytes of UTF-8; cut on a character boundary. */
function closeReason(text: string): string {
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > 120) break;
    out += ch;
  }
  return out;
}

function clamp01(r: number): number {
  return r >= 0 && r < 1 ? r : 0;
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
