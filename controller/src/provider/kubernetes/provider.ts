/**
 * The Kubernetes provider: watches the cluster and hands the controller complete, immutable
 * worlds to translate (ARCHITECTURE.md data flow steps 1–3).
 *
 *   informers (informer.ts) ─upsert/delete─▶ store (store.ts) ─changed?─▶ coalescer ─▶ store.build() ─▶ onChange(world)
 *
 * Watched, cluster-wide: switchyard.dev/v1alpha1 Frontend, Backend, HealthPolicy; v1 Service;
 * discovery.k8s.io/v1 EndpointSlice. Plus, when `tokenSecret` is given, that one Secret (its
 * namespace, `fieldSelector=metadata.name=NAME`): the control channel's bearer token.
 *
 * Usage (composition root):
 *
 *   const provider = new KubernetesProvider({ kubeConfig, tokenSecret: { namespace, name } });
 *   provider.onRestart((kind, err) => informerRestarts.inc({ kind }));
 *   provider.onTokenChange((token) => channel.setToken(token));
 *   let translation = null;
 *   provider.onChange((world) => { translation = retranslate(translation, world); publish(translation.result); });
 *   provider.start();
 *   await provider.whenSynced();
 *
 * Guarantees:
 * - No world before every informer has listed once (`synced`): never act on a partial world.
 *   The first world is delivered right after sync, even when the cluster holds nothing.
 * - A burst of changes becomes one world: `holdoffMs` after the last change, at most
 *   `maxHoldoffMs` after the first. Changes that do not matter (status writes, resourceVersion
 *   churn, a slice change that leaves the ready endpoints as they were) produce no world.
 * - Worlds are immutable. `objects` and each Service's endpoint array are the same objects as in
 *   the previous world when they did not change, and `changes` says what did.
 * - A failed informer is restarted with jittered exponential backoff; `onRestart` sees each one.
 */
import { GROUP, VERSION } from '@switchyard/api';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { monotonicClock } from '../../clock.ts';
import type { Clock } from '../../clock.ts';
import type { BackoffOptions } from './backoff.ts';
import { Coalescer } from './coalescer.ts';
import { listWatchFactory, rawLister, RestartingInformer } from './informer.ts';
import type { InformerFactory, Lister, ResourceSource } from './informer.ts';
import { secretValue } from './projection.ts';
import { Store } from './store.ts';
import type { WatchedKind, World } from './store.ts';

/** Structural: a pino logger fits. Secrets never reach it. */
export interface ProviderLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TokenSecretRef {
  namespace: string;
  name: string;
  /** The data key holding the token. Default `token`. */
  key?: string;
}

export interface KubernetesProviderOptions {
  kubeConfig: KubeConfig;
  /** The Secret holding the control channel's token; omit to watch no Secret (`token()` stays null). */
  tokenSecret?: TokenSecretRef;
  /** Quiet period after the last change before a world is built. Default 50 ms. */
  holdoffMs?: number;
  /** Longest wait after the first pending change. Default 1000 ms. */
  maxHoldoffMs?: number;
  /** Informer restart backoff. Default 500 ms doubling to 30 s, ±20 %. */
  backoff?: BackoffOptions;
  /** A restarted informer that stays up this long resets its backoff. Default 30 s. */
  healthyAfterMs?: number;
  /** For the holdoff and informer backoff. Default `monotonicClock`. */
  clock?: Clock;
  log?: ProviderLogger;
  /** Substitutes client-node's ListWatch (tests). */
  informerFactory?: InformerFactory;
  /** Substitutes the raw list request (tests). */
  lister?: Lister;
}

/** The informer names used by `onRestart` and `restarts()`. */
export type InformerKind = WatchedKind | 'Secret';

const crd = (plural: string): string => `/apis/${GROUP}/${VERSION}/${plural}`;

const SOURCES: readonly (ResourceSource & { kind: WatchedKind })[] = [
  { kind: 'Frontend', path: crd('frontends') },
  { kind: 'Backend', path: crd('backends') },
  { kind: 'HealthPolicy', path: crd('healthpolicies') },
  { kind: 'Service', path: '/api/v1/services' },
  { kind: 'EndpointSlice', path: '/apis/discovery.k8s.io/v1/endpointslices' },
];

const noopLog: ProviderLogger = { debug() {}, info() {}, warn() {} };

function nameOf(obj: KubernetesObject): string {
  const m = obj.metadata;
  return m?.namespace ? `${m.namespace}/${m.name ?? ''}` : (m?.name ?? '');
}

export class KubernetesProvider {
  readonly #store = new Store();
  readonly #coalescer: Coalescer;
  readonly #informers: RestartingInformer[] = [];
  readonly #log: ProviderLogger;
  readonly #changeListeners = new Set<(world: World) => void>();
  readonly #tokenListeners = new Set<(token: string | null) => void>();
  readonly #restartListeners = new Set<(kind: InformerKind, err: Error) => void>();
  readonly #restarts = new Map<InformerKind, number>();
  readonly #syncWaiters: (() => void)[] = [];
  #token: string | null = null;
  #synced = false;
  #state: 'new' | 'started' | 'stopped' = 'new';

