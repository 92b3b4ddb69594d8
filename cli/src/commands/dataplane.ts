/**
 * `switchyard dataplane --controller URL[,URL...] --token-file FILE --name NAME`: a data plane
 * programmed by controllers over the control channel. It starts empty and serves nothing until its
 * first snapshot; while no controller is reachable it keeps serving the last good one. The token
 * file is read at each connection, so a rotated Secret mounted as a file applies without a restart.
 *
 * Stick-table replication (`--peer-listen`, `--peer-advertise`, `--peers`): a peer server other data
 * planes send their replicated tables to, authenticated with the same token; the peers are the
 * `--peers` URLs and those the controller lists (docs/architecture.md, "Stick-table replication").
 */
import { readFileSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { Dataplane, SnapshotApplier, createLogger, parseHostPort, type HostPort, type Logger, type PeerMesh } from '@switchyard/dataplane';
import { untilSignal } from '../until-signal.ts';

export interface DataplaneOptions {
  controllers: string[];
  tokenFile: string;
  name: string;
  logLevel: string;
  /** Proxy threads; default 1. */
  workers?: number;
  /** Stick-table replication (parsePeerFlags); default none. */
  replication?: PeerFlags | null;
  /** Resolves when the process should stop; defaults to SIGINT or SIGTERM. */
  until?: Promise<void>;
}

/** Splits `--controller a,b` (repeatable) into URLs, or says what is wrong with one. */
export function parseControllerUrls(values: readonly string[]): { urls: string[] } | { error: string } {
  const urls = values
    .flatMap((v) => v.split(','))
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0) return { error: 'dataplane needs --controller URL[,URL...]' };
  for (const url of urls) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      return { error: `--controller: "${url}" is not a URL (expected ws://HOST:PORT)` };
    }
    if (protocol !== 'ws:' && protocol !== 'wss:') return { error: `--controller: "${url}" must start with ws:// or wss://` };
  }
  return { urls };
}

/** `--peer-listen`, `--peer-advertise`, `--peers`, checked. */
export interface PeerFlags {
  /** Where the peer server listens; null: none (the data plane only sends to its peers). */
  listen: HostPort | null;
  /** The URL to advertise instead of the one derived from `listen`. */
  advertise: string | null;
  /** Static peers. */
  peers: string[];
}

/** The peer flags, or what is wrong with them (naming the flag); null when replication is off. */
export function parsePeerFlags(values: { peerListen?: string; peerAdvertise?: string; peers?: readonly string[] }): PeerFlags | null | { error: string } {
  let listen: HostPort | null = null;
  if (values.peerListen !== undefined) {
    const parsed = parseHostPort(values.peerListen);
    if ('error' in parsed) return { error: `--peer-listen: ${parsed.error} (expected HOST:PORT, e.g. 0.0.0.0:7946)` };
    listen = parsed;
  }
  let advertise: string | null = null;
  if (values.peerAdvertise !== undefined) {
    if (listen === null) return { error: '--peer-advertise needs --peer-listen' };
    const problem = wsUrlProblem('--peer-advertise', values.peerAdvertise);
    if (problem !== null) return { error: problem };
    advertise = values.peerAdvertise;
  }
  const peers = (values.peers ?? [])
    .flatMap((v) => v.split(','))
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const url of peers) {
    const problem = wsUrlProblem('--peers', url);
    if (problem !== null) return { error: problem };
  }
  if (listen === null && peers.length === 0) return null;
  return { listen, advertise, peers };
}

function wsUrlProblem(flag: string, url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${flag}: "${url}" is not a URL (expected ws://HOST:PORT/)`;
  }
  if ((parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') || parsed.hostname === '') return `${flag}: "${url}" must start with ws:// or wss://`;
  return null;
}

/**
 * Starts the stick-table peer mesh of `dataplane` (null flags: none). Null when it cannot listen,
 * after logging why.
 */
export async function startPeerMesh(options: { flags: PeerFlags; dataplane: Dataplane; token: () => string; logger: Logger }): Promise<PeerMesh | null> {
  const { flags, dataplane: dp } = options;
  // Loaded on demand: websocket code that `run` without peers never needs (dataplane/src/index.ts).
  const { PeerMesh } = await import('@switchyard/dataplane/peers');
  const mesh = new PeerMesh({
    node: dp.node,
    instance: dp.instance,
    replica: dp.replica,
    token: options.token,
    logger: options.logger,
    listen: flags.listen,
    advertise: flags.advertise,
    staticPeers: flags.peers,
  });
  try {
    await mesh.start();
  } catch (err) {
    const listen = flags.listen === null ? '' : `${flags.listen.host}:${flags.listen.port}`;
    options.logger.error({ listen }, `cannot listen for stick-table peers: ${(err as Error).message}`);
    await mesh.close();
    return null;
  }
  return mesh;
}

export async function dataplane(options: DataplaneOptions): Promise<number> {
  const logger = createLogger({ level: options.logLevel });
  const log = logger.child({ component: 'dataplane-command', node: options.name });
  const readToken = tokenReader(options.tokenFile, log);
  let token: string;
  try {
    token = readToken();
  } catch (err) {
    log.error({ file: options.tokenFile }, `cannot read the token file: ${(err as Error).message}`);
    return 1;
  }
  if (token === '') {
    log.error({ file: options.tokenFile }, 'the token file is empty');
    return 1;
  }

  const dp = new Dataplane({ logger: logger.child({ component: 'dataplane' }), workers: options.workers, node: options.name });
  let mesh: PeerMesh | null = null;
  if (options.replication) {
    mesh = await startPeerMesh({ flags: options.replication, dataplane: dp, token: readToken, logger });
    if (mesh === null) {
      await dp.close();
      return 1;
    }
  }
  const applier = new SnapshotApplier({ dataplane: dp, logger: logger.child({ component: 'applier' }) });
  const { ControlChannelClient } = await import('@switchyard/dataplane/channel');
  const client = new ControlChannelClient({
    urls: options.controllers,
    token: readToken,
    node: options.name,
    applier,
    health: dp,
    logger,
    // Replicating: the controller lists the other data planes (and this one, when it listens).
    ...(mesh === null ? {} : { peer: mesh.url === null ? null : { url: mesh.url } }),
  });
  if (mesh !== null) {
    const peers = mesh;
    client.onEvent((event) => {
      if (event.type === 'peers') peers.setPeers(event.peers);
    });
  }
  log.info({ controllers: options.controllers, peerUrl: mesh?.url ?? null }, 'data plane started; serving nothing until the first snapshot');
  client.start();
  // Started: write Node's compile cache now rather than only at exit (as `run` does, commands/run.ts).
  flushCompileCache();
  await (options.until ?? untilSignal(log));
  await client.stop();
  await mesh?.close();
  await dp.close();
  return 0;
}

/** Reads and trims the token file; after a successful read, a failing one keeps the last token. */
export function tokenReader(file: string, log: Logger): () => string {
  let last: string | null = null;
  return () => {
    try {
      last = readFileSync(file, 'utf8').trim();
    } catch (err) {
      if (last === null) throw err;
      log.warn({ file }, `cannot read the token file, using the last token read: ${(err as Error).message}`);
    }
    return last;
  };
}
