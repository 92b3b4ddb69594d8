/**
 * The snapshot cache (ARCHITECTURE data flow step 5): the translator's output goes in, versioned
 * and frozen; the channel server pushes `current` to every stream. Publishing a snapshot whose
 * content is unchanged does nothing, so resync noise never reaches a data plane.
 *
 * The version is a short content hash (sha256 of canonical JSON: object keys sorted, arrays in
 * their order, contents sorted by key), so every replica, and every restart of one, names the
 * same world the same way. A data plane that reconnects to another replica announcing the
 * current version gets no push.
 */
import { createHash } from 'node:crypto';
import type { ir } from '@switchyard/api';
import type { VersionedSnapshot } from './versioned-snapshot.ts';

/** Hex digits of the sha256 kept in a version: 64 bits, plenty for a handful of live versions. */
const VERSION_LENGTH = 16;

export type SnapshotContents = ReadonlyMap<string, number | null> | Iterable<readonly [string, number | null]>;

export interface SnapshotCacheOptions {
  /** How many versions `get` can still find (the current one included). Default 10. */
  keep?: number;
}

export class SnapshotCache {
  readonly #keep: number;
  /** Oldest first; the last one is current. */
  readonly #versions = new Map<string, VersionedSnapshot>();
  #current: VersionedSnapshot | null = null;
  readonly #listeners = new Set<(snapshot: VersionedSnapshot) => void>();

  constructor(options: SnapshotCacheOptions = {}) {
    const keep = options.keep ?? 10;
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be an integer >= 1, got ${keep}`);
    this.#keep = keep;
  }

  /** The latest published snapshot, or null before the first. */
  get current(): VersionedSnapshot | null {
    return this.#current;
  }

  /** A recently published version (the last `keep`), or undefined. */
  get(version: string): VersionedSnapshot | undefined {
    return this.#versions.get(version);
  }

  /** Versions still held, oldest first. */
  versions(): string[] {
    return [...this.#versions.keys()];
  }

  /**
   * Publishes a snapshot built from `contents` (`Kind/namespace/name` -> generation). Returns the
   * new VersionedSnapshot, or null when it has the version already current. The cache keeps its
   * own frozen copy: the caller may reuse its objects.
   */
  publish(snapshot: ir.Snapshot, contents: SnapshotContents): VersionedSnapshot | null {
    const sorted = sortContents(contents);
    const version = hashOf(snapshot, sorted);
    if (this.#current?.version === version) return null;
    const published: VersionedSnapshot =
      this.#versions.get(version) ??
      Object.freeze({ version, snapshot: deepFreeze(structuredClone(snapshot)), contents: new FrozenMap(sorted) });
    this.#versions.delete(version);
    this.#versions.set(version, published);
    while (this.#versions.size > this.#keep) this.#versions.delete(this.#versions.keys().next().value!);
    this.#current = published;
    for (const listener of [...this.#listeners]) {
      try {
        listener(published);
      } catch (err) {
        // A broken listener must not stop the others or the publisher.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    return published;
  }

  /** Called with every newly published snapshot; returns an unsubscribe. */
  onPublish(listener: (snapshot: VersionedSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The version of a snapshot and its contents: the first 16 hex digits of a sha256 of canonical JSON. */
export function snapshotVersion(snapshot: ir.Snapshot, contents: SnapshotContents): string {
  return hashOf(snapshot, sortContents(contents));
}

function hashOf(snapshot: ir.Snapshot, sorted: [string, number | null][]): string {
  return createHash('sha256')
    .update(canonicalJson({ snapshot, contents: sorted }))
    .digest('hex')
    .slice(0, VERSION_LENGTH);
}

/** Entries by key (the last wins for a repeated key), sorted by key. */
function sortContents(contents: SnapshotContents): [string, number | null][] {
  return [...new Map(contents)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A Map that refuses changes once built: published contents are as immutable as the snapshot. */
class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]>) {
    super();
    for (const [k, v] of entries) super.set(k, v);
    Object.freeze(this);
  }

  override set(_key: K, _value: V): this {
    throw new TypeError('published snapshot contents are read-only');
  }

  override delete(_key: K): boolean {
    throw new TypeError('published snapshot contents are read-only');
  }

  override clear(): void {
    throw new TypeError('published snapshot contents are read-only');
  }
}