  constructor(opts: KubernetesProviderOptions) {
    this.#log = opts.log ?? noopLog;
    const clock = opts.clock ?? monotonicClock;
    const coalescerOpts: { holdoffMs?: number; maxHoldoffMs?: number; clock: Clock } = { clock };
    if (opts.holdoffMs !== undefined) coalescerOpts.holdoffMs = opts.holdoffMs;
    if (opts.maxHoldoffMs !== undefined) coalescerOpts.maxHoldoffMs = opts.maxHoldoffMs;
    this.#coalescer = new Coalescer(() => this.#rebuild(), coalescerOpts);
    const factory = opts.informerFactory ?? listWatchFactory(opts.kubeConfig);
    const list = opts.lister ?? rawLister(opts.kubeConfig);
    const informerOpts = { factory, list, clock, backoff: opts.backoff, healthyAfterMs: opts.healthyAfterMs };

    for (const source of SOURCES) {
      const kind = source.kind;
      this.#informers.push(
        new RestartingInformer(
          source,
          {
            upsert: (obj) => {
              if (this.#store.upsert(kind, obj)) this.#changed(kind, 'upsert', obj);
            },
            delete: (obj) => {
              if (this.#store.delete(kind, obj)) this.#changed(kind, 'delete', obj);
            },
            synced: () => this.#informerSynced(kind),
            restarting: (err, delayMs) => this.#restarting(kind, err, delayMs),
          },
          informerOpts,
        ),
      );
    }
    const secret = opts.tokenSecret;
    if (secret) {
      const key = secret.key ?? 'token';
      const mine = (obj: KubernetesObject): boolean => obj.metadata?.name === secret.name && obj.metadata?.namespace === secret.namespace;
      this.#informers.push(
        new RestartingInformer(
          {
            kind: 'Secret',
            path: `/api/v1/namespaces/${encodeURIComponent(secret.namespace)}/secrets`,
            fieldSelector: `metadata.name=${secret.name}`,
          },
          {
            upsert: (obj) => {
              if (mine(obj)) this.#setToken(secretValue(obj, key));
            },
            delete: (obj) => {
              if (mine(obj)) this.#setToken(null);
            },
            synced: () => this.#informerSynced('Secret'),
            restarting: (err, delayMs) => this.#restarting('Secret', err, delayMs),
          },
          informerOpts,
        ),
      );
    }
  }

  /** Starts every informer. Returns at once; see `synced`, `whenSynced()` and `onChange`. */
  start(): void {
    if (this.#state !== 'new') throw new Error(`the provider cannot start: it is ${this.#state}`);
    this.#state = 'started';
    for (const informer of this.#informers) informer.start();
  }

  /** Stops the informers and pending rebuilds; no callback runs afterwards. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#coalescer.close();
    await Promise.all(this.#informers.map((i) => i.stop()));
  }

  /** True once every informer has listed once. Stays true (restarts resume from the cache). */
  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves when `synced` becomes true (at once if it is). */
  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** The latest world, or null before the first one (i.e. before sync). */
  world(): World | null {
    return this.#store.world;
  }

  /** Calls `listener` with every new world. Returns an unsubscribe function. */
  onChange(listener: (world: World) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** The token from the Secret (`data[key]`, base64-decoded, trimmed), or null when absent. */
  token(): string | null {
    return this.#token;
  }

  /** Calls `listener` whenever `token()` changes. Returns an unsubscribe function. */
  onTokenChange(listener: (token: string | null) => void): () => void {
    this.#tokenListeners.add(listener);
    return () => this.#tokenListeners.delete(listener);
  }

  /** Calls `listener` each time an informer fails and is scheduled to restart (for metrics). */
  onRestart(listener: (kind: InformerKind, err: Error) => void): () => void {
    this.#restartListeners.add(listener);
    return () => this.#restartListeners.delete(listener);
  }

  /** Restarts so far, per informer (kinds that never restarted are absent). */
  restarts(): ReadonlyMap<InformerKind, number> {
    return new Map(this.#restarts);
  }

  #changed(kind: WatchedKind, op: string, obj: KubernetesObject): void {
    this.#log.debug({ kind, op, object: nameOf(obj) }, 'change');
    this.#coalescer.notify();
  }

  #informerSynced(kind: InformerKind): void {
    this.#log.debug({ kind }, 'informer synced');
    if (this.#synced || !this.#informers.every((i) => i.synced)) return;
    this.#synced = true;
    this.#log.info({ informers: this.#informers.length }, 'synced');
    this.#coalescer.open();
    for (const resolve of this.#syncWaiters.splice(0)) resolve();
  }

  #restarting(kind: InformerKind, err: Error, delayMs: number): void {
    if (this.#state === 'stopped') return;
    this.#restarts.set(kind, (this.#restarts.get(kind) ?? 0) + 1);
    this.#log.warn({ kind, err: err.message, delayMs }, 'informer failed; restarting');
    for (const listener of this.#restartListeners) this.#call(() => listener(kind, err), 'onRestart');
  }

  #rebuild(): void {
    if (this.#state === 'stopped') return;
    const world = this.#store.build();
    if (!world) return;
    this.#log.debug({ revision: world.revision, objects: world.changes.objects, services: world.changes.services.size }, 'world');
    for (const listener of this.#changeListeners) this.#call(() => listener(world), 'onChange');
  }

  #setToken(token: string | null): void {
    if (token === this.#token) return;
    this.#token = token;
    this.#log.info({ present: token !== null }, 'channel token changed');
    for (const listener of this.#tokenListeners) this.#call(() => listener(token), 'onTokenChange');
  }

  /** A throwing listener is logged and does not stop the others. */
  #call(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, `${what} listener threw`);
    }
  }
}
