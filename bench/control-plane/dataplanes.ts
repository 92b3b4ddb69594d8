/**
 * Lightweight data planes for the benchmark: websocket clients in the benchmark process that speak
 * the control channel (api/src/protocol/messages.ts) as the real one does, minus building a
 * runtime: hello, then for every push decode the frame and JSON.parse it (the real cost of a
 * snapshot on the receiving side), answer ack with its version and nonce, and, like the real data
 * plane (dataplane/src/channel/control-channel-client.ts), follow an ack with a full health
 * report (every server `up`, no checks) when it differs from the last one this client sent (servers
 * added or removed), unless `health` is off.
 *
 * Everything runs on the benchmark's one thread, so the 50 parses of a push are serialised here;
 * `Receipt` keeps, per client, when the frame arrived and how long its parse took, so run.ts can
 * tell the controller's share of a change from this process's.
 */
import { WebSocket } from 'ws';
import type { RawData } from 'ws';

/** The parts of an `ir.Snapshot` the benchmark looks at. */
export interface SnapshotView {
  listeners: unknown[];
  clusters: { name: string; servers: { name: string; weight: number; address: string }[] }[];
}

export type Predicate = (snapshot: SnapshotView) => boolean;

/** One data plane's first ACK of a push that satisfied the waited-for predicate. */
export interface Receipt {
  client: number;
  version: string;
  /** performance.now() when the push frame was handed to the client (before decoding). */
  receivedAt: number;
  /** Decode (Buffer to string) plus JSON.parse of that push, ms. */
  parseMs: number;
  /** performance.now() right after the ack was written to the socket. */
  ackedAt: number;
  /** Size of the push frame. */
  bytes: number;
  /** Pushes this client got while waiting, the satisfying one included. */
  pushes: number;
}

export interface FleetOptions {
  url: string;
  token: string;
  count: number;
  /** Send a full health report after an ack that changed it, as the real data plane does. */
  health: boolean;
  namePrefix?: string;
}

interface Waiter {
  predicate: Predicate;
  receipts: (Receipt | null)[];
  pushes: number[];
  remaining: number;
  resolve: (receipts: Receipt[]) => void;
}

export interface FleetTotals {
  pushes: number;
  pushBytes: number;
  parseMs: number;
  healthReports: number;
  healthBytes: number;
}

export class Fleet {
  readonly #options: FleetOptions;
  readonly #sockets: WebSocket[] = [];
  #waiter: Waiter | null = null;
  /** The health report of a version, built once for all clients (each real data plane builds its own). */
  readonly #healthText = new Map<string, string>();
  /** The last report each client sent: an unchanged report is not sent again. */
  readonly #lastHealth: (string | undefined)[] = [];
  readonly totals: FleetTotals = { pushes: 0, pushBytes: 0, parseMs: 0, healthReports: 0, healthBytes: 0 };
  /** Every push frame size seen, by version. */
  readonly sizes = new Map<string, number>();
  readonly errors: string[] = [];

  constructor(options: FleetOptions) {
    this.#options = options;
  }

  /** Opens every connection and says hello; resolves when all are welcomed. */
  async connect(): Promise<void> {
    await Promise.all(Array.from({ length: this.#options.count }, (_, i) => this.#open(i)));
  }

  /**
   * Resolves with one receipt per client once each has ACKed a push whose snapshot satisfies
   * `predicate`. Set it before making the change; only one wait at a time.
   */
  waitFor(predicate: Predicate): Promise<Receipt[]> {
    if (this.#waiter !== null) throw new Error('already waiting');
    const n = this.#options.count;
    return new Promise((resolve) => {
      this.#waiter = { predicate, receipts: new Array<Receipt | null>(n).fill(null), pushes: new Array<number>(n).fill(0), remaining: n, resolve };
    });
  }

  /** Stops waiting (a timeout): the receipts so far, and which clients are missing. */
  abandon(): { receipts: Receipt[]; missing: number[] } {
    const w = this.#waiter;
    this.#waiter = null;
    if (w === null) return { receipts: [], missing: [] };
    const missing = w.receipts.flatMap((r, i) => (r === null ? [i] : []));
    return { receipts: w.receipts.filter((r): r is Receipt => r !== null), missing };
  }

  get connected(): number {
    return this.#sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.close(1000, 'benchmark done');
            setTimeout(() => ws.terminate(), 2000).unref();
          }),
      ),
    );
  }

  #open(i: number): Promise<void> {
    const node = `${this.#options.namePrefix ?? 'bench-dp'}-${String(i).padStart(2, '0')}`;
    const ws = new WebSocket(this.#options.url, { headers: { authorization: `Bearer ${this.#options.token}` }, perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
    this.#sockets.push(ws);
    return new Promise((resolve, reject) => {
      let welcomed = false;
      ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, node, lastVersion: null })));
      ws.once('error', (err) => {
        if (!welcomed) reject(new Error(`${node}: ${err.message}`));
      });
      ws.on('close', (code, reason) => {
        if (!welcomed) reject(new Error(`${node}: closed ${code} ${reason.toString()}`));
        else if (code !== 1000 && code !== 1005) this.errors.push(`${node}: closed ${code} ${reason.toString()}`);
      });
      ws.on('message', (data: RawData) => {
        const receivedAt = performance.now();
        const buffer = data as Buffer;
        const message = JSON.parse(buffer.toString('utf8')) as { type: string; version?: string; nonce?: string; snapshot?: SnapshotView };
        const parseMs = performance.now() - receivedAt;
        if (message.type === 'welcome') {
          welcomed = true;
          resolve();
          return;
        }
        if (message.type !== 'push') return;
        this.#onPush(i, ws, message as { version: string; nonce: string; snapshot: SnapshotView }, receivedAt, parseMs, buffer.length);
      });
    });
  }

  #onPush(i: number, ws: WebSocket, push: { version: string; nonce: string; snapshot: SnapshotView }, receivedAt: number, parseMs: number, bytes: number): void {
    this.totals.pushes++;
    this.totals.pushBytes += bytes;
    this.totals.parseMs += parseMs;
    this.sizes.set(push.version, bytes);
    const waiter = this.#waiter;
    const satisfies = waiter !== null && waiter.receipts[i] === null && waiter.predicate(push.snapshot);
    ws.send(JSON.stringify({ type: 'ack', version: push.version, nonce: push.nonce }));
    const ackedAt = performance.now();
    if (this.#options.health) {
      const text = this.#health(push.version, push.snapshot);
      if (text !== this.#lastHealth[i]) {
        this.#lastHealth[i] = text;
        ws.send(text);
        this.totals.healthReports++;
        this.totals.healthBytes += text.length;
      }
    }
    if (waiter === null) return;
    waiter.pushes[i]!++;
    if (!satisfies) return;
    waiter.receipts[i] = { client: i, version: push.version, receivedAt, parseMs, ackedAt, bytes, pushes: waiter.pushes[i]! };
    if (--waiter.remaining === 0) {
      this.#waiter = null;
      waiter.resolve(waiter.receipts as Receipt[]);
    }
  }

  #health(version: string, snapshot: SnapshotView): string {
    let text = this.#healthText.get(version);
    if (text === undefined) {
      const servers = snapshot.clusters.flatMap((c) => c.servers.map((s) => ({ cluster: c.name, server: s.name, state: 'up', reason: '' })));
      text = JSON.stringify({ type: 'health', servers });
      if (this.#healthText.size >= 4) this.#healthText.delete(this.#healthText.keys().next().value!);
      this.#healthText.set(version, text);
    }
    return text;
  }
}
