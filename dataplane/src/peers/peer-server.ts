/**
 * The receiving side of the peer protocol (frames.ts): a websocket server other data planes send
 * their stick tables to. It authenticates them (`Authorization: Bearer`, the control channel's
 * token, read per connection), merges every valid update into the local tables, and measures the
 * lag of deltas: receive time minus the update's `sentAt`, both wall clocks (so the figure includes
 * the clock skew between the two hosts; on one host it is exact).
 *
 * A bad frame (not JSON, not a known frame, an update `parseStickUpdate` refuses) closes that
 * connection with 4001 and a reason naming the fault, and is logged; the sender reconnects and
 * starts over with a full sync. Merging happens in the socket's event handler, chunk by chunk
 * (full states come in bounded chunks), so a big sync never holds the event loop for long.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { decodeMessage } from '@switchyard/api';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../logger.ts';
import { checkBearer } from './auth.ts';
import { closeReason, PEER_PROTOCOL, PeerCloseCode, PeerHelloSchema, SenderFrameSchema, type PeerHello } from './frames.ts';
import { rawToString } from './peer-link.ts';
import { parseStickUpdate } from '../stick/parse-update.ts';
import type { StickUpdate } from '../stick/replication.ts';
import type { StickReplica } from './replica.ts';

export interface PeerServerOptions {
  node: string;
  instance: string;
  /** The expected bearer token, read per connection; null or empty refuses everyone. */
  token: () => string | null;
  replica: StickReplica;
  logger: Logger;
  /** The hello must come within this long. */
  helloTimeoutMs: number;
  /** Largest frame accepted. */
  maxPayload: number;
  /** A sender silent this long (no frame, no ping) is cut off: it pings every heartbeat. */
  idleTimeoutMs: number;
  /** Wall clock for the lag (ms since the epoch). */
  wallClock: () => number;
  /** A sender said hello (each connection). */
  onHello: (connection: InboundPeer) => void;
  /** A valid update was merged. */
  onUpdate: (connection: InboundPeer, update: StickUpdate, lagMs: number | null) => void;
  onClosed: (connection: InboundPeer) => void;
  /** What `GET /stats` answers (JSON, same bearer token); absent: 404. */
  stats?: () => unknown;
}

/** One connected sender. */
export interface InboundPeer {
  readonly remote: string;
  /** Null until its hello. */
  readonly hello: PeerHello | null;
  /** Its full state has arrived; later updates are deltas. */
  readonly synced: boolean;
  /** Updates merged on this connection. */
  readonly updates: number;
  /** The lag of its last delta, in ms. */
  readonly lastLagMs: number | null;
}

class Inbound implements InboundPeer {
  readonly remote: string;
  readonly ws: WebSocket;
  hello: PeerHello | null = null;
  synced = false;
  updates = 0;
  lastLagMs: number | null = null;
  syncStarted = performance.now();
  lastHeard = performance.now();
  helloTimer: ReturnType<typeof setTimeout> | null = null;
  closing = false;

  constructor(ws: WebSocket, remote: string) {
    this.ws = ws;
    this.remote = remote;
  }
}

export class PeerServer {
  readonly #o: PeerServerOptions;
  readonly #log: Logger;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Inbound>();
  #server: http.Server | null = null;
  #closing = false;
  #idleTimer: ReturnType<typeof setInterval> | null = null;

