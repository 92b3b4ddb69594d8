/**
 * In-memory storage: objects per group/resource, one cluster-wide revision counter (like etcd's), and
 * a bounded per-type event history for watches (like the API server's watch cache, reference §3.3).
 *
 * Every persisted write takes the next revision and becomes the object's `resourceVersion`. Writes
 * are synchronous, so a single event loop makes the order of revisions the order of events that
 * every watcher sees. No-op detection lives in the handlers (they decide whether to write at all).
 */
import type { KubeObject } from './types.ts';
import { clone } from './types.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  /** The revision of this write. */
  rv: number;
  /** The new state; for DELETED the last state, carrying the deletion revision. */
  object: KubeObject;
  /** The state before the write (undefined for ADDED); watchers need it for selector transitions. */
  prev: KubeObject | undefined;
}

export type Listener = (event: StoreEvent) => void;

interface History {
  events: StoreEvent[];
  /** The highest revision dropped from `events`: a watch from an older revision missed something. */
  compactedThrough: number;
}

const objectKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

export class Store {
  private revision = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly histories = new Map<string, History>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly historyLimit: number;

  constructor(historyLimit: number) {
    this.historyLimit = Math.max(1, historyLimit);
  }

  /** The current cluster-wide revision (what a LIST reports). */
  get rv(): number {
    return this.revision;
  }

  get(storageKey: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.objects.get(storageKey)?.get(objectKey(namespace, name));
    return obj === undefined ? undefined : clone(obj);
  }

  /** Objects of a type, optionally in one namespace, sorted by namespace then name. */
  list(storageKey: string, namespace?: string): KubeObject[] {
    const all = [...(this.objects.get(storageKey)?.values() ?? [])];
    const picked = namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
    return picked.map((o) => clone(o)).sort((a, b) => objectKey(a.metadata.namespace, a.metadata.name!).localeCompare(objectKey(b.metadata.namespace, b.metadata.name!)));
  }

  /** Every object of every type in a namespace (for namespace deletion). */
  listNamespace(namespace: string): { storageKey: string; object: KubeObject }[] {
    const out: { storageKey: string; object: KubeObject }[] = [];
    for (const [storageKey, objs] of this.objects) for (const o of objs.values()) if (o.metadata.namespace === namespace) out.push({ storageKey, object: clone(o) });
    return out;
  }

  create(storageKey: string, obj: KubeObject): KubeObject {
    return this.write(storageKey, 'ADDED', obj, undefined);
  }

  update(storageKey: string, obj: KubeObject, prev: KubeObject): KubeObject {
    return this.write(storageKey, 'MODIFIED', obj, prev);
  }

  /** Removes the object; the DELETED event carries its last state at the deletion revision. */
  delete(storageKey: string, obj: KubeObject): KubeObject {
    return this.write(storageKey, 'DELETED', obj, obj);
  }

  private write(storageKey: string, type: EventType, obj: KubeObject, prev: KubeObject | undefined): KubeObject {
    const rv = ++this.revision;
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(rv);
    let objs = this.objects.get(storageKey);
    if (objs === undefined) this.objects.set(storageKey, (objs = new Map()));
    const key = objectKey(stored.metadata.namespace, stored.metadata.name!);
    if (type === 'DELETED') objs.delete(key);
    else objs.set(key, stored);

    const event: StoreEvent = { type, rv, object: stored, prev: prev === undefined ? undefined : clone(prev) };
    const history = this.history(storageKey);
    history.events.push(event);
    while (history.events.length > this.historyLimit) history.compactedThrough = history.events.shift()!.rv;
    for (const listener of [...(this.listeners.get(storageKey) ?? [])]) listener(event);
    return clone(stored);
  }

  /**
   * Events of a type after revision `since`, or `undefined` when some were already dropped (the
   * caller answers 410 Gone) or `since` is a revision this store never reached (an RV from an
   * earlier emulator process: 410 lets informers relist, reference §3.3).
   */
  eventsSince(storageKey: string, since: number): StoreEvent[] | undefined {
    const history = this.history(storageKey);
    if (since < history.compactedThrough || since > this.revision) return undefined;
    return history.events.filter((e) => e.rv > since);
  }

  /** The oldest revision a watch of this type may still start from. */
  oldestWatchable(storageKey: string): number {
    return this.history(storageKey).compactedThrough;
  }

  /** Forgets all retained events (an etcd compaction): watches from any older revision get 410. */
  compact(): void {
    for (const history of this.histories.values()) {
      history.compactedThrough = this.revision;
      history.events = [];
    }
  }

  subscribe(storageKey: string, listener: Listener): () => void {
    let set = this.listeners.get(storageKey);
    if (set === undefined) this.listeners.set(storageKey, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Drops every object and the history of a type (a CRD's storage going away). */
  dropType(storageKey: string): void {
    this.objects.delete(storageKey);
    this.histories.delete(storageKey);
  }

  private history(storageKey: string): History {
    let h = this.histories.get(storageKey);
    if (h === undefined) {
      // A type never written has nothing to miss: a watch from any reached revision is valid.
      h = { events: [], compactedThrough: 0 };
      this.histories.set(storageKey, h);
    }
    return h;
  }
}
