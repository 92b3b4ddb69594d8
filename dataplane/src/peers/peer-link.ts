/**
 * The sending side of one peer connection (frames.ts): connects to a peer's server, sends this
 * data plane's full replicated state, then its changes as they come, and reconnects with jittered
 * backoff when the connection ends. Nothing here runs on the request path: it is driven by socket
 * events, timers and `publish`, which only queues a frame on the socket.
 *
 * Backpressure: a peer that does not read fast enough lets the socket's send buffer grow. Past
 * `maxBufferedBytes` the connection is dropped and the reconnect's full sync brings the peer up to
 * date: updates carry whole per-origin states of the keys that changed, so skipping some and
 * resending everything later is always correct, and costs nothing while peers keep up. (Keeping
 * the skipped updates instead would need the union of their keys, i.e. unbounded memory for a peer
 * that never drains.) The full sync itself is paced: one chunk (at most 1,000 entries) per turn of
 * the event loop, and, while more than `maxBufferedBytes / 4` is buffered, only after the previous
 * chunk was written out.
 */
import { decodeMessage } from '@switchyard/api';
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { backoffDelay, type Backoff } from '../channel/control-channel-client.ts';
import type { Logger } from '../logger.ts';
import { closeReason, PEER_PROTOCOL, PeerCloseCode, PeerHelloSchema, ReceiverFrameSchema, type PeerHello } from './frames.ts';
import type { StickUpdate } from '../stick/replication.ts';
import type { StickReplica } from './replica.ts';

export type LinkState =
  /** Connecting, or waiting for the peer's hello. */
  | 'connecting'
  /** Sending the full state. */
  | 'syncing'
  /** Full state sent; sending changes as they come. */
  | 'live'
  /** Waiting to reconnect. */
  | 'waiting'
  /** The URL is this very process (a static list naming every data plane): nothing to do. */
  | 'self'
  | 'stopped';

export interface PeerLinkOptions {
  url: string;
  /** This data plane. */
  node: string;
  instance: string;
  /** The bearer token, read at each connection. */
  token: () => string;
  replica: StickReplica;
  logger: Logger;
  backoff: Backoff;
  random: () => number;
  /** Ping interval; a peer that misses two pongs in a row is dropped. */
  heartbeatMs: number;
  /** The connection and the peer's hello must come within this long. */
  connectTimeoutMs: number;
  maxBufferedBytes: number;
  /** Deltas held while a full sync is being sent; more restart the sync (the new full state has them). */
  maxPendingUpdates: number;
  /** The peer said who it is (each connection). */
  onIdentified: (link: PeerLink, hello: PeerHello) => void;
}

export interface PeerLinkStats {
  url: string;
  /** The peer's node name, once it said hello; null before. */
  node: string | null;
  state: LinkState;
  /** Failed attempts since the last connection that reached `live`. */
  failures: number;
  /** Full syncs completed on this link. */
  fullSyncs: number;
  /** Why the last connection ended, or null. */
  lastError: string | null;
}

export class PeerLink {
  readonly url: string;
  readonly #o: PeerLinkOptions;
  readonly #log: Logger;
  #state: LinkState = 'waiting';
  #ws: WebSocket | null = null;
  #peer: PeerHello | null = null;
  #failures = 0;
  #fullSyncs = 0;
  #lastError: string | null = null;
  /** Why the current connection is ending, when we know better than its close code. */
  #why: string | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #connectTimer: ReturnType<typeof setTimeout> | null = null;
  #pingTimer: ReturnType<typeof setInterval> | null = null;
  #missedPongs = 0;
  /** Deltas that came during the current full sync, sent after it. */
  #pending: StickUpdate[] = [];
  /** Increments per sync attempt: a paced sync that was superseded stops. */
  #syncGen = 0;

  constructor(options: PeerLinkOptions) {
    this.url = options.url;
    this.#o = options;
    this.#log = options.logger.child({ peer: options.url });
  }

