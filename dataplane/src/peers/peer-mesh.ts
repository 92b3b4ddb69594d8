/**
 * Stick-table replication between the data planes of a fleet (docs/architecture.md,
 * "Stick-table replication"): a peer server receiving the other data planes' tables, a sending
 * link to every known peer, and the bookkeeping of who is gone.
 *
 *   const mesh = new PeerMesh({ node, instance, replica: dataplane.replica, token, logger, listen: { host: '0.0.0.0', port: 7946 } });
 *   await mesh.start();          // listens; static peers connect
 *   mesh.url                     // what others connect to (hello.peer.url)
 *   mesh.setPeers([{ node, url }])  // from the control channel's `peers`, whole list each time
 *   mesh.stats()                 // peers, lag (also GET /stats on the server, same bearer token)
 *   await mesh.close();
 *
 * Peers come from two places: `staticPeers` (URLs; a list naming this data plane too is fine, the
 * link to itself notices and stops) and `setPeers` (the control channel). A discovered peer that
 * leaves the list keeps its link for `removalGraceMs` (a controller restart briefly empties the
 * lists; nothing should resync for that), then it is closed.
 *
 * Dead origins: what a gone process wrote stays in the tables (rates decay, entries expire), except
 * its current connections (`conn_cur`), which no longer exist. A process instance counts as alive
 * while it has a connection to this server, or while its node is a peer and it is the node's newest
 * instance seen (or none was seen yet). One that has not been alive for `removalGraceMs` has its
 * origins dropped (`StickReplica.dropOrigin`). So a pod that restarts drops its predecessor's
 * connections from every table, and one that leaves the fleet does too.
 */
import type { PeerInfo } from '@switchyard/api';
import type { Backoff } from '../channel/control-channel-client.ts';
import type { Logger } from '../logger.ts';
import { advertiseUrl, checkPeerUrl } from './address.ts';
import { PeerCloseCode, type PeerHello } from './frames.ts';
import { LagWindow, type LagSummary } from './lag.ts';
import { parseOrigin } from './origin.ts';
import { PeerLink, type LinkState } from './peer-link.ts';
import { PeerServer, type InboundPeer } from './peer-server.ts';
import type { StickUpdate } from '../stick/replication.ts';
import { originsIn, type StickReplica } from './replica.ts';

export interface PeerMeshOptions {
  /** This data plane's name. */
  node: string;
  /** This process's instance id (origin.ts). */
  instance: string;
  replica: StickReplica;
  /** The control channel's bearer token (or a reader, called per connection): peers present it and expect it. */
  token: string | (() => string);
  logger: Logger;
  /** Where the peer server listens; null: none (this data plane only sends). */
  listen?: { host: string; port: number } | null;
  /** The URL others reach the server at; default `ws://HOST:PORT/` of the bound address (address.ts for a wildcard one). */
  advertise?: string | null;
  /** Peers known without a controller (`--peers`). */
  staticPeers?: readonly string[];
  /** How long a peer that left the list keeps its link, and a gone process its connections in the tables. Default 30000. */
  removalGraceMs?: number;
  /** Ping interval on each link. Default 5000. */
  heartbeatMs?: number;
  /** Default 10000. */
  connectTimeoutMs?: number;
  /** Reconnect delays. Default { initialMs: 250, maxMs: 10000 }. */
  backoff?: Backoff;
  /** A link whose socket holds more than this is dropped (and full-synced on reconnect). Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Default 10000. */
  maxPendingUpdates?: number;
  /** Largest frame the server accepts. Default 16 MiB. */
  maxPayload?: number;
  /** Default Math.random. */
  random?: () => number;
  /** Milliseconds since the epoch, for the lag. Default Date.now. */
  wallClock?: () => number;
}

export interface PeerStats {
  /** Null until the peer said who it is. */
  node: string | null;
  /** The URL this data plane sends to; null for a peer that only sends here. */
  url: string | null;
  /** Our link to it is up and past its full sync. */
  connected: boolean;
  /** Its link to us is up. */
  inbound: boolean;
  /** Its full state has arrived here. */
  synced: boolean;
  /** The lag of its last delta received. */
  lastLagMs: number | null;
  /** Our link's state; null for a peer that only sends here. */
  state: LinkState | null;
  lastError: string | null;
}

export interface PeerMeshStats {
  /** Where this data plane's server is reachable; null without one. */
  url: string | null;
  peers: PeerStats[];
  /** Lag of the deltas received (receive time minus `sentAt`), over the last samples. */
  lag: LagSummary;
  /** Origins of other processes known here (merged updates). */
  origins: number;
}

interface LinkEntry {
  link: PeerLink;
  /** From the discovered list; the link's hello says it too. */
  node: string | null;
  static: boolean;
  discovered: boolean;
  /** When it left the discovered list (and is not static); null while listed. */
  removedAt: number | null;
}

