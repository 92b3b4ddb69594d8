/**
 * Watch streams (reference §3.3, §3.7): one JSON event per line over a chunked 200 response whose
 * headers are flushed at once (client-node's informer awaits them before `start()` resolves).
 *
 * - resourceVersion unset or "0": synthetic ADDED for every current match, then live events;
 *   resourceVersion N: the retained events after N, then live events; N older than the retained
 *   history (or one this store never reached): 200, one ERROR event with a 410 Expired Status, and
 *   the stream ends; client-node relists only when the stream ends.
 * - Selector transitions against the previous state: a change into the selection is ADDED, out of
 *   it DELETED, within it MODIFIED.
 * - BOOKMARK events only with allowWatchBookmarks=true, every `bookmarkIntervalMs`.
 * - The stream ends cleanly after timeoutSeconds (or the server's default).
 */
import type { ServerResponse } from 'node:http';
import { ApiError, badRequest } from './errors.ts';
import type { ResourceType } from './registry.ts';
import { apiVersionOf } from './registry.ts';
import type { Resources } from './resources.ts';
import type { Predicate } from './selectors.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { Store, StoreEvent } from './store.ts';
import { toTable } from './table.ts';
import type { KubeObject } from './types.ts';

export interface WatchRequest {
  type: ResourceType;
  namespace: string | undefined;
  labelSelector: string | null;
  fieldSelector: string | null;
  resourceVersion: string | null;
  allowWatchBookmarks: boolean;
  timeoutSeconds: number | undefined;
  table: boolean;
}

export interface WatchDeps {
  store: Store;
  resources: Resources;
  defaultTimeoutSeconds: number;
  bookmarkIntervalMs: number;
}

/** A running watch; `close()` ends the stream cleanly (as a server-side timeout would). */
export interface ActiveWatch {
  close(): void;
}

/** Starts a watch; throws ApiError (before any byte is written) for bad selectors or versions. */
export function serveWatch(res: ServerResponse, w: WatchRequest, deps: WatchDeps, onEnd: () => void): ActiveWatch {
  const { store, resources } = deps;
  const labels = parseLabelSelector(w.labelSelector);
  const fields = parseFieldSelector(w.fieldSelector, w.type.fieldLabels);
  const matches: Predicate = (o) => (w.namespace === undefined || o.metadata.namespace === w.namespace) && labels(o) && fields(o);

  let replay: StoreEvent[] | undefined;
  let initial: KubeObject[] = [];
  const rvParam = w.resourceVersion ?? '';
  if (rvParam === '' || rvParam === '0') {
    initial = store.list(w.type.storageKey, w.namespace).filter(matches);
    replay = [];
  } else {
    if (!/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
    replay = store.eventsSince(w.type.storageKey, Number(rvParam));
  }

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();

  let first = true;
  const send = (type: string, obj: KubeObject): void => {
    let object: unknown = resources.present(w.type, obj);
    if (w.table && type !== 'ERROR' && type !== 'BOOKMARK') object = toTable(w.type, [object as KubeObject], { resourceVersion: obj.metadata.resourceVersion }, first);
    first = false;
    res.write(JSON.stringify({ type, object }) + '\n');
  };

  if (replay === undefined) {
    const oldest = store.oldestWatchable(w.type.storageKey);
    const expired = new ApiError(410, 'Expired', `too old resource version: ${rvParam} (${oldest + 1})`).toStatus();
    res.end(JSON.stringify({ type: 'ERROR', object: expired }) + '\n');
    onEnd();
    return { close: () => {} };
  }

  const deliver = (event: StoreEvent): void => {
    const now = event.type !== 'DELETED' && matches(event.object);
    const before = event.prev !== undefined && matches(event.prev);
    if (event.type === 'ADDED' && now) send('ADDED', event.object);
    else if (event.type === 'DELETED' && before) send('DELETED', event.object);
    else if (event.type === 'MODIFIED') {
      if (before && now) send('MODIFIED', event.object);
      else if (now) send('ADDED', event.object);
      else if (before) send('DELETED', event.object);
    }
  };

  for (const obj of initial) send('ADDED', obj);
  for (const event of replay) deliver(event);
  // Subscribing in the same tick as the replay: no write can fall in between.
  const unsubscribe = store.subscribe(w.type.storageKey, deliver);

  const timers: NodeJS.Timeout[] = [];
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    if (!res.writableEnded) res.end();
    onEnd();
  };
  const timeout = w.timeoutSeconds ?? deps.defaultTimeoutSeconds;
  timers.push(setTimeout(end, timeout * 1000));
  if (w.allowWatchBookmarks) {
    const bookmark = setInterval(() => {
      const object = { kind: w.type.kind, apiVersion: apiVersionOf(w.type), metadata: { resourceVersion: String(store.rv) } };
      res.write(JSON.stringify({ type: 'BOOKMARK', object }) + '\n');
    }, deps.bookmarkIntervalMs);
    timers.push(bookmark);
  }
  res.on('close', end);
  return { close: end };
}
