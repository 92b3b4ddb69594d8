/**
 * EventRecorder (leader only): Kubernetes core/v1 Events about Switchyard objects, deduplicated
 * like client-go's EventCorrelator.
 *
 *   const recorder = new EventRecorder({ client: kubeEventClient(kc), instance: replica });
 *   recorder.start(termSignal);                       // records only during a leadership term
 *   recorder.record({ kind: 'Backend', namespace, name, uid }, 'Warning', 'ServerDown', 'server ...');
 *
 * An Event names its object in `involvedObject` (with `uid`, which `kubectl describe` selects on;
 * when the caller does not know it the recorder reads the object once and caches it), has
 * `source.component` and `reportingComponent` = `switchyard-controller` and `reportingInstance` =
 * the replica. The same object + type + reason + message recorded again within `windowMs` of the
 * last occurrence bumps the existing Event's `count` and `lastTimestamp` with a merge patch instead
 * of creating another (a 404 there, the Event expired, creates a new one). The correlation cache
 * holds at most `maxEntries` keys (oldest dropped) and is cleared when a term ends, since another
 * leader may have touched the Events since. client-go's aggregation of similar messages and its
 * spam filter are not reproduced: the callers emit on transitions only.
 *
 * Recording never blocks and never throws: Events are best effort; failures are logged and dropped.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import { API_VERSION } from '@switchyard/api';
import { describeError, httpStatus } from '../fleet/api-errors.ts';
import { systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import { formatTime } from '../kube-time.ts';
import type { FleetLogger } from '../fleet/fleet-reporter.ts';
import type { ObjectRef, StatusClient } from './status-client.ts';

export const COMPONENT = 'switchyard-controller';

export type EventType = 'Normal' | 'Warning';

export interface EventTarget extends ObjectRef {
  uid?: string;
}

/** Where events go (the recorder, or a fake in tests). */
export interface EventSink {
  record(target: EventTarget, type: EventType, reason: string, message: string): void;
}