interface InstanceEntry {
  node: string;
  origins: Set<string>;
  lastAlive: number;
}

export class PeerMesh {
  readonly #o: PeerMeshOptions;
  readonly #log: Logger;
  readonly #token: () => string;
  readonly #graceMs: number;
  readonly #lag = new LagWindow();
  readonly #links = new Map<string, LinkEntry>();
  /** Other processes' origins, by `node/instance`. */
  readonly #instances = new Map<string, InstanceEntry>();
  /** The newest instance of each node seen in a hello. */
  readonly #current = new Map<string, string>();
  #server: PeerServer | null = null;
  #url: string | null = null;
  #tick: ReturnType<typeof setInterval> | null = null;
  #unsubscribe: (() => void)[] = [];
  #started = false;
  #closed = false;
  #lagLogged = 0;

  constructor(options: PeerMeshOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'peers' });
    const token = options.token;
    this.#token = typeof token === 'function' ? token : () => token;
    this.#graceMs = options.removalGraceMs ?? 30_000;
    if (!(this.#graceMs >= 0)) throw new RangeError(`removalGraceMs must be >= 0, got ${this.#graceMs}`);
    for (const url of options.staticPeers ?? []) checkPeerUrl(url);
    if (options.advertise !== undefined && options.advertise !== null) checkPeerUrl(options.advertise);
  }

  /** Where this data plane's server is reachable (known once started); null without a server. */
  get url(): string | null {
    return this.#url;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const listen = this.#o.listen ?? null;
    if (listen !== null) {
      const heartbeatMs = this.#o.heartbeatMs ?? 5000;
      const server = new PeerServer({
        node: this.#o.node,
        instance: this.#o.instance,
        token: this.#token,
        replica: this.#o.replica,
        logger: this.#log,
        helloTimeoutMs: this.#o.connectTimeoutMs ?? 10_000,
        maxPayload: this.#o.maxPayload ?? 16 * 1024 * 1024,
        idleTimeoutMs: heartbeatMs * 3,
        wallClock: this.#o.wallClock ?? Date.now,
        onHello: (c) => this.#sawInstance(c.hello!),
        onUpdate: (_c, update, lag) => this.#received(update, lag),
        onClosed: () => {},
        stats: () => this.stats(),
      });
      const address = await server.listen(listen.host, listen.port);
      this.#server = server;
      this.#url = this.#o.advertise ?? advertiseUrl(address.address, address.port);
      this.#log.info({ listen: `${address.address}:${address.port}`, url: this.#url }, 'stick-table peer server listening');
    }
    this.#unsubscribe.push(
      this.#o.replica.onLocalChanges((update) => {
        for (const entry of this.#links.values()) entry.link.publish(update);
      }),
      this.#o.replica.onTablesChanged(() => this.#server?.resyncAll()),
    );
    for (const url of this.#o.staticPeers ?? []) this.#ensureLink(url, null, 'static');
    const tickMs = Math.max(10, Math.min(1000, this.#graceMs / 4));
    this.#tick = setInterval(() => this.#onTick(), tickMs);
    this.#tick.unref();
  }

  /** The discovered peers (the control channel's `peers`), whole list each time. */
  setPeers(peers: readonly PeerInfo[]): void {
    if (this.#closed) return;
    const listed = new Set<string>();
    for (const p of peers) {
      if (p.node === this.#o.node || p.url === this.#url) continue;
      listed.add(p.url);
      this.#ensureLink(p.url, p.node, 'discovered');
    }
    const now = performance.now();
    for (const [url, entry] of this.#links) {
      if (!entry.discovered || listed.has(url)) continue;
      entry.discovered = false;
      if (!entry.static) entry.removedAt ??= now;
    }
    this.#log.debug({ peers: peers.map((p) => `${p.node}=${p.url}`) }, 'peers list');
  }

  stats(): PeerMeshStats {
    const byKey = new Map<string, PeerStats>();
    for (const entry of this.#links.values()) {
      const s = entry.link.stats();
      const node = s.node ?? entry.node;
      byKey.set(node ?? s.url, {
        node,
        url: s.url,
        connected: s.state === 'live',
        inbound: false,
        synced: false,
        lastLagMs: null,
        state: s.state,
        lastError: s.lastError,
      });
    }
    for (const c of this.#server?.connections() ?? []) {
      if (c.hello === null) continue;
      const seen = byKey.get(c.hello.node);
      const inbound = { inbound: true, synced: c.synced, lastLagMs: c.lastLagMs };
      if (seen) Object.assign(seen, inbound);
      else byKey.set(c.hello.node, { node: c.hello.node, url: null, connected: false, state: null, lastError: null, ...inbound });
    }
    const peers = [...byKey.values()].sort((a, b) => ((a.node ?? a.url ?? '') < (b.node ?? b.url ?? '') ? -1 : 1));
    let origins = 0;
    for (const i of this.#instances.values()) origins += i.origins.size;
    return { url: this.#url, peers, lag: this.#lag.summary(), origins };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tick !== null) clearInterval(this.#tick);
    this.#tick = null;
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    for (const entry of this.#links.values()) entry.link.stop();
    this.#links.clear();
    await this.#server?.close();
  }

  #ensureLink(url: string, node: string | null, source: 'static' | 'discovered'): void {
    let entry = this.#links.get(url);
    if (entry === undefined) {
      const link = new PeerLink({
        url,
        node: this.#o.node,
        instance: this.#o.instance,
        token: this.#token,
        replica: this.#o.replica,
        logger: this.#log,
        backoff: this.#o.backoff ?? { initialMs: 250, maxMs: 10_000 },
        random: this.#o.random ?? Math.random,
        heartbeatMs: this.#o.heartbeatMs ?? 5000,
        connectTimeoutMs: this.#o.connectTimeoutMs ?? 10_000,
        maxBufferedBytes: this.#o.maxBufferedBytes ?? 16 * 1024 * 1024,
        maxPendingUpdates: this.#o.maxPendingUpdates ?? 10_000,
        onIdentified: (l, hello) => this.#identified(l, hello),
      });
      entry = { link, node, static: false, discovered: false, removedAt: null };
      this.#links.set(url, entry);
      link.start();
    }
    if (node !== null) entry.node = node;
    if (source === 'static') entry.static = true;
    else entry.discovered = true;
    entry.removedAt = null;
  }

  #identified(link: PeerLink, hello: PeerHello): void {
    const entry = this.#links.get(link.url);
    const listed = entry?.node ?? null;
    if (listed !== null && listed !== hello.node) {
      this.#log.warn({ url: link.url, listed, answered: hello.node }, 'the peer at this URL is not the data plane listed for it');
    }
    if (hello.node === this.#o.node) this.#log.warn({ url: link.url }, `another data plane is also named ${hello.node}: names must be unique in the fleet`);
    this.#sawInstance(hello);
  }

  #sawInstance(hello: PeerHello): void {
    if (hello.instance === this.#o.instance) return;
    const previous = this.#current.get(hello.node);
    this.#current.set(hello.node, hello.instance);
    if (previous !== undefined && previous !== hello.instance) this.#log.info({ node: hello.node, instance: hello.instance, previous }, 'peer restarted (new instance)');
  }

  #received(update: StickUpdate, lag: number | null): void {
    if (lag !== null) this.#lag.record(lag);
    for (const origin of originsIn(update)) {
      const parts = parseOrigin(origin);
      if (parts === null || parts.instance === this.#o.instance) continue;
      const key = `${parts.node}/${parts.instance}`;
      let entry = this.#instances.get(key);
      if (entry === undefined) {
        entry = { node: parts.node, origins: new Set(), lastAlive: performance.now() };
        this.#instances.set(key, entry);
      }
      entry.origins.add(origin);
    }
  }

  #onTick(): void {
    const now = performance.now();
    // Links of peers that left the list, once their grace is over.
    for (const [url, entry] of this.#links) {
      if (entry.removedAt === null || now - entry.removedAt < this.#graceMs) continue;
      this.#links.delete(url);
      entry.link.stop(PeerCloseCode.Removed, 'no longer a peer');
      this.#log.info({ url, node: entry.link.peer?.node ?? entry.node }, 'peer left the fleet; disconnected');
    }
    // Instances gone for longer than the grace: their connections no longer exist.
    const connected = new Set<string>();
    for (const c of this.#server?.connections() ?? []) if (c.hello !== null) connected.add(`${c.hello.node}/${c.hello.instance}`);
    const peerNodes = new Set<string>();
    for (const entry of this.#links.values()) {
      if (entry.removedAt !== null) continue;
      if (entry.node !== null) peerNodes.add(entry.node);
      const answered = entry.link.peer?.node;
      if (answered !== undefined) peerNodes.add(answered);
    }
    for (const [key, entry] of this.#instances) {
      const instance = key.slice(entry.node.length + 1);
      const current = this.#current.get(entry.node);
      const alive = connected.has(key) || (peerNodes.has(entry.node) && (current === undefined || current === instance));
      if (alive) {
        entry.lastAlive = now;
        continue;
      }
      if (now - entry.lastAlive < this.#graceMs) continue;
      this.#instances.delete(key);
      for (const origin of entry.origins) this.#o.replica.dropOrigin(origin);
      this.#log.info({ node: entry.node, instance, origins: entry.origins.size }, 'peer process gone: dropped its current connections from the tables');
    }
    if (this.#log.isLevelEnabled('debug')) {
      const lag = this.#lag.summary();
      if (lag.count !== this.#lagLogged) {
        this.#lagLogged = lag.count;
        this.#log.debug({ lag }, 'replication lag');
      }
    }
  }
}


export type { InboundPeer };