  get state(): LinkState {
    return this.#state;
  }

  /** The peer's hello on the current or last connection. */
  get peer(): PeerHello | null {
    return this.#peer;
  }

  stats(): PeerLinkStats {
    return { url: this.url, node: this.#peer?.node ?? null, state: this.#state, failures: this.#failures, fullSyncs: this.#fullSyncs, lastError: this.#lastError };
  }

  start(): void {
    if (this.#state !== 'waiting' || this.#retryTimer !== null || this.#ws !== null) return;
    this.#connect();
  }

  /** Closes the connection for good. */
  stop(code: number = PeerCloseCode.GoingAway, reason = 'data plane stopping'): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#clearTimers();
    this.#pending = [];
    const ws = this.#ws;
    this.#ws = null;
    if (ws === null) return;
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN) {
      ws.close(code, closeReason(reason));
      // A peer that does not finish the closing handshake soon is cut off.
      setTimeout(() => ws.terminate(), 1000).unref();
    }
  }

  /** A change to send: now when live, after the full sync while syncing, never while disconnected (the next full sync has it). */
  publish(update: StickUpdate): void {
    if (this.#state === 'live') this.#send(update);
    else if (this.#state === 'syncing') {
      this.#pending.push(update);
      if (this.#pending.length > this.#o.maxPendingUpdates) {
        this.#log.debug({ pending: this.#pending.length }, 'changes piled up during the full sync; starting it again');
        this.#startSync();
      }
    }
  }

  /** The peer asked for everything again (a table appeared there). */
  resync(): void {
    if (this.#state === 'live' || this.#state === 'syncing') this.#startSync();
  }

  #connect(): void {
    this.#state = 'connecting';
    this.#peer = null;
    this.#why = null;
    let token: string;
    try {
      token = this.#o.token();
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'cannot read the token');
      token = '';
    }
    const ws = new WebSocket(this.url, { headers: { authorization: `Bearer ${token}` }, handshakeTimeout: this.#o.connectTimeoutMs, perMessageDeflate: false });
    this.#ws = ws;
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = null;
      if (ws === this.#ws && this.#state === 'connecting') this.#fail(ws, 'no hello from the peer in time');
    }, this.#o.connectTimeoutMs);
    this.#connectTimer.unref();
    ws.on('open', () => {
      if (ws !== this.#ws) return;
      ws.send(JSON.stringify({ type: 'hello', protocol: PEER_PROTOCOL, node: this.#o.node, instance: this.#o.instance }));
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (ws !== this.#ws) return;
      if (isBinary) return this.#protocolError(ws, 'binary frames are not part of the protocol');
      this.#onFrame(ws, rawToString(data));
    });
    ws.on('pong', () => {
      this.#missedPongs = 0;
    });
    ws.on('error', (err) => {
      if (ws !== this.#ws) return;
      const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
      if (status === '401') this.#log.error('the peer refused our token (401)');
      this.#fail(ws, status === '401' ? 'the peer refused our token (401)' : err.message);
    });
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(ws, code, reason.toString()));
  }

  #onFrame(ws: WebSocket, text: string): void {
    if (this.#peer === null) {
      const hello = decodeMessage(PeerHelloSchema, text);
      if (!hello.ok) return this.#protocolError(ws, `hello: ${hello.error}`);
      this.#peer = hello.message;
      if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
      this.#connectTimer = null;
      this.#o.onIdentified(this, hello.message);
      if (this.#state !== 'connecting' || ws !== this.#ws) return; // stopped by the callback
      this.#startHeartbeat(ws);
      this.#startSync();
      return;
    }
    const frame = decodeMessage(ReceiverFrameSchema, text);
    if (!frame.ok) return this.#protocolError(ws, frame.error);
    // The only frame a receiver sends.
    this.#log.debug('the peer asked for our full state again');
    this.resync();
  }

  /** Sends the full state (paced by the socket buffer), then `synced` and the deltas held meanwhile. */
  #startSync(): void {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return;
    const gen = ++this.#syncGen;
    this.#state = 'syncing';
    this.#pending = [];
    const started = performance.now();
    let chunks: StickUpdate[];
    try {
      chunks = this.#o.replica.fullState();
    } catch (err) {
      this.#log.error({ err }, 'cannot take the full state; dropping the connection');
      this.#fail(ws, `full state: ${(err as Error).message}`);
      return;
    }
    let i = 0;
    const lowWater = this.#o.maxBufferedBytes / 4;
    // One chunk per turn of the event loop, so that encoding a big table never holds up requests.
    const step = (): void => {
      if (gen !== this.#syncGen || ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return;
      if (i < chunks.length) {
        if (ws.bufferedAmount > this.#o.maxBufferedBytes) return this.#tooSlow(ws);
        const frame = JSON.stringify({ type: 'stick', update: chunks[i++] });
        // Over the low-water mark: continue once what is buffered has been written out.
        if (ws.bufferedAmount > lowWater) ws.send(frame, () => setImmediate(step));
        else {
          ws.send(frame);
          setImmediate(step);
        }
        return;
      }
      ws.send(JSON.stringify({ type: 'synced' }));
      this.#state = 'live';
      this.#failures = 0;
      this.#fullSyncs++;
      const pending = this.#pending;
      this.#pending = [];
      this.#log.debug({ chunks: chunks.length, pending: pending.length, ms: Math.round(performance.now() - started), node: this.#peer?.node }, 'full state sent');
      for (const update of pending) this.#send(update);
    };
    step();
  }

  #send(update: StickUpdate): void {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.#o.maxBufferedBytes) return this.#tooSlow(ws);
    ws.send(JSON.stringify({ type: 'stick', update }));
  }

  #tooSlow(ws: WebSocket): void {
    this.#log.warn({ bufferedBytes: ws.bufferedAmount, node: this.#peer?.node }, 'peer too slow: dropping the connection; the reconnect sends everything again');
    this.#fail(ws, `too slow: ${ws.bufferedAmount} bytes buffered`);
  }

  #startHeartbeat(ws: WebSocket): void {
    this.#missedPongs = 0;
    this.#pingTimer = setInterval(() => {
      if (ws !== this.#ws) return;
      if (this.#missedPongs >= 2) {
        this.#fail(ws, 'the peer stopped answering pings');
        return;
      }
      this.#missedPongs++;
      ws.ping();
    }, this.#o.heartbeatMs);
    this.#pingTimer.unref();
  }

  #protocolError(ws: WebSocket, error: string): void {
    this.#log.error({ error }, 'invalid frame from the peer; reconnecting');
    this.#why ??= error;
    ws.close(PeerCloseCode.BadFrame, closeReason(error));
  }

  #fail(ws: WebSocket, why: string): void {
    this.#why ??= why;
    ws.terminate();
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = null;
    this.#clearTimers();
    this.#pending = [];
    this.#syncGen++;
    if (this.#state === 'stopped') return;
    if (code === PeerCloseCode.Self) {
      this.#state = 'self';
      this.#log.info('this peer URL is this data plane itself; not replicating to it');
      return;
    }
    const wasLive = this.#state === 'live';
    this.#lastError = this.#why ?? (reason === '' ? `closed (${code})` : `closed (${code}): ${reason}`);
    this.#failures++;
    const delay = backoffDelay(this.#failures - 1, this.#o.backoff, this.#o.random);
    const fields = { node: this.#peer?.node, code, reason: this.#lastError, retryInMs: Math.round(delay) };
    if (wasLive) this.#log.warn(fields, 'lost the peer; reconnecting');
    else this.#log.debug(fields, 'could not reach the peer');
    this.#state = 'waiting';
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#state === 'waiting') this.#connect();
    }, delay);
    this.#retryTimer.unref();
  }

  #clearTimers(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    this.#retryTimer = null;
    this.#connectTimer = null;
    this.#pingTimer = null;
  }
}

export function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