/** A core/v1 Event as written (timestamps as RFC 3339 text). */
export interface KubeEvent {
  metadata: { name: string; namespace: string };
  involvedObject: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string };
  type: EventType;
  reason: string;
  message: string;
  source: { component: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

export interface EventClient {
  /** Rejects with 409 when the name is taken. */
  create(event: KubeEvent): Promise<void>;
  /** Merge patch; rejects with 404 when the Event is gone. */
  patch(namespace: string, name: string, patch: { count: number; lastTimestamp: string }): Promise<void>;
  /** The object's uid, or undefined when it does not exist. */
  lookupUid(target: ObjectRef): Promise<string | undefined>;
}

export interface EventRecorderOptions {
  client: EventClient;
  /** This replica (reportingInstance). */
  instance: string;
  component?: string;
  clock?: Clock;
  /** Repeats within this time of the last occurrence bump the same Event. Default 10 minutes. */
  windowMs?: number;
  maxEntries?: number;
  /** Queued records beyond this are dropped (and counted). Default 1000. */
  maxQueue?: number;
  logger?: FleetLogger;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  last: number;
}

interface Pending {
  target: EventTarget;
  type: EventType;
  reason: string;
  message: string;
  at: number;
}

const MAX_MESSAGE = 1024;

export class EventRecorder implements EventSink {
  readonly #client: EventClient;
  readonly #instance: string;
  readonly #component: string;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #maxQueue: number;
  readonly #logger: FleetLogger | undefined;
  readonly #seen = new Map<string, Seen>();
  readonly #uids = new Map<string, string>();
  #queue: Pending[] = [];
  #draining: Promise<void> | null = null;
  #term: AbortSignal | null = null;
  #seq = 0;
  /** Counters, for tests and metrics. */
  readonly stats = { created: 0, patched: 0, dropped: 0, failed: 0 };

  constructor(options: EventRecorderOptions) {
    this.#client = options.client;
    this.#instance = options.instance;
    this.#component = options.component ?? COMPONENT;
    this.#clock = options.clock ?? systemClock;
    this.#windowMs = options.windowMs ?? 10 * 60_000;
    this.#maxEntries = options.maxEntries ?? 4096;
    this.#maxQueue = options.maxQueue ?? 1000;
    this.#logger = options.logger;
  }

  /** Records from now until `signal` aborts (the leadership term). */
  start(signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#term = signal;
    signal.addEventListener(
      'abort',
      () => {
        if (this.#term !== signal) return;
        this.#term = null;
        this.#queue = [];
        this.#seen.clear();
      },
      { once: true },
    );
  }

  get active(): boolean {
    return this.#term !== null;
  }

  record(target: EventTarget, type: EventType, reason: string, message: string): void {
    if (this.#term === null) return;
    if (this.#queue.length >= this.#maxQueue) {
      this.stats.dropped++;
      return;
    }
    if (target.uid) this.#uids.set(keyOf(target), target.uid);
    this.#queue.push({ target, type, reason, message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message, at: this.#clock.now() });
    this.#kick();
  }

  #kick(): void {
    if (this.#draining) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = null;
      if (this.#queue.length > 0 && this.#term !== null) this.#kick();
    });
  }

  /** Resolves when every queued record has been written or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      const term = this.#term;
      if (term === null) return;
      try {
        await this.#write(next, term);
      } catch (err) {
        this.stats.failed++;
        this.#logger?.warn({ reason: next.reason, object: keyOf(next.target), err: describeError(err) }, 'event: cannot record');
      }
    }
  }

  async #write(e: Pending, term: AbortSignal): Promise<void> {
    const objectKey = keyOf(e.target);
    let uid = e.target.uid ?? this.#uids.get(objectKey);
    if (uid === undefined) {
      uid = await this.#client.lookupUid(e.target);
      if (uid === undefined) return; // the object is gone: nobody to tell
      this.#uids.set(objectKey, uid);
      if (this.#uids.size > this.#maxEntries) this.#uids.delete(this.#uids.keys().next().value!);
    }
    if (term.aborted) return;
    const key = `${objectKey}\n${uid}\n${e.type}\n${e.reason}\n${e.message}`;
    const seen = this.#seen.get(key);
    const now = formatTime(e.at);
    if (seen !== undefined && e.at - seen.last <= this.#windowMs) {
      try {
        await this.#client.patch(seen.namespace, seen.name, { count: seen.count + 1, lastTimestamp: now });
        seen.count++;
        seen.last = e.at;
        this.#touch(key, seen);
        this.stats.patched++;
        return;
      } catch (err) {
        if (httpStatus(err) !== 404) throw err;
        this.#seen.delete(key); // expired on the server: start a new one
      }
    }
    for (let attempt = 0; ; attempt++) {
      const name = `${e.target.name}.${this.#eventSuffix(e.at)}`;
      const event: KubeEvent = {
        metadata: { name, namespace: e.target.namespace },
        involvedObject: { apiVersion: API_VERSION, kind: e.target.kind, namespace: e.target.namespace, name: e.target.name, uid },
        type: e.type,
        reason: e.reason,
        message: e.message,
        source: { component: this.#component },
        reportingComponent: this.#component,
        reportingInstance: this.#instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      try {
        await this.#client.create(event);
        this.#touch(key, { name, namespace: e.target.namespace, count: 1, last: e.at });
        this.stats.created++;
        return;
      } catch (err) {
        if (httpStatus(err) === 409 && attempt < 2) continue; // name taken: another suffix
        throw err;
      }
    }
  }

  /** client-go names Events `<object>.<unix nanoseconds in hex>`; a sequence keeps ours unique. */
  #eventSuffix(at: number): string {
    return (BigInt(Math.floor(at)) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16);
  }

  #touch(key: string, seen: Seen): void {
    this.#seen.delete(key);
    this.#seen.set(key, seen);
    while (this.#seen.size > this.#maxEntries) this.#seen.delete(this.#seen.keys().next().value!);
  }
}

function keyOf(target: ObjectRef): string {
  return `${target.kind}/${target.namespace}/${target.name}`;
}

/** EventClient over client-node 2.x (`CoreV1Api`); uids are read through `objects`. */
export function kubeEventClient(kc: KubeConfig, objects: StatusClient): EventClient {
  const api = kc.makeApiClient(CoreV1Api);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    async create(event) {
      await api.createNamespacedEvent({ namespace: event.metadata.namespace, body: event as unknown as CoreV1Event });
    },
    async patch(namespace, name, patch) {
      await api.patchNamespacedEvent({ name, namespace, body: patch }, mergePatch);
    },
    async lookupUid(target) {
      try {
        return (await objects.get(target)).metadata?.uid;
      } catch (err) {
        if (httpStatus(err) === 404) return undefined;
        throw err;
      }
    },
  };
}
