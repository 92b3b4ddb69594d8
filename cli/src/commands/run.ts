/**
 * `switchyard run -f DIR`: standalone mode. The file provider reads the manifests, the
 * translator compiles them, the data plane applies the snapshot; a change to any file repeats
 * that. Like an HAProxy reload that fails its config check, a broken file never takes anything
 * down: resources that became invalid keep their last good version (and are logged with file,
 * resource and field path), while every valid change still applies.
 */
import { isDeepStrictEqual } from 'node:util';
import { formatLoadError, loadManifests, translate, watchManifests, type RawObject, type ResourceResult } from '@switchyard/controller';
import { Dataplane, createLogger, type Logger } from '@switchyard/dataplane';
import { LastGood } from '../last-good.ts';

export interface RunOptions {
  path: string;
  logLevel: string;
  /** Resolves when the process should stop; defaults to SIGINT or SIGTERM. */
  until?: Promise<void>;
  /** Called after each successful apply (tests use it to know the bound ports). */
  onApplied?: (dataplane: Dataplane) => void;
}

export async function run(options: RunOptions): Promise<number> {
  const logger = createLogger({ level: options.logLevel });
  const log = logger.child({ component: 'standalone' });
  const dataplane = new Dataplane({ logger: logger.child({ component: 'dataplane' }) });
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
    if (applied && isDeepStrictEqual(result.snapshot, dataplane.snapshot)) return;
    const outcome = await dataplane.apply(result.snapshot);
    if (!outcome.ok) {
      log.error({ error: outcome.error }, applied ? 'configuration rejected; still serving the last good one' : 'configuration rejected');
      return;
    }
    applied = true;
    log.info(
      { listeners: result.snapshot.listeners.map((l) => `${l.name} ${l.address}:${l.port}`), clusters: result.snapshot.clusters.length },
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
    await dataplane.close();
    return 1;
  }
  const watcher = watchManifests(options.path, schedule);
  await (options.until ?? untilSignal(log));
  watcher.close();
  await queue;
  await dataplane.close();
  return 0;
}

function logProblems(log: Logger, r: ResourceResult): void {
  for (const e of r.errors) log.error({ file: r.source, resource: resourceName(r), field: e.path }, e.message);
}

function resourceName(r: ResourceResult): string {
  return `${r.kind}/${r.namespace}/${r.name}`;
}

function untilSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

export type { RawObject };
