/**
 * The two controllers whose work clients wait for (reference §3.11), run synchronously after every
 * write until nothing changes:
 * - namespace lifecycle: a terminating namespace has its contents deleted (objects with finalizers
 *   wait for them) and, once empty, loses its `kubernetes` finalizer and goes;
 * - CRD cleanup: a terminating CRD has its custom resources deleted and, once none remain, loses
 *   the `customresourcecleanup` finalizer and goes (its types leave discovery with it).
 * There is no garbage collector: ownerReferences do not cascade.
 */
import { CRD_CLEANUP_FINALIZER, CRD_STORAGE_KEY, markTerminating } from './crd-registry.ts';
import { storageKeyOf } from './registry.ts';
import type { Resources } from './resources.ts';
import { NAMESPACES_KEY } from './resources.ts';
import type { Store } from './store.ts';
import type { JsonObject, KubeObject } from './types.ts';
import { clone } from './types.ts';

export function installControllers(resources: Resources, store: Store): void {
  let running = false;
  let again = false;
  resources.afterWrite = () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        finalizeNamespaces(resources, store);
        cleanUpCrds(resources, store);
      } while (again);
    } finally {
      running = false;
    }
  };
}

function finalizeNamespaces(resources: Resources, store: Store): void {
  const nsType = resources.typeFor(NAMESPACES_KEY)!;
  for (const ns of store.list(NAMESPACES_KEY)) {
    if (ns.metadata.deletionTimestamp === undefined) continue;
    const contents = store.listNamespace(ns.metadata.name!);
    for (const { storageKey, object } of contents) {
      const type = resources.typeFor(storageKey);
      if (type !== undefined && object.metadata.deletionTimestamp === undefined) resources.deleteStored(type, object);
    }
    const current = store.get(NAMESPACES_KEY, undefined, ns.metadata.name!);
    const finalizers = ((current?.spec as JsonObject | undefined)?.finalizers as string[] | undefined) ?? [];
    if (current !== undefined && store.listNamespace(ns.metadata.name!).length === 0 && finalizers.includes('kubernetes')) {
      const next = clone(current);
      (next.spec as JsonObject).finalizers = finalizers.filter((f) => f !== 'kubernetes');
      resources.persistUpdate(nsType, next, current);
    }
  }
}

function cleanUpCrds(resources: Resources, store: Store): void {
  const crdType = resources.typeFor(CRD_STORAGE_KEY)!;
  for (const crd of store.list(CRD_STORAGE_KEY)) {
    if (crd.metadata.deletionTimestamp === undefined || !(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) continue;
    let current: KubeObject = crd;
    const terminating = markTerminating(current);
    if (terminating !== current) current = resources.persistUpdate(crdType, terminating, current);
    const spec = crd.spec as { group: string; names: { plural: string } };
    const key = storageKeyOf(spec.group, spec.names.plural);
    const crType = resources.typeFor(key);
    for (const cr of store.list(key)) if (crType !== undefined && cr.metadata.deletionTimestamp === undefined) resources.deleteStored(crType, cr);
    if (store.list(key).length === 0) {
      const latest = store.get(CRD_STORAGE_KEY, undefined, crd.metadata.name!);
      if (latest === undefined) continue;
      const next = clone(latest);
      next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
      if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
      resources.persistUpdate(crdType, next, latest);
    }
  }
}
