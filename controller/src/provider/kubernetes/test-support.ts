/**
 * Test support (not used by product code): an in-memory cluster and informers that behave like
 * client-node's ListWatch (list, add/update/delete callbacks, update only when the
 * resourceVersion differs, deletes on relist, stop for good on an error), for unit tests of the
 * informer wrapper and the provider without an API server.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { InformerFactory, InformerLike, Lister, ObjectList, ResourceSource } from './informer.ts';

type Verb = 'add' | 'update' | 'delete' | 'error';
type Callback = (arg: never) => void;

const keyOf = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class FakeInformer implements InformerLike {
  readonly source: ResourceSource;
  readonly #cluster: FakeCluster;
  readonly #list: () => Promise<ObjectList>;
  readonly #callbacks = new Map<Verb, Callback[]>();
  readonly cache = new Map<string, KubernetesObject>();
  resourceVersion = '';
  watching = false;
  starts = 0;
  stops = 0;

  constructor(cluster: FakeCluster, source: ResourceSource, list: () => Promise<ObjectList>) {
    this.#cluster = cluster;
    this.source = source;
    this.#list = list;
  }

  on(verb: 'add' | 'update' | 'delete', cb: (obj: KubernetesObject) => void): void;
  on(verb: 'error', cb: (err?: unknown) => void): void;
  on(verb: Verb, cb: Callback): void {
    this.#callbacks.set(verb, [...(this.#callbacks.get(verb) ?? []), cb]);
  }

  emit(verb: 'add' | 'update' | 'delete', obj: KubernetesObject): void;
  emit(verb: 'error', err: unknown): void;
  emit(verb: Verb, arg: unknown): void {
    for (const cb of this.#callbacks.get(verb) ?? []) (cb as (a: unknown) => void)(arg);
  }

  async start(): Promise<void> {
    this.starts++;
    if (this.#cluster.startRejects) throw this.#cluster.startRejects;
    if (this.resourceVersion === '') {
      let list: ObjectList;
      try {
        list = await this.#list();
      } catch (err) {
        this.emit('error', err);
        return;
      }
      this.#applyList(list);
    }
    this.watching = true;
  }

  async stop(): Promise<void> {
    this.stops++;
    this.watching = false;
  }

  /** A watch event from the cluster. */
  deliver(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubernetesObject): void {
    if (!this.watching) return;
    this.resourceVersion = obj.metadata?.resourceVersion ?? this.resourceVersion;
    if (type === 'DELETED') {
      if (this.cache.delete(keyOf(obj))) this.emit('delete', obj);
      return;
    }
    const before = this.cache.get(keyOf(obj));
    this.cache.set(keyOf(obj), obj);
    if (!before) this.emit('add', obj);
    else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj);
  }

  /** 410 Gone: client-node relists by itself, emitting deletes for what vanished; no error. */
  async gone(): Promise<void> {
    this.resourceVersion = '';
    this.watching = false;
    const list = await this.#list();
    this.#applyList(list);
    this.watching = true;
  }

  #applyList(list: ObjectList): void {
    const fresh = new Map(list.items.map((o) => [keyOf(o), o]));
    for (const [key, obj] of [...this.cache]) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit('delete', obj);
      }
    }
    for (const obj of list.items) {
      const before = this.cache.get(keyOf(obj));
      this.cache.set(keyOf(obj), obj);
      if (!before) this.emit('add', obj);
      else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '1';
  }
}

/** Objects by collection path, a resourceVersion counter, and the informers watching them. */
export class FakeCluster {
  readonly #objects = new Map<string, Map<string, KubernetesObject>>();
  readonly informers: FakeInformer[] = [];
  #rv = 0;
  /** Paths whose list fails (value: the error). */
  readonly failingLists = new Map<string, Error>();
  /** Paths whose list never answers until released. */
  readonly heldLists = new Map<string, Promise<void>>();
  /** When set, informer.start() rejects with it (no request made). */
  startRejects: Error | null = null;
  lists = 0;

  readonly factory: InformerFactory = (source, list) => {
    const informer = new FakeInformer(this, source, list);
    this.informers.push(informer);
    return informer;
  };

  readonly lister: Lister = async (source) => {
    this.lists++;
    await this.heldLists.get(source.path);
    const failure = this.failingLists.get(source.path);
    if (failure) throw failure;
    const items = [...(this.#objects.get(source.path)?.values() ?? [])].filter((o) => matchesField(o, source.fieldSelector));
    return { metadata: { resourceVersion: String(this.#rv) }, items };
  };

  informer(path: string): FakeInformer {
    const found = this.informers.find((i) => i.source.path === path);
    if (!found) throw new Error(`no informer for ${path}`);
    return found;
  }

  /** Creates or replaces an object (a new resourceVersion) and tells the watchers. */
  apply(path: string, obj: KubernetesObject): KubernetesObject {
    const stored: KubernetesObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } };
    let objects = this.#objects.get(path);
    if (!objects) this.#objects.set(path, (objects = new Map()));
    const existed = objects.has(keyOf(stored));
    objects.set(keyOf(stored), stored);
    for (const i of this.informers) if (i.source.path === path && matchesField(stored, i.source.fieldSelector)) i.deliver(existed ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  remove(path: string, obj: KubernetesObject): void {
    const objects = this.#objects.get(path);
    const stored = objects?.get(keyOf(obj));
    if (!stored) return;
    objects!.delete(keyOf(obj));
    const last = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(++this.#rv) } };
    for (const i of this.informers) if (i.source.path === path) i.deliver('DELETED', last);
  }

  /** Like a reset connection: every watcher of `path` stops with an error (client-node does not restart). */
  breakWatches(path: string, err = new Error('read ECONNRESET')): void {
    for (const i of this.informers) {
      if (i.source.path === path && i.watching) {
        i.watching = false;
        i.emit('error', err);
      }
    }
  }
}

function matchesField(obj: KubernetesObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [field, value] = term.split('=');
    if (field === 'metadata.name') return obj.metadata?.name === value;
    if (field === 'metadata.namespace') return obj.metadata?.namespace === value;
    return false;
  });
}
