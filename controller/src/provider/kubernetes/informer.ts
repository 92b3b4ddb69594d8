/**
 * One watched resource: a client-node `ListWatch` (list, then watch from the list's
 * resourceVersion) that is restarted when it fails.
 *
 * What client-node 2.x does on its own: a watch the server ends, or one silent for 30 s, is resumed
 * from the last resourceVersion; a `410 Gone` (an ERROR event or the HTTP status) relists, and
 * objects that vanished meanwhile come out as deletes. Anything else (connection refused or reset,
 * another HTTP error, a failed list) stops the informer for good with an 'error' callback
 * (kubernetes-client/javascript #795, #1496). This wrapper restarts it after a jittered exponential
 * backoff, counts the restarts, resets the backoff once a restart has stayed up for
 * `healthyAfterMs`, and reports `synced` once the first list has been applied to the cache.
 *
 * Lists are made raw (JSON as the server sent it, with the same selectors as the watch — a
 * selector given only to the watch lets non-matching objects into the cache, reference §2.1), so
 * list items and watch events have the same shape.
 */
import { HttpMethod, IsomorphicFetchHttpLibrary, ListWatch, RequestContext, Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { monotonicClock } from '../../clock.ts';
import type { Clock, Timer } from '../../clock.ts';
import { Backoff } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';

/** A resource to list and watch. */
export interface ResourceSource {
  /** Name for logs and metrics: `Frontend`, `Service`, ... */
  kind: string;
  /** Collection path, e.g. `/apis/switchyard.dev/v1alpha1/frontends` or `/api/v1/namespaces/ns/secrets`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export type ObjectList = KubernetesListObject<KubernetesObject>;

/** The part of client-node's `Informer` this module uses; tests substitute a fake. */
export interface InformerLike {
  on(verb: 'add' | 'update' | 'delete', cb: (obj: KubernetesObject) => void): void;
  on(verb: 'error', cb: (err?: unknown) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Lists `source` (with its selectors). */
export type Lister = (source: ResourceSource) => Promise<ObjectList>;

/** Makes the informer for `source`; it must list through `list` and watch with the same selectors. */
export type InformerFactory = (source: ResourceSource, list: () => Promise<ObjectList>) => InformerLike;

export interface InformerHandlers {
  upsert(obj: KubernetesObject): void;
  delete(obj: KubernetesObject): void;
  /** The first list is in the cache (once). */
  synced(): void;
  /** The informer failed and will be started again in `delayMs`. */
  restarting(err: Error, delayMs: number): void;
}

export interface RestartingInformerOptions {
  factory: InformerFactory;
  list: Lister;
  /** Default `monotonicClock`: only intervals matter here. */
  clock?: Clock;
  backoff?: BackoffOptions;
  /** A restart that stays up this long resets the backoff. Default 30 s. */
  healthyAfterMs?: number;
}

function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (err !== null && typeof err === 'object' && 'message' in err) return Object.assign(new Error(String(err.message)), err);
  return new Error(String(err));
}

export class RestartingInformer {
  readonly source: ResourceSource;
  readonly #handlers: InformerHandlers;
  readonly #informer: InformerLike;
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  readonly #healthyAfterMs: number;
  #started = false;
  #stopped = false;
  #synced = false;
  #listed = false;
  #errors = 0;
  #restarts = 0;
  #retry: Timer | null = null;
  #healthy: Timer | null = null;

  constructor(source: ResourceSource, handlers: InformerHandlers, opts: RestartingInformerOptions) {
    this.source = source;
    this.#handlers = handlers;
    this.#clock = opts.clock ?? monotonicClock;
    this.#backoff = new Backoff(opts.backoff);
    this.#healthyAfterMs = opts.healthyAfterMs ?? 30_000;
    this.#informer = opts.factory(source, async () => {
      const list = await opts.list(source);
      this.#listed = true;
      return list;
    });
    this.#informer.on('add', (obj) => this.#handlers.upsert(obj));
    this.#informer.on('update', (obj) => this.#handlers.upsert(obj));
    this.#informer.on('delete', (obj) => this.#handlers.delete(obj));
    this.#informer.on('error', (err) => this.#failed(toError(err)));
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Times the informer failed and was (or is about to be) started again. */
  get restarts(): number {
    return this.#restarts;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel(this.#retry);
    this.#cancel(this.#healthy);
    this.#retry = this.#healthy = null;
    await this.#informer.stop();
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    const errorsBefore = this.#errors;
    try {
      await this.#informer.start();
    } catch (err) {
      // start() rejects only for what precedes any request (no current cluster, failing auth plugin).
      this.#failed(toError(err));
      return;
    }
    if (this.#stopped) return;
    if (this.#listed && !this.#synced) {
      this.#synced = true;
      this.#handlers.synced();
    }
    if (this.#errors === errorsBefore) {
      this.#cancel(this.#healthy);
      this.#healthy = this.#schedule(() => {
        this.#healthy = null;
        this.#backoff.reset();
      }, this.#healthyAfterMs);
    }
  }

  #failed(err: Error): void {
    this.#errors++;
    if (this.#stopped || this.#retry) return;
    this.#cancel(this.#healthy);
    this.#healthy = null;
    this.#restarts++;
    const delayMs = this.#backoff.next();
    this.#handlers.restarting(err, delayMs);
    this.#retry = this.#schedule(() => {
      this.#retry = null;
      // stop() first: never two watches from one informer (kubernetes-client/javascript #494).
      void this.#informer.stop().then(() => this.#run());
    }, delayMs);
  }

  /** A pending backoff or health timer never keeps the process alive. */
  #schedule(fn: () => void, ms: number): Timer {
    const timer = this.#clock.setTimeout(fn, Math.max(0, ms));
    timer.unref?.();
    return timer;
  }

  #cancel(timer: Timer | null): void {
    if (timer) this.#clock.clearTimeout(timer);
  }
}

/** Lists through client-node's HTTP stack and authentication, returning the JSON as sent. */
export function rawLister(kc: KubeConfig, timeoutMs = 60_000): Lister {
  const http = new IsomorphicFetchHttpLibrary();
  return async (source) => {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + source.path);
    if (source.labelSelector !== undefined) url.searchParams.set('labelSelector', source.labelSelector);
    if (source.fieldSelector !== undefined) url.searchParams.set('fieldSelector', source.fieldSelector);
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setSignal(AbortSignal.timeout(timeoutMs));
    await kc.applySecurityAuthentication(ctx);
    const response = await http.send(ctx).toPromise();
    const text = await response.body.text();
    if (response.httpStatusCode !== 200) {
      let message = text.slice(0, 200);
      try {
        const status = JSON.parse(text) as { message?: unknown };
        if (typeof status.message === 'string') message = status.message;
      } catch {
        // not a Status body: keep the text
      }
      throw Object.assign(new Error(`list ${source.path}: HTTP ${response.httpStatusCode}: ${message}`), { statusCode: response.httpStatusCode });
    }
    const list = JSON.parse(text) as ObjectList;
    if (!Array.isArray(list.items)) throw new Error(`list ${source.path}: the response has no items`);
    return list;
  };
}

/** client-node's ListWatch, watching with the source's selectors. */
export function listWatchFactory(kc: KubeConfig): InformerFactory {
  return (source, list) => new ListWatch(source.path, new Watch(kc), list, false, source.labelSelector, source.fieldSelector);
}
