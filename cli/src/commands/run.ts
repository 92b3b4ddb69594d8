/**
 * `switchyard run -f DIR`: standalone mode. The file provider reads the manifests, the
 * translator compiles them, the snapshot is published into a SnapshotCache and applied by the
 * data plane's SnapshotApplier, the same code paths as in a cluster with the websocket in between
 * left out (an in-process stream); a change to any file repeats that. Like an HAProxy reload that
 * fails its config check, a broken file never takes anything down: resources that became invalid
 * keep their last good version (and are logged with file, resource and field path), while every
 * valid change still applies.
 */
import { flushCompileCache } from 'node:module';
import { formatLoadError, loadManifests, objectKey, SnapshotCache, translate, watchManifests, type RawObject, type ResourceResult, type VersionedSnapshot } from '@switchyard/controller';
import { Dataplane, SnapshotApplier, createLogger, type Logger, type PeerMesh } from '@switchyard/dataplane';
import { LastGood } from '../last-good.ts';
import { untilSignal } from '../until-signal.ts';
import { startPeerMesh, tokenReader, type PeerFlags } from './dataplane.ts';

export interface RunOptions {
  path: string;
  logLevel: string;
  /** Proxy threads (docs/architecture.md, "Multi-core data plane"); default 1. */
  workers?: number;
  /** Resolves when the process should stop; defaults to SIGINT or SIGTERM. */
  until?: Promise<void>;
  /** Stick-table replication with static peers (HAProxy's `peers` section); needs `tokenFile`. */
  replication?: PeerFlags | null;
  /** The peers' shared bearer token. */
  tokenFile?: string;
  /** This data plane's name among its peers; default the host name. */
  name?: string;
  /** Called after each successful apply (tests use it to know the bound ports). */
  onApplied?: (dataplane: Dataplane) => void;
}

export async function run(options: RunOptions): Promise<number> {
  const logger = createLogger({ level: options.logLevel });
  const log = logger.child({ component: 'standalone' });
  const dataplane = new Dataplane({ logger: logger.child({ component: 'dataplane' }), workers: options.workers, node: options.name });
  let mesh: PeerMesh | null = null;
  if (options.replication) {
    if (options.tokenFile === undefined) throw new Error('replication needs a token file');
    const readToken = tokenReader(options.tokenFile, log);
    try {
      readToken();
    } catch (err) {
      log.error({ file: options.tokenFile }, `cannot read the token file: ${(err as Error).message}`);
      await dataplane.close();
      return 1;
    }
    mesh = await startPeerMesh({ flags: options.replication, dataplane, token: readToken, logger });
    if (mesh === null) {
      await dataplane.close();
      return 1;
    }
  }
  const cache = new SnapshotCache();
  const applier = new SnapshotApplier({ dataplane, logger: logger.child({ component: 'applier' }) });
  const lastGood = new LastGood();
  let applied = false;

  const reload = async (): Promise<void> => {
    const loaded = await loadManifests(options.path);
    for (const e of loaded.errors) log.error({ file: e.source }, formatLoadError(e, loaded.base));
    let objects = lastGood.fill(loaded.objects, new Set(loaded.errors.map((e) => e.source)));
    let result = translate({ objects });
    const invalid = result.results.filter((r) => r.errors.length > 0);
    for (const r of invalid) logProblems(log, r);
    if (invalid.length > 0) {
      const substituted = lastGood.substitute(objects, invalid);
      if (substituted !== objects) {
        log.warn({ resources: invalid.map(resourceName) }, 'keeping the last good version of invalid resources');
        objects = substituted;
        result = translate({ objects });
      }
    }
    lastGood.remember(objects, result.results);
    if (!applied && result.snapshot.listeners.length === 0) {
      // As HAProxy refuses to start without an enabled listener: nothing to serve is an error.
      log.error({ path: options.path }, 'no valid Frontend to serve; not starting');
      return;
    }
    const next = publish(cache, applier.version, result.results, result.snapshot);
    if (next === null) return;
    const outcome = await applier.apply({ version: next.version, snapshot: next.snapshot });
    if (!outcome.ok) {
      log.error({ version: outcome.version, error: outcome.error }, applied ? 'configuration rejected; still serving the last good one' : 'configuration rejected');
      return;
    }
    if (outcome.skipped) return;
    applied = true;
    log.info(
      { version: next.version, listeners: next.snapshot.listeners.map((l) => `${l.name} ${l.address}:${l.port}`), clusters: next.snapshot.clusters.length },
      'configuration applied',
    );
    options.onApplied?.(dataplane);
  };

  let queue = Promise.resolve();
  const schedule = (): void => {
    queue = queue.then(reload).catch((err: unknown) => log.error({ err }, 'reload failed; still serving the last good configuration'));
  };
  schedule();
  await queue;
  if (!applied) {
    await mesh?.close();
    await dataplane.close();
    return 1;
  }
  const watcher = watchManifests(options.path, schedule);
  // Serving: what this command needed is loaded. Node writes its compile cache (cli/bin/compile-cache.js)
  // at exit; writing it now gives the next start a warm cache even if this one is killed.
  flushCompileCache();
  await (options.until ?? untilSignal(log));
  watcher.close();
  await queue;
  await mesh?.close();
  await dataplane.close();
  return 0;
}

/**
 * Publishes the snapshot and returns what the data plane should apply: the new version, or, when
 * the content is unchanged but the data plane does not serve it (it was rejected, say for a port
 * in use), the current version again, so every reload retries it as before. Null: nothing to do.
 */
function publish(cache: SnapshotCache, serving: string | null, results: ResourceResult[], snapshot: VersionedSnapshot['snapshot']): VersionedSnapshot | null {
  const contents = results
    .filter((r) => r.errors.length === 0)
    .map((r) => [objectKey(r.kind, r.namespace, r.name), r.generation] as const);
  const published = cache.publish(snapshot, contents);
  if (published !== null) return published;
  const current = cache.current;
  return current !== null && current.version !== serving ? current : null;
}

function logProblems(log: Logger, r: ResourceResult): void {
  for (const e of r.errors) log.error({ file: r.source, resource: resourceName(r), field: e.path }, e.message);
}

function resourceName(r: ResourceResult): string {
  return `${r.kind}/${r.namespace}/${r.name}`;
}

export type { RawObject };