  constructor(options: PeerServerOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: options.maxPayload, perMessageDeflate: false });
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    if (this.#server !== null) throw new Error('the peer server is already listening');
    const server = http.createServer((req, res) => this.#onRequest(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('upgrade', this.#onUpgrade);
    this.#server = server;
    this.#idleTimer = setInterval(() => this.#cutIdle(), Math.max(10, this.#o.idleTimeoutMs / 3));
    this.#idleTimer.unref();
    return this.address()!;
  }

  address(): AddressInfo | null {
    const address = this.#server?.address();
    return address !== null && typeof address === 'object' ? address : null;
  }

  connections(): InboundPeer[] {
    return [...this.#connections];
  }

  /** Asks every sender for its full state again (a replicated table appeared here). */
  resyncAll(): void {
    for (const c of this.#connections) {
      if (c.hello === null || c.closing) continue;
      c.synced = false;
      c.syncStarted = performance.now();
      c.ws.send(JSON.stringify({ type: 'resync' }));
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#idleTimer !== null) clearInterval(this.#idleTimer);
    this.#idleTimer = null;
    const server = this.#server;
    server?.off('upgrade', this.#onUpgrade);
    await Promise.all(
      [...this.#connections].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.ws.readyState === c.ws.CLOSED) return resolve();
            c.ws.once('close', () => resolve());
            this.#close(c, PeerCloseCode.GoingAway, 'data plane stopping');
            setTimeout(() => c.ws.terminate(), 1000).unref();
          }),
      ),
    );
    if (server !== null) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  /** Plain HTTP: `GET /stats` for operators (and tests), else a hint to upgrade. */
  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/stats' || this.#o.stats === undefined) {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' });
      res.end('switchyard stick-table peers: connect with a websocket\n');
      return;
    }
    let expected: string | null;
    try {
      expected = this.#o.token();
    } catch {
      expected = null;
    }
    if (checkBearer(req.headers.authorization, expected) !== null) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
      res.end('Unauthorized\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(this.#o.stats())}\n`);
  }

  readonly #onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    if (this.#closing) return refuse(socket, 503, 'Service Unavailable');
    let expected: string | null;
    try {
      expected = this.#o.token();
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'cannot read the token; refusing the peer');
      expected = null;
    }
    const problem = checkBearer(req.headers.authorization, expected);
    if (problem !== null) {
      // Never the token itself, neither the expected one nor the presented one.
      this.#log.warn({ remote, reason: problem }, 'refused a peer connection: not authorized');
      return refuse(socket, 401, 'Unauthorized');
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, remote));
  };

  #accept(ws: WebSocket, remote: string): void {
    const c = new Inbound(ws, remote);
    this.#connections.add(c);
    c.helloTimer = setTimeout(() => {
      c.helloTimer = null;
      if (c.hello === null) this.#reject(c, PeerCloseCode.BadHello, `no hello within ${this.#o.helloTimeoutMs}ms`);
    }, this.#o.helloTimeoutMs);
    c.helloTimer.unref();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (c.closing) return;
      if (isBinary) return this.#reject(c, PeerCloseCode.BadFrame, 'binary frames are not part of the protocol; send JSON text');
      this.#onFrame(c, rawToString(data));
    });
    ws.on('ping', () => {
      c.lastHeard = performance.now();
    });
    ws.on('error', (err) => this.#log.debug({ remote, err: err.message }, 'peer socket error'));
    ws.on('close', () => {
      if (c.helloTimer !== null) clearTimeout(c.helloTimer);
      this.#connections.delete(c);
      if (c.hello !== null) {
        this.#log.info({ node: c.hello.node, remote }, 'peer disconnected');
        this.#o.onClosed(c);
      }
    });
  }

  /** Senders that went silent (a host gone without closing its connections). */
  #cutIdle(): void {
    const now = performance.now();
    for (const c of this.#connections) {
      if (c.hello === null || now - c.lastHeard <= this.#o.idleTimeoutMs) continue;
      this.#log.warn({ node: c.hello.node, remote: c.remote, silentMs: Math.round(now - c.lastHeard) }, 'peer went silent; dropping its connection');
      c.closing = true;
      c.ws.terminate();
    }
  }

  #onFrame(c: Inbound, text: string): void {
    c.lastHeard = performance.now();
    if (c.hello === null) {
      const hello = decodeMessage(PeerHelloSchema, text);
      if (!hello.ok) return this.#reject(c, PeerCloseCode.BadHello, `hello: ${hello.error}`);
      if (hello.message.instance === this.#o.instance) return this.#close(c, PeerCloseCode.Self, 'this is your own process');
      if (c.helloTimer !== null) clearTimeout(c.helloTimer);
      c.helloTimer = null;
      c.hello = hello.message;
      c.syncStarted = performance.now();
      c.ws.send(JSON.stringify({ type: 'hello', protocol: PEER_PROTOCOL, node: this.#o.node, instance: this.#o.instance }));
      this.#log.info({ node: hello.message.node, remote: c.remote }, 'peer connected');
      this.#o.onHello(c);
      return;
    }
    const frame = decodeMessage(SenderFrameSchema, text);
    if (!frame.ok) return this.#reject(c, PeerCloseCode.BadFrame, frame.error);
    if (frame.message.type === 'synced') {
      c.synced = true;
      this.#log.debug({ node: c.hello.node, updates: c.updates, ms: Math.round(performance.now() - c.syncStarted) }, 'full state received from the peer');
      return;
    }
    const update = parseStickUpdate(frame.message.update);
    if ('error' in update) return this.#reject(c, PeerCloseCode.BadFrame, `update: ${update.error}`);
    try {
      this.#o.replica.merge(update);
    } catch (err) {
      this.#log.error({ err, node: c.hello.node }, 'merging a peer update failed');
      return this.#reject(c, PeerCloseCode.BadFrame, `update: ${(err as Error).message}`);
    }
    c.updates++;
    let lag: number | null = null;
    if (c.synced) {
      lag = Math.max(0, this.#o.wallClock() - update.sentAt);
      c.lastLagMs = lag;
    }
    this.#o.onUpdate(c, update, lag);
  }

  /** A protocol violation: logged, then closed with the reason. */
  #reject(c: Inbound, code: number, error: string): void {
    this.#log.error({ node: c.hello?.node, remote: c.remote, code, error }, 'closing a peer connection: invalid frame');
    this.#close(c, code, error);
  }

  #close(c: Inbound, code: number, reason: string): void {
    if (c.closing) return;
    c.closing = true;
    c.ws.close(code, closeReason(reason));
  }
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
