/**
 * The provider's store: projections of every watched object, and the world built from them.
 *
 * `upsert` and `delete` return whether anything that matters changed (see projection.ts): only
 * then does the provider wake the coalescer. `build()` turns the pending changes into a new
 * immutable `World`, re-resolving endpoints only for the Services whose Service or slices changed,
 * and reusing the previous `objects` array and per-Service endpoint arrays when they did not change
 * (identity is the cheap change signal the incremental translator uses).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Endpoint, RawObject } from '../../translator/types.ts';
import { resolveEndpoints, sameEndpoints } from './endpoints.ts';
import { keyOf, projectResource, projectService, projectSlice } from './projection.ts';
import type { ResourceView, ServiceView, SliceView, SwitchyardKind } from './projection.ts';

export type WatchedKind = SwitchyardKind | 'Service' | 'EndpointSlice';

/** What changed between a world and the one before it. */
export interface WorldChanges {
  /** The Switchyard objects (some object was added, removed or changed). */
  objects: boolean;
  /** `namespace/name` of every Service whose endpoints changed, appeared or disappeared. */
  services: ReadonlySet<string>;
}

/** Everything the translator needs, at one point in time. Immutable: never mutated after it is built. */
export interface World {
  /** 1 for the first world, then +1 per world. */
  revision: number;
  /** Frontends, Backends and HealthPolicies (source null), sorted by kind, namespace and name. */
  objects: readonly RawObject[];
  /** `namespace/service` -> ready endpoints, for every Service that exists (empty when it has none). */
  endpoints: ReadonlyMap<string, readonly Endpoint[]>;
  /** Relative to the previous world; everything counts as changed in the first one. */
  changes: WorldChanges;
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const serviceKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export class Store {
  readonly #resources = new Map<string, ResourceView>();
  readonly #services = new Map<string, ServiceView>();
  readonly #slices = new Map<string, SliceView>();
  /** `namespace/service` -> keys of its slices. */
  readonly #slicesByService = new Map<string, Set<string>>();
  #objectsDirty = false;
  readonly #dirtyServices = new Set<string>();
  #world: World | null = null;

  /** Records the object's current state; true when something that matters changed. */
  upsert(kind: WatchedKind, obj: unknown): boolean {
    switch (kind) {
      case 'Service':
        return this.#upsertService(obj);
      case 'EndpointSlice':
        return this.#upsertSlice(obj);
      default:
        return this.#upsertResource(kind, obj);
    }
  }

  /** Forgets the object; true when it was known (and so its removal matters). */
  delete(kind: WatchedKind, obj: unknown): boolean {
    const key = keyOf(obj);
    if (!key) return false;
    switch (kind) {
      case 'Service': {
        const id = serviceKey(key.namespace, key.name);
        if (!this.#services.delete(id)) return false;
        this.#dirtyServices.add(id);
        return true;
      }
      case 'EndpointSlice':
        return this.#removeSlice(serviceKey(key.namespace, key.name));
      default: {
        const id = `${kind}/${key.namespace || 'default'}/${key.name}`;
        if (!this.#resources.delete(id)) return false;
        this.#objectsDirty = true;
        return true;
      }
    }
  }

  /** True when changes wait for `build()`. */
  get dirty(): boolean {
    return this.#world === null || this.#objectsDirty || this.#dirtyServices.size > 0;
  }

  /** The last world built, or null before the first `build()`. */
  get world(): World | null {
    return this.#world;
  }

  /**
   * Applies pending changes: a new world, or null when nothing changed in effect (e.g. a slice
   * changed but its Service's ready endpoints did not). The first call always builds a world.
   */
  build(): World | null {
    const prev = this.#world;
    const objectsChanged = prev === null || this.#objectsDirty;
    const objects = objectsChanged ? this.#sortedObjects() : prev.objects;
    let endpoints: ReadonlyMap<string, readonly Endpoint[]>;
    const changedServices = new Set<string>();
    if (prev === null) {
      const all = new Map<string, readonly Endpoint[]>();
      for (const [id, service] of [...this.#services].sort(([a], [b]) => compareText(a, b))) {
        all.set(id, resolveEndpoints(service, this.#slicesOf(id)));
        changedServices.add(id);
      }
      endpoints = all;
    } else {
      let next: Map<string, readonly Endpoint[]> | null = null;
      for (const id of [...this.#dirtyServices].sort(compareText)) {
        const service = this.#services.get(id);
        const before = prev.endpoints.get(id);
        if (!service) {
          if (before === undefined) continue;
          next ??= new Map(prev.endpoints);
          next.delete(id);
        } else {
          const resolved = resolveEndpoints(service, this.#slicesOf(id));
          if (before !== undefined && sameEndpoints(before, resolved)) continue;
          next ??= new Map(prev.endpoints);
          next.set(id, resolved);
        }
        changedServices.add(id);
      }
      endpoints = next ?? prev.endpoints;
    }
    this.#objectsDirty = false;
    this.#dirtyServices.clear();
    if (prev !== null && !objectsChanged && changedServices.size === 0) return null;
    this.#world = Object.freeze({
      revision: (prev?.revision ?? 0) + 1,
      objects,
      endpoints,
      changes: Object.freeze({ objects: objectsChanged, services: changedServices }),
    });
    return this.#world;
  }

  #upsertResource(kind: SwitchyardKind, obj: unknown): boolean {
    const view = projectResource(kind, obj);
    if (!view) return false;
    const id = `${kind}/${view.metadata.namespace}/${view.metadata.name}`;
    if (isDeepStrictEqual(this.#resources.get(id), view)) return false;
    this.#resources.set(id, view);
    this.#objectsDirty = true;
    return true;
  }

  #upsertService(obj: unknown): boolean {
    const view = projectService(obj);
    if (!view) return false;
    const id = serviceKey(view.namespace, view.name);
    if (isDeepStrictEqual(this.#services.get(id), view)) return false;
    this.#services.set(id, view);
    this.#dirtyServices.add(id);
    return true;
  }

  #upsertSlice(obj: unknown): boolean {
    const key = keyOf(obj);
    if (!key) return false;
    const id = serviceKey(key.namespace, key.name);
    const view = projectSlice(obj);
    // A slice that no longer names a Service (or turned FQDN) is as good as gone.
    if (!view) return this.#removeSlice(id);
    const before = this.#slices.get(id);
    if (isDeepStrictEqual(before, view)) return false;
    if (before) this.#unindex(id, before);
    this.#slices.set(id, view);
    const owner = serviceKey(view.namespace, view.service);
    let set = this.#slicesByService.get(owner);
    if (!set) this.#slicesByService.set(owner, (set = new Set()));
    set.add(id);
    this.#dirtyServices.add(owner);
    return true;
  }

  #removeSlice(id: string): boolean {
    const before = this.#slices.get(id);
    if (!before) return false;
    this.#slices.delete(id);
    this.#unindex(id, before);
    return true;
  }

  #unindex(id: string, slice: SliceView): void {
    const owner = serviceKey(slice.namespace, slice.service);
    const set = this.#slicesByService.get(owner);
    set?.delete(id);
    if (set?.size === 0) this.#slicesByService.delete(owner);
    this.#dirtyServices.add(owner);
  }

  *#slicesOf(service: string): Iterable<SliceView> {
    for (const id of this.#slicesByService.get(service) ?? []) yield this.#slices.get(id)!;
  }

  #sortedObjects(): RawObject[] {
    return [...this.#resources.entries()]
      .sort(([a], [b]) => compareText(a, b))
      .map(([, object]) => Object.freeze({ object, source: null }));
  }
}
