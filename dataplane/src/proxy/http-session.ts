/**
 * One client connection in HTTP mode: a strict HTTP/1.1 proxy over raw sockets.
 *
 * A request head is parsed once (MessageHead), routed to a cluster, balanced to a server, and
 * forwarded on a pooled keep-alive connection: the head is written as the client sent it plus
 * the headers we add, and bodies stream through as received, with backpressure both ways and
 * framing (Content-Length or chunked) tracked only to find where each message ends. The session
 * object lives as long as the client connection and is reused for every request on it.
 */
import type net from 'node:net';
import { ChunkedTracker } from '../http/chunked.ts';
import { cannedResponse } from '../http/canned-responses.ts';
import { MessageHead, findHeadEnd, isHopByHop, parseRequestHead, parseResponseHead, responseHasBody } from '../http/message-head.ts';
import type { KeySource } from '../lb/hash-key.ts';
import { CookieDecision } from '../persistence/cookie.ts';
import type { HttpTransaction } from '../rules/transaction.ts';
import type { Reader } from '../sockets/reader.ts';
import { SessionTrackers } from '../stick/trackers.ts';
import type { StickTableLookup } from '../stick/types.ts';
import type { Cluster, Waiter } from '../upstream/cluster.ts';
import type { ServerState } from '../upstream/server-state.ts';
import { UpstreamConn, takeIdle, type UpstreamUser } from '../upstream/upstream-conn.ts';
import { TransactionLog } from './access-log.ts';
import type { ListenerRuntime, ListenerSlot, Session } from './listener-runtime.ts';
import { stickKey, stickMatch, stickStoreRequest, stickStoreResponse } from './persistence.ts';

/** Bodies up to this size that arrive with their head are sent with it in one write. */
const SMALL_BODY = 4096;

/** Largest request or response head accepted (HAProxy's tune.bufsize less its rewrite reserve). */
export const MAX_HEAD_BYTES = 15 * 1024;

/**
 * The heads of transactions that ended, for the next to begin, on this thread: an idle
 * keep-alive connection holds none. A head with its header arrays is about 0.5 KiB, so two per
 * connection came to 10 MiB over 10,000 idle connections.
 */
const spareHeads: MessageHead[] = [];
const MAX_SPARE_HEADS = 256;
/** What an idle session's heads read as: always empty (nothing parses into it). */
const NO_HEAD = new MessageHead();

function takeHead(): MessageHead {
  return spareHeads.pop() ?? new MessageHead();
}

function giveHead(head: MessageHead): void {
  if (head === NO_HEAD) return;
  head.clear();
  if (spareHeads.length < MAX_SPARE_HEADS) spareHeads.push(head);
}

/**
 * A client socket knows its session, so that its event listeners can be the same functions for
 * every session (HttpSession.onEnd...) instead of five closures each, about 0.3 KiB per connection.
 */
const SESSION = Symbol('HttpSession');
interface ClientSocket extends net.Socket {
  [SESSION]: HttpSession;
}

const IDLE = 0; // waiting for a request head
const WAITING = 1; // head parsed, waiting for a server slot or a connection
const FORWARDING = 2; // request and response in flight
const TUNNEL = 3; // after 101 Switching Protocols
const CLOSED = 4;

const BODY_NONE = 0;
const BODY_LENGTH = 1;
const BODY_CHUNKED = 2;
const BODY_CLOSE = 3; // response delimited by the server closing

