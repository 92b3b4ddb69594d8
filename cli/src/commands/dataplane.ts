/**
 * `switchyard dataplane --controller URL[,URL...] --token-file FILE --name NAME`: a data plane
 * programmed by controllers over the control channel. It starts empty and serves nothing until its
 * first snapshot; while no controller is reachable it keeps serving the last good one. The token
 * file is read at each connection, so a rotated Secret mounted as a file applies without a restart.
 */
import { readFileSync } from 'node:fs';
import { ControlChannelClient, Dataplane, SnapshotApplier, createLogger, type Logger } from '@switchyard/dataplane';
import { untilSignal } from '../until-signal.ts';

export interface DataplaneOptions {
  controllers: string[];
  tokenFile: string;
  name: string;
  logLevel: string;
  /** Proxy threads; default 1. */
  workers?: number;
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

  const dp = new Dataplane({ logger: logger.child({ component: 'dataplane' }), workers: options.workers });
  const applier = new SnapshotApplier({ dataplane: dp, logger: logger.child({ component: 'applier' }) });
  const client = new ControlChannelClient({
    urls: options.controllers,
    token: readToken,
    node: options.name,
    applier,
    health: dp,
    logger,
  });
  log.info({ controllers: options.controllers }, 'data plane started; serving nothing until the first snapshot');
  client.start();
  await (options.until ?? untilSignal(log));
  await client.stop();
  await dp.close();
  return 0;
}

/** Reads and trims the token file; after a successful read, a failing one keeps the last token. */
function tokenReader(file: string, log: Logger): () => string {
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
