/**
 * An in-memory LeaseClient for unit tests: resourceVersions, 409/404 like the API server, watches
 * from a resourceVersion, and hooks to fail the next calls or end the watches.
 */
import { HttpError } from '../api-errors.ts';
import type { FleetLease, LeaseClient, LeaseWatch, LeaseWatchEvent } from '../lease-client.ts';

interface Watcher {
  selector: string;
  onEvent: (event: LeaseWatchEvent) => void;
  onDone: (err?: unknown) => void;
  stopped: boolean;
}

export class FakeLeaseClient implements LeaseClient {
  readonly leases = new Map<string, FleetLease>();
  readonly calls: string[] = [];
  /** Errors thrown by the next calls of a method, first in first out. */
  readonly failNext = new Map<string, Error[]>();
  #rv = 100;
  /** Watches from before this version get 410 Gone. */
  #compactedAt = 0;
  readonly #watchers = new Set<Watcher>();
  readonly #history: { rv: number; event: LeaseWatchEvent }[] = [];

  get activeWatches(): number {
    return [...this.#watchers].filter((w) => !w.stopped).length;
  }

  fail(method: string, err: Error): void {
    const list = this.failNext.get(method) ?? [];
    list.push(err);
    this.failNext.set(method, list);
  }

  #maybeFail(method: string): void {
    this.calls.push(method);
    const err = this.failNext.get(method)?.shift();
    if (err) throw err;
  }

  async get(name: string): Promise<FleetLease | null> {
    this.#maybeFail('get');
    const l = this.leases.get(name);
    return l ? structuredClone(l) : null;
  }

  async create(lease: FleetLease): Promise<FleetLease> {
    this.#maybeFail('create');
    if (this.leases.has(lease.name)) throw new HttpError(409, `leases "${lease.name}" already exists`);
    return this.#store(lease, 'ADDED');
  }

  async replace(lease: FleetLease): Promise<FleetLease> {
    this.#maybeFail('replace');
    const current = this.leases.get(lease.name);
    if (!current) throw new HttpError(404, `leases "${lease.name}" not found`);
    if (lease.resourceVersion !== current.resourceVersion) throw new HttpError(409, 'the object has been modified');
    return this.#store(lease, 'MODIFIED');
  }

  async delete(name: string): Promise<void> {
    this.#maybeFail('delete');
    const current = this.leases.get(name);
    if (!current) return;
    this.leases.delete(name);
    this.#emit({ type: 'DELETED', lease: { ...structuredClone(current), resourceVersion: String(++this.#rv) } });
  }

  async list(labelSelector: string): Promise<{ items: FleetLease[]; resourceVersion: string }> {
    this.#maybeFail('list');
    const items = [...this.leases.values()].filter((l) => matches(l, labelSelector)).map((l) => structuredClone(l));
    return { items, resourceVersion: String(this.#rv) };
  }

  async watch(labelSelector: string, resourceVersion: string, onEvent: (event: LeaseWatchEvent) => void, onDone: (err?: unknown) => void): Promise<LeaseWatch> {
    this.#maybeFail('watch');
    const w: Watcher = { selector: labelSelector, onEvent, onDone, stopped: false };
    this.#watchers.add(w);
    const from = Number(resourceVersion);
    if (from < this.#compactedAt) {
      queueMicrotask(() => {
        onEvent({ type: 'ERROR', code: 410, message: `too old resource version: ${from}` });
        this.#end(w);
      });
    } else {
      for (const h of this.#history) if (h.rv > from) queueMicrotask(() => this.#deliver(w, h.event));
    }
    return { stop: () => this.#end(w) };
  }

  /** Ends every watch as a server timeout would (cleanly), or with `err`. */
  endWatches(err?: Error): void {
    for (const w of [...this.#watchers]) this.#end(w, err);
  }

  /** Forgets the event history, so a watch from an older version gets 410. */
  compact(): void {
    this.#history.length = 0;
    this.#rv += 10;
    this.#compactedAt = this.#rv;
  }

  /** Writes a lease as another party would (no failure hooks). */
  put(lease: FleetLease): FleetLease {
    return this.#store(lease, this.leases.has(lease.name) ? 'MODIFIED' : 'ADDED');
  }

  #store(lease: FleetLease, type: 'ADDED' | 'MODIFIED'): FleetLease {
    const stored = { ...structuredClone(lease), resourceVersion: String(++this.#rv) };
    this.leases.set(stored.name, stored);
    this.#emit({ type, lease: structuredClone(stored) });
    return structuredClone(stored);
  }

  #emit(event: LeaseWatchEvent): void {
    this.#history.push({ rv: this.#rv, event });
    for (const w of this.#watchers) this.#deliver(w, event);
  }

  #deliver(w: Watcher, event: LeaseWatchEvent): void {
    if (w.stopped) return;
    if ((event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') && !matches(event.lease, w.selector)) return;
    w.onEvent(structuredClone(event));
  }

  #end(w: Watcher, err?: Error): void {
    if (w.stopped) return;
    w.stopped = true;
    this.#watchers.delete(w);
    w.onDone(err);
  }
}

function matches(lease: FleetLease, selector: string): boolean {
  if (selector === '') return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return lease.labels?.[k!] === v;
  });
}