export class HttpSession implements UpstreamUser, Waiter, KeySource, Session, HttpTransaction {
  private readonly client: net.Socket;
  private readonly reader: Reader;
  private readonly slot: ListenerSlot;
  private runtime: ListenerRuntime;
  private state = IDLE;
  private pending: Buffer | null = null;
  private headScanFrom = 0;
  private requestTimer: ReturnType<typeof setTimeout> | null = null;
  /** The request and response heads, from takeHead while a transaction runs, else NO_HEAD. */
  req = NO_HEAD;
  private resHead = NO_HEAD;
  /** Whether resHead holds the final response of the current transaction (for rules and logs). */
  private resParsed = false;
  private reqBody = BODY_NONE;
  private reqRemaining = 0;
  private reqDone = false;
  /** Made for the first chunked request, as resChunks for the first chunked response. */
  private reqChunks: ChunkedTracker | null = null;
  private resBody = BODY_NONE;
  private resRemaining = 0;
  private resStarted = false;
  private resPending: Buffer | null = null;
  private resChunks: ChunkedTracker | null = null;
  private dechunk = false;
  private clientKeepAlive = true;
  private clientEnded = false;
  private clientPaused = false;
  private clientTimeoutMs = -1;
  private cluster: Cluster | null = null;
  private conn: UpstreamConn | null = null;
  private hash: number | undefined = undefined;
  private retriesLeft = 0;
  private avoid: ServerState | null = null;
  private queueTimer: ReturnType<typeof setTimeout> | null = null;
  private draining = false;
  /** Whether this session holds a slot (counted in server.active) on `server`. */
  private holding = false;
  // Waiter
  server: ServerState | null = null;
  queued = false;
  // KeySource, Transaction
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly ssl = false;
  readonly sni = '';
  /** Stick counters tracked by the current request's rules (released when it ends). */
  readonly trackers = new SessionTrackers();
  /** Its place in the listener's SessionList. */
  listIndex = -1;
  readonly captures: (string | null)[] = [];
  /** The cookie persistence decision of the current request, once a cluster with cookies is used. */
  private cookie: CookieDecision | null = null;
  /** The server persistence (cookie, stick table) chose for this request, or null: balance. */
  private persistent: ServerState | null = null;
  /** The request's `stick on` key (null: none, or the cluster does not stick). */
  private stickKey: string | null = null;
  /** A request is being handled: from its head to its end, however it ends (endTransaction). */
  private inTransaction = false;
  /** Status sent to the client for the current request (the server's, or ours). */
  private status = 0;
  private bytesOut = 0;
  /** Timing and counters for the access log, only when the Frontend logs. */
  private log: TransactionLog | null = null;
  /** The server of the current request, kept for its log line after the slot is released. */
  private lastServer: ServerState | null = null;

  /** `client` is paused (sockets/accept.ts) until the end of this constructor. */
  constructor(client: net.Socket, reader: Reader, slot: ListenerSlot) {
    this.client = client;
    this.reader = reader;
    reader.sink = (data) => this.onClientRead(data);
    this.slot = slot;
    this.runtime = slot.runtime;
    this.src = client.remoteAddress ?? '';
    this.srcPort = client.remotePort ?? 0;
    this.dst = client.localAddress ?? '';
    this.dstPort = client.localPort ?? 0;
    if (this.runtime.accessLog !== null) this.log = new TransactionLog();
    slot.sessions.add(this);
    client.setNoDelay(true);
    this.setClientTimeout(this.runtime.config.timeouts.httpKeepAliveMs);
    (client as ClientSocket)[SESSION] = this;
    client.on('end', HttpSession.onEnd);
    client.on('error', HttpSession.onGone);
    client.on('close', HttpSession.onGone);
    client.on('timeout', HttpSession.onTimeout);
    client.on('drain', HttpSession.onDrain);
    client.resume();
  }

  // The client socket's listeners (`this` is the socket).
  private static onEnd(this: ClientSocket): void {
    this[SESSION].onClientEnd();
  }

  private static onGone(this: ClientSocket): void {
    this[SESSION].destroy();
  }

  private static onTimeout(this: ClientSocket): void {
    this[SESSION].onClientTimeout();
  }

  private static onDrain(this: ClientSocket): void {
    this[SESSION].onClientDrain();
  }

  get target(): string {
    return this.req.target;
  }

  header(nameLower: string): string | undefined {
    return this.req.header(nameLower);
  }

  get res(): MessageHead | null {
    return this.resParsed ? this.resHead : null;
  }

  get frontend(): string {
    return this.runtime.config.frontend;
  }

  get tables(): StickTableLookup {
    return this.runtime.tables;
  }

  drain(): void {
    this.draining = true;
    if (this.state === IDLE && this.pending === null) this.close();
  }

  // ---- client side -------------------------------------------------------------------------

  /** `data` is borrowed (sockets/reader.ts): what is left of it to handle later is copied. */
  private onClientRead(data: Buffer): void {
    this.onClientData(data);
    if (this.pending !== null) this.pending = this.reader.owned(this.pending);
  }

  private onClientData(data: Buffer): void {
    switch (this.state) {
      case IDLE:
        if (this.pending === null) this.log?.requestStarted();
        this.pending = this.pending === null ? data : Buffer.concat([this.pending, data]);
        this.parseRequest();
        return;
      case FORWARDING:
        if (!this.reqDone && this.pending === null) this.forwardRequestBody(data);
        else this.holdPending(data); // the next, pipelined request
        return;
      case WAITING:
        this.holdPending(data);
        return;
      case TUNNEL:
        if (this.conn && !this.reader.write(this.conn.socket, data)) this.pauseClient();
        return;
      default:
        return;
    }
  }

  /** Keeps bytes that cannot be handled yet; past one head's worth, stop reading the client. */
  private holdPending(data: Buffer): void {
    this.pending = this.pending === null ? data : Buffer.concat([this.pending, data]);
    if (this.pending.length > MAX_HEAD_BYTES) this.pauseClient();
  }

  private parseRequest(): void {
    const buf = this.pending!;
    const end = findHeadEnd(buf, this.headScanFrom);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) return this.rejectHead(431);
      this.headScanFrom = buf.length;
      // http-request timeout: the whole head must arrive in time, however slowly it trickles.
      if (this.requestTimer === null) this.requestTimer = setTimeout(() => this.onRequestTimeout(), this.runtime.config.timeouts.httpRequestMs);
      return;
    }
    if (end > MAX_HEAD_BYTES) return this.rejectHead(431);
    this.headScanFrom = 0;
    if (this.requestTimer !== null) {
      clearTimeout(this.requestTimer);
      this.requestTimer = null;
    }
    this.beginTransaction();
    const error = parseRequestHead(buf.toString('latin1', 0, end), this.req);
    this.log?.requestLine(error === null ? this.req : null);
    if (error !== null) return this.reject(400, 'PR');
    this.pending = end === buf.length ? null : buf.subarray(end);
    this.startTransaction();
  }

  /** A request head arrived (or is too large to): from here on it ends with endTransaction. */
  private beginTransaction(): void {
    this.inTransaction = true;
    if (this.req === NO_HEAD) {
      this.req = takeHead();
      this.resHead = takeHead();
    }
    this.lastServer = null;
    this.resParsed = false;
    this.status = 0;
    this.bytesOut = 0;
    const runtime = (this.runtime = this.slot.runtime);
    if (runtime.accessLog !== null) this.log ??= new TransactionLog();
  }

  /** A head we refuse before parsing it (too large): logged as a bad request, as HAProxy does. */
  private rejectHead(status: number): void {
    this.beginTransaction();
    this.log?.requestLine(null);
    this.reject(status, 'PR');
  }

  private startTransaction(): void {
    const runtime = this.runtime;
    const req = this.req;
    this.state = WAITING;
    let cluster = runtime.cluster;
    const rules = runtime.rules;
    if (rules !== null) {
      // Rules run before framing is read: they may rewrite the head (see rules/compile.ts for how requests are counted).
      const captures = this.captures;
      captures.length = rules.captures;
      captures.fill(null);
      this.trackers.httpRequest();
      const verdict = rules.onHttpRequest(this);
      if (verdict.kind === 'respond') return this.respond(verdict.status, verdict.response);
      if (verdict.cluster !== null) cluster = runtime.clusters.get(verdict.cluster) ?? null;
    }
    // Only a body needs holding back until a server connection exists; pausing a socket costs
    // an epoll change, so a body-less request leaves the client readable (see onClientData).
    if (req.chunked || req.contentLength > 0) this.pauseClient();
    this.setClientTimeout(runtime.config.timeouts.clientMs);
    this.reqDone = false;
    if (req.chunked) {
      this.reqBody = BODY_CHUNKED;
      (this.reqChunks ??= new ChunkedTracker()).reset();
    } else if (req.contentLength > 0) {
      this.reqBody = BODY_LENGTH;
      this.reqRemaining = req.contentLength;
    } else {
      this.reqBody = BODY_NONE;
      this.reqDone = true;
    }
    this.clientKeepAlive = req.keepAlive && !this.draining && !this.slot.draining;
    this.cluster = cluster;
    if (cluster === null) return this.reject(503, 'SC');
    this.retriesLeft = cluster.config.retries;
    this.avoid = null;
    this.persistent = null;
    const persistence = cluster.persistence;
    if (persistence !== null) {
      if (persistence.cookie !== null) {
        const decision = (this.cookie ??= new CookieDecision());
        persistence.cookie.onRequest(req, Date.now(), decision);
        this.persistent = decision.server;
      } else this.cookie?.reset();
      this.stickKey = persistence.stick === null ? null : stickKey(persistence.stick, this);
      if (this.persistent === null && persistence.stick !== null) this.persistent = stickMatch(cluster, persistence.stick, this.stickKey);
    } else this.cookie?.reset();
    this.hash = this.persistent === null ? cluster.keyHash(this) : undefined;
    this.assignServer();
  }

  // ---- choosing a server -------------------------------------------------------------------

  private assignServer(): void {
    const cluster = this.cluster!;
    const persistent = this.persistent;
    this.log?.queueStarted();
    const server = persistent ?? cluster.pick(this.hash, this.avoid);
    // tryTake reserves the slot; with worker threads another thread may just have taken the last
    // one, and requests already waiting in another thread go first.
    if (server === null || cluster.othersWaiting || !server.tryTake()) {
      if (!cluster.available && persistent === null) return this.reject(503, 'SC');
      // Only a hashed or persistent request waits for its own server; others take whichever frees first.
      this.server = cluster.hashed || persistent !== null ? server : null;
      cluster.enqueue(this);
      this.queueTimer = setTimeout(() => this.onQueueTimeout(), cluster.config.timeouts.queueMs);
      return;
    }
    this.holding = true;
    this.connect(server);
  }

  grant(server: ServerState): void {
    if (this.queueTimer !== null) clearTimeout(this.queueTimer);
    this.queueTimer = null;
    this.holding = true;
    this.connect(server);
  }

  abandon(): void {
    if (this.queueTimer !== null) clearTimeout(this.queueTimer);
    this.queueTimer = null;
    this.reject(503, 'SQ');
  }

  private onQueueTimeout(): void {
    this.queueTimer = null;
    this.cluster?.dequeue(this);
    this.reject(503, 'sQ');
  }

  private connect(server: ServerState): void {
    this.server = server;
    this.lastServer = server;
    const log = this.log;
    if (log !== null) log.connectStarted();
    const stick = this.cluster!.persistence?.stick;
    if (stick) stickStoreRequest(stick, server, this.stickKey);
    const idle = this.cluster!.config.httpReuse === 'never' ? null : takeIdle(server, this);
    if (idle !== null) {
      this.conn = idle;
      this.sendRequest();
    } else {
      this.conn = new UpstreamConn(server, this, this.cluster!.config.timeouts.connectMs);
    }
  }

  onUpstreamConnect(): void {
    if (this.state === WAITING) this.sendRequest();
  }

  /** A connection attempt failed: retry the same server, redispatch on the last retry, else 503. */
  private onConnectFailure(): void {
    const server = this.server!;
    server.connectErrors++;
    this.releaseServer();
    if (this.retriesLeft <= 0) return this.reject(503, 'SC');
    this.retriesLeft--;
    server.retries++;
    if (this.log !== null) this.log.retries++;
    const cluster = this.cluster!;
    if (cluster.config.redispatch && this.retriesLeft === 0) {
      server.redispatches++;
      this.avoid = server;
      this.persistent = null;
      this.hash = cluster.keyHash(this);
      this.assignServer();
    } else if (server.usable && server.tryTake()) {
      this.holding = true;
      this.connect(server);
    } else this.assignServer();
  }

  // ---- request -----------------------------------------------------------------------------

  private sendRequest(): void {
    const conn = this.conn!;
    const cluster = this.cluster!;
    conn.uses++;
    this.log?.requestSent();
    this.state = FORWARDING;
    this.resStarted = false;
    this.resPending = null;
    conn.setTimeout(cluster.config.timeouts.serverMs);
    conn.socket.write(this.upstreamHead(cluster), 'latin1');
    const body = this.pending;
    this.pending = null;
    if (body !== null) {
      if (this.reqDone) this.pending = body; // pipelined: the next request's bytes
      else this.forwardRequestBody(body);
    }
    if (!this.reqDone && this.pending === null) this.resumeClient();
  }

  /** The head to send upstream: the client's, less hop-by-hop headers, plus what we add. */
  private upstreamHead(cluster: Cluster): string {
    const req = this.req;
    let extra = '';
    const xff = this.runtime.forwardFor ?? cluster.forwardFor;
    if (xff !== null && (xff.except === null || !xff.except.matches(this.src))) {
      extra += `${xff.header}: ${stripMappedPrefix(this.src)}\r\nx-forwarded-proto: http\r\nx-forwarded-port: ${this.runtime.config.port}\r\n`;
    }
    const upgrade = req.connUpgrade && req.upgrade !== '';
    if (upgrade) extra += `connection: upgrade\r\nupgrade: ${req.upgrade}\r\n`;
    else if (cluster.config.httpReuse === 'never') extra += 'connection: close\r\n';
    if (req.minor === 0) {
      // As HAProxy, speak HTTP/1.1 to servers so the server side stays reusable; a request
      // without Host stays 1.0 (1.1 servers must reject it) and asks for keep-alive instead.
      if (req.host === '') extra += upgrade ? '' : 'connection: keep-alive\r\n';
      const line = req.host === '' ? req.text.slice(0, req.text.indexOf('\r\n') + 2) : `${req.method} ${req.target} HTTP/1.1\r\n`;
      return rebuildHead(req, line, isHopByHop, extra);
    }
    if (!req.hopByHop) return extra === '' ? req.text : req.text.slice(0, -2) + extra + '\r\n';
    return rebuildHead(req, req.text.slice(0, req.text.indexOf('\r\n') + 2), isHopByHop, extra);
  }

  private forwardRequestBody(data: Buffer): void {
    const conn = this.conn!;
    let end = data.length;
    if (this.reqBody === BODY_LENGTH) {
      if (end >= this.reqRemaining) {
        end = this.reqRemaining;
        this.reqDone = true;
      }
      this.reqRemaining -= end;
    } else {
      end = this.reqChunks!.feed(data, 0, data.length);
      if (end < 0) return this.reject(400, 'PD');
      if (this.reqChunks!.done) this.reqDone = true;
    }
    const flushed = this.reader.write(conn.socket, end === data.length ? data : data.subarray(0, end));
    if (end < data.length) this.pending = data.subarray(end);
    if (!flushed || (this.reqDone && this.pending !== null)) this.pauseClient();
  }

  onUpstreamDrain(): void {
    if (this.state === TUNNEL || (this.state === FORWARDING && !this.reqDone && this.pending === null)) this.resumeClient();
  }

  // ---- response ----------------------------------------------------------------------------

  /** `data` is borrowed (sockets/reader.ts): a partial head is copied before it is kept. */
  onUpstreamData(data: Buffer, conn: UpstreamConn): void {
    this.onUpstreamBytes(data, conn);
    if (this.resPending !== null) this.resPending = conn.reader.owned(this.resPending);
  }

  private onUpstreamBytes(data: Buffer, conn: UpstreamConn): void {
    if (this.state === TUNNEL) {
      if (!conn.reader.write(this.client, data)) conn.socket.pause();
      return;
    }
    if (this.state !== FORWARDING) return;
    if (this.resStarted && this.resHead.status >= 200) {
      this.forwardResponseBody(data, 0);
      return;
    }
    const buf = this.resPending === null ? data : Buffer.concat([this.resPending, data]);
    this.resPending = null;
    this.parseResponse(buf, 0);
  }

  private parseResponse(buf: Buffer, from: number): void {
    const end = findHeadEnd(buf, from);
    if (end < 0) {
      if (buf.length - from > MAX_HEAD_BYTES) return this.badGateway();
      this.resPending = from === 0 ? buf : buf.subarray(from);
      this.resStarted = true;
      return;
    }
    this.resStarted = true;
    if (end - from > MAX_HEAD_BYTES) return this.badGateway();
    const res = this.resHead;
    if (parseResponseHead(buf.toString('latin1', from, end), res) !== null) return this.badGateway();
    if (res.status < 200) {
      if (res.status === 101 && this.req.connUpgrade) return this.startTunnel(buf, end);
      // Interim responses (100 Continue, 103 Early Hints) go to the client as they are.
      this.client.write(res.text, 'latin1');
      this.resStarted = false;
      if (end < buf.length) this.parseResponse(buf, end);
      return;
    }
    this.resParsed = true;
    this.log?.responseReceived();
    this.adjustResponse();
    this.status = res.status;
    const req = this.req;
    if (!responseHasBody(res.status, req.method)) this.resBody = BODY_NONE;
    else if (res.chunked && !res.otherEncoding) {
      this.resBody = BODY_CHUNKED;
      (this.resChunks ??= new ChunkedTracker()).reset();
    } else if (res.contentLength >= 0 && !res.otherEncoding) {
      this.resBody = res.contentLength === 0 ? BODY_NONE : BODY_LENGTH;
      this.resRemaining = res.contentLength;
    } else this.resBody = BODY_CLOSE;
    this.dechunk = this.resBody === BODY_CHUNKED && req.minor === 0;
    if (this.resBody === BODY_CLOSE || this.dechunk || !this.reqDone) this.clientKeepAlive = false;
    if (this.draining || this.slot.draining) this.clientKeepAlive = false;
    const client = this.client;
    if (this.resBody === BODY_NONE) {
      this.writeHead(client);
      if (end < buf.length) this.conn!.destroy(); // bytes after a body-less response: out of sync
      return this.finishResponse();
    }
    if (end === buf.length) {
      this.writeHead(client);
      return;
    }
    const bodyBytes = buf.length - end;
    if (this.resBody === BODY_LENGTH && bodyBytes === this.resRemaining && bodyBytes <= SMALL_BODY) {
      // The whole (small) response is here: head and body leave as one string in one write,
      // cheaper than corking a head and a body chunk into a writev.
      const head = this.clientHead();
      this.bytesOut += head.length + bodyBytes;
      this.resRemaining = 0;
      client.write(head + buf.toString('latin1', end), 'latin1');
      return this.finishResponse();
    }
    // Head and the first body bytes leave in one writev.
    client.cork();
    this.writeHead(client);
    this.forwardResponseBody(buf, end);
    client.uncork();
  }

  /** Persistence and http-response rules on the server's response head, before anything of it is sent. */
  private adjustResponse(): void {
    const cluster = this.cluster!;
    const server = this.server!;
    const persistence = cluster.persistence;
    if (persistence !== null) {
      if (persistence.stick !== null) stickStoreResponse(persistence.stick, server, this);
      // A head that cannot take the cookie (at the header limit) is sent without it.
      if (persistence.cookie !== null && this.cookie !== null) persistence.cookie.onResponse(this.resHead, server, this.cookie, Date.now());
    }
    this.runtime.rules?.onHttpResponse(this);
  }

  private writeHead(client: net.Socket): void {
    const head = this.clientHead();
    this.bytesOut += head.length;
    client.write(head, 'latin1');
  }

  /** The head to send the client: the server's, with our connection management. */
  private clientHead(): string {
    const res = this.resHead;
    const req = this.req;
    let extra = '';
    if (!this.clientKeepAlive) extra = 'connection: close\r\n';
    else if (req.minor === 0) extra = 'connection: keep-alive\r\n';
    if (!res.hopByHop && !this.dechunk) return extra === '' ? res.text : res.text.slice(0, -2) + extra + '\r\n';
    const statusLine = res.text.slice(0, res.text.indexOf('\r\n') + 2);
    return rebuildHead(res, statusLine, this.dechunk ? isHopByHopOrTransferEncoding : isHopByHop, extra);
  }

  private forwardResponseBody(data: Buffer, start: number): void {
    let end = data.length;
    let done = false;
    let flushed = true;
    if (this.resBody === BODY_LENGTH) {
      if (end - start >= this.resRemaining) {
        end = start + this.resRemaining;
        done = true;
      }
      this.resRemaining -= end - start;
    } else if (this.resBody === BODY_CHUNKED) {
      const chunks = this.resChunks!;
      if (this.dechunk) chunks.onData = (b, s, e) => void this.conn!.reader.write(this.client, b.subarray(s, e));
      end = chunks.feed(data, start, data.length);
      chunks.onData = null;
      if (end < 0) return this.abortBoth('SD');
      done = chunks.done;
      if (this.dechunk) {
        if (done) this.finishResponse();
        return;
      }
    }
    if (end > start) {
      this.bytesOut += end - start;
      flushed = this.conn!.reader.write(this.client, start === 0 && end === data.length ? data : data.subarray(start, end));
    }
    if (done) {
      if (end < data.length) this.conn!.destroy(); // the server sent more than it declared
      this.finishResponse();
    } else if (!flushed) this.conn?.socket.pause();
  }

  private onClientDrain(): void {
    if (this.state === FORWARDING || this.state === TUNNEL) this.conn?.socket.resume();
  }

  private finishResponse(): void {
    const conn = this.conn!;
    const server = this.server!;
    conn.socket.resume();
    const reusable =
      this.reqDone && this.resHead.keepAlive && this.resBody !== BODY_CLOSE && this.cluster!.config.httpReuse !== 'never' && server.usable;
    this.conn = null;
    if (reusable) conn.release();
    else conn.destroy();
    this.endTransaction('--');
    this.releaseServer();
    if (!this.clientKeepAlive || this.clientEnded) {
      this.state = CLOSED;
      this.client.end();
      return;
    }
    this.state = IDLE;
    this.setClientTimeout(this.slot.runtime.config.timeouts.httpKeepAliveMs);
    giveHead(this.req);
    giveHead(this.resHead);
    this.req = this.resHead = NO_HEAD;
    if (this.pending !== null) {
      const buf = this.pending;
      this.pending = null;
      this.onClientData(buf);
      if (this.state === IDLE) this.resumeClient();
    } else this.resumeClient();
  }

  // ---- upgrade tunnel ----------------------------------------------------------------------

  private startTunnel(buf: Buffer, end: number): void {
    this.state = TUNNEL;
    this.status = 101;
    const conn = this.conn!;
    this.client.write(this.resHead.text, 'latin1');
    if (end < buf.length) conn.reader.write(this.client, buf.subarray(end));
    const tunnelMs = this.cluster!.config.timeouts.tunnelMs ?? this.runtime.config.timeouts.tunnelMs;
    if (tunnelMs !== null) {
      this.setClientTimeout(tunnelMs);
      conn.setTimeout(tunnelMs);
    }
    if (this.pending !== null) {
      conn.socket.write(this.pending);
      this.pending = null;
    }
    this.resumeClient();
  }

  // ---- upstream events ---------------------------------------------------------------------

  onUpstreamError(): void {
    this.onUpstreamGone();
  }

  onUpstreamClose(): void {
    this.onUpstreamGone();
  }

  onUpstreamEnd(): void {
    if (this.state === TUNNEL) {
      this.client.end();
      return;
    }
    if (this.state === FORWARDING && this.resBody === BODY_CLOSE && this.resStarted && this.resHead.status >= 200) {
      return this.finishResponse();
    }
    this.onUpstreamGone();
  }

  /** The server connection failed or closed before the response was complete. */
  private onUpstreamGone(): void {
    const conn = this.conn;
    if (conn === null) return;
    if (this.state === WAITING && !conn.connected) {
      this.conn = null;
      conn.destroy();
      return this.onConnectFailure();
    }
    if (this.state === TUNNEL) return this.destroy();
    if (this.state !== FORWARDING) return;
    if (!this.resStarted) {
      this.conn = null;
      conn.destroy();
      // A reused keep-alive connection the server had closed: replay a body-less request once.
      if (conn.uses > 1 && this.reqBody === BODY_NONE) {
        const server = this.server!;
        this.state = WAITING;
        this.conn = new UpstreamConn(server, this, this.cluster!.config.timeouts.connectMs);
        return;
      }
      this.server!.responseErrors++;
      this.releaseServer();
      return this.reject(502, 'SH');
    }
    this.abortBoth('SD');
  }

  onUpstreamTimeout(): void {
    if (this.state === TUNNEL) return this.destroy();
    if (this.state !== FORWARDING) return;
    if (!this.resStarted) {
      this.server!.responseErrors++;
      this.conn?.destroy();
      this.conn = null;
      this.releaseServer();
      return this.reject(504, 'sH');
    }
    this.abortBoth('sD');
  }

  // ---- client events -----------------------------------------------------------------------

  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.state === IDLE && this.pending === null) this.close();
    else if (this.state === TUNNEL) this.conn?.socket.end();
    else if (this.state === IDLE || (!this.reqDone && this.state !== CLOSED)) this.destroy();
  }

  private onClientTimeout(): void {
    if (this.state === IDLE) {
      if (this.pending === null) this.close();
      else this.reject(408, 'cR');
      return;
    }
    // While the server works on a complete request, only the server timeout applies.
    if (this.state === FORWARDING && this.reqDone && !this.resStarted) return;
    this.destroy();
  }

  private onRequestTimeout(): void {
    this.requestTimer = null;
    if (this.state === IDLE) this.reject(408, 'cR');
  }

  // ---- endings -----------------------------------------------------------------------------

  private releaseServer(): void {
    const server = this.server;
    this.server = null;
    if (server !== null && this.holding) {
      this.holding = false;
      server.drop();
    }
  }

  /** Answers with one of our own responses and closes the connection; `termination` is HAProxy's %ts. */
  private reject(status: number, termination: string): void {
    if (this.state === CLOSED) return;
    this.cleanupUpstream();
    this.state = CLOSED;
    this.pending = null;
    this.status = status;
    const response = cannedResponse(status);
    this.bytesOut = response.length;
    this.endTransaction(termination);
    this.client.end(response);
  }

  /** A deny, return or redirect rule answered the request (a complete response, latin1). */
  private respond(status: number, response: string): void {
    this.cleanupUpstream();
    this.state = CLOSED;
    this.pending = null;
    this.status = status;
    this.bytesOut = response.length;
    // HAProxy: P (proxy) for a deny, L (local) for a response it made up on purpose.
    this.endTransaction(status === 403 || status === 429 ? 'PR' : 'LR');
    this.client.end(response, 'latin1');
  }

  private badGateway(): void {
    this.server!.responseErrors++;
    this.reject(502, 'SH');
  }

  /** Mid-response failure: nothing sensible can be told to the client, so both sides are cut. */
  private abortBoth(termination: string): void {
    this.endTransaction(termination);
    this.destroy();
  }

  /**
   * The current request is over, however it ended: stick counters learn its outcome and let go,
   * and the access log gets its line. Called once per request (inTransaction guards it).
   */
  private endTransaction(termination: string): void {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    const trackers = this.trackers;
    if (trackers.active) {
      if (this.status >= 400 && this.status < 500) trackers.httpError();
      if (this.bytesOut > 0) trackers.bytesOut(this.bytesOut);
      trackers.release();
    }
    const log = this.log;
    const runtime = this.runtime;
    if (log !== null && runtime.accessLog !== null && runtime.rules?.log) {
      const cookie = this.cluster?.persistence?.cookie ? (this.cookie?.request ?? 'N') + (this.cookie?.response ?? 'N') : '--';
      const record = log.finish(this, termination + cookie, this.status, this.bytesOut, this.cluster, this.lastServer);
      record.actconn = record.feconn = this.slot.sessions.size;
      runtime.accessLog(runtime.rules.log(this, record));
    }
  }

  private cleanupUpstream(): void {
    if (this.queueTimer !== null) {
      clearTimeout(this.queueTimer);
      this.queueTimer = null;
    }
    if (this.requestTimer !== null) {
      clearTimeout(this.requestTimer);
      this.requestTimer = null;
    }
    if (this.queued) this.cluster?.dequeue(this);
    const conn = this.conn;
    this.conn = null;
    conn?.destroy();
    this.releaseServer();
  }

  private close(): void {
    if (this.state === CLOSED && this.client.destroyed) return;
    this.cleanupUpstream();
    this.state = CLOSED;
    this.client.end();
  }

  destroy(): void {
    if (this.inTransaction) this.endTransaction(this.state === TUNNEL ? '--' : 'CD');
    if (this.state !== CLOSED) this.cleanupUpstream();
    this.state = CLOSED;
    this.slot.closed(this);
    if (!this.client.destroyed) this.client.destroy();
  }

  /** Re-arms the client inactivity timer only when its length changes (each arming allocates). */
  private setClientTimeout(ms: number): void {
    if (ms === this.clientTimeoutMs) return;
    this.clientTimeoutMs = ms;
    this.client.setTimeout(ms);
  }

  private pauseClient(): void {
    if (!this.clientPaused) {
      this.clientPaused = true;
      this.client.pause();
    }
  }

  private resumeClient(): void {
    if (this.clientPaused) {
      this.clientPaused = false;
      this.client.resume();
    }
  }
}

function isHopByHopOrTransferEncoding(name: string): boolean {
  return name === 'transfer-encoding' || isHopByHop(name);
}

/** Re-serialises a head without the headers `skip` names, adding `extra` lines. */
function rebuildHead(head: MessageHead, firstLine: string, skip: (name: string) => boolean, extra: string): string {
  let out = firstLine;
  const text = head.text;
  let pos = firstLine.length;
  for (let i = 0; i < head.count; i++) {
    const eol = text.indexOf('\r\n', pos);
    if (!skip(head.names[i]!)) out += text.slice(pos, eol + 2);
    pos = eol + 2;
  }
  return out + extra + '\r\n';
}

function stripMappedPrefix(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
