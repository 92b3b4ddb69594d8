/**
 * The API semantics of get, list, create, update, patch and delete, independent of HTTP: what the
 * API server's generic registry and REST handlers do (reference §3.3–3.6, §3.11). Objects are kept
 * in their storage form; `present` converts to the requested version on the way out.
 *
 * Writes: decode (prune/default/strict) → subresource rules (status) → server-owned metadata →
 * strategy prepare → validation (422) → generation → no-op check (no new revision, no event) → store.
 * After every persisted write the synchronous "controllers" (namespace and CRD cleanup) run.
 */
import { ApiError, alreadyExists, badRequest, conflict, fieldError, forbidden, invalid, notFound, unsupportedMediaType } from './errors.ts';
import type { StatusCause } from './errors.ts';
import { decodeErrors, generateSuffix, newUid, nowTimestamp, validateObjectMeta } from './meta.ts';
import { JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import type { Registry, ResourceType, WriteContext } from './registry.ts';
import { apiVersionOf, storageKeyOf } from './registry.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { Store } from './store.ts';
import type { JsonObject, KubeObject } from './types.ts';
import { clone, isObject, jsonEqual } from './types.ts';

export const NAMESPACES_KEY = storageKeyOf('', 'namespaces');

export interface WriteOptions extends WriteContext {
  dryRun: boolean;
}

export interface ListQuery {
  labelSelector: string | null;
  fieldSelector: string | null;
  limit: number | undefined;
  continueToken: string | null;
}

export interface ListResult {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}

/** Fields of metadata only the server sets; an update keeps the stored values. */
const SERVER_OWNED = ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;

const gr = (t: ResourceType): { group: string; resource: string } => ({ group: t.group, resource: t.resource });

export class Resources {
  private readonly registry: Registry;
  private readonly store: Store;
  /** Runs the synchronous controllers; set by the server after construction. */
  afterWrite: () => void = () => {};

  constructor(registry: Registry, store: Store) {
    this.registry = registry;
    this.store = store;
  }

  /** The stored object as this version serves it, with apiVersion and kind first. */
  present(type: ResourceType, stored: KubeObject, typeMeta = true): KubeObject {
    const versioned = type.strategy.toVersion ? type.strategy.toVersion(stored) : clone(stored);
    const { apiVersion: _a, kind: _k, ...rest } = versioned;
    return typeMeta ? { apiVersion: apiVersionOf(type), kind: type.kind, ...rest } : (rest as KubeObject);
  }

  private toStorage(type: ResourceType, obj: KubeObject): KubeObject {
    return type.strategy.fromVersion ? type.strategy.fromVersion(obj) : obj;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const stored = this.store.get(type.storageKey, namespace, name);
    if (stored === undefined) throw notFound(gr(type), name);
    return this.present(type, stored);
  }

  list(type: ResourceType, namespace: string | undefined, q: ListQuery): ListResult {
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector, type.fieldLabels);
    let items = this.store.list(type.storageKey, namespace).filter((o) => labels(o) && fields(o));
    const rv = String(this.store.rv);
    const metadata: ListResult['metadata'] = { resourceVersion: rv };
    if (q.continueToken) {
      // Paging continues after the last key of the previous page (from the current state; a real
      // server would serve the snapshot of the first page's revision).
      let start: string;
      try {
        start = String(JSON.parse(Buffer.from(q.continueToken, 'base64url').toString('utf8')).start);
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data');
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > start);
    }
    if (q.limit !== undefined && q.limit > 0 && items.length > q.limit) {
      const last = items[q.limit - 1];
      metadata.continue = Buffer.from(JSON.stringify({ rv, start: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64url');
      metadata.remainingItemCount = items.length - q.limit;
      items = items.slice(0, q.limit);
    }
    // Built-in list items carry no kind/apiVersion (kubernetes#3030); custom resource lists do.
    return { apiVersion: apiVersionOf(type), kind: type.listKind, metadata, items: items.map((o) => this.present(type, o, type.custom)) };
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions): KubeObject {
    const decodeError = decodeErrors(body);
    if (decodeError !== undefined) throw badRequest(decodeError);
    const obj = this.toStorage(type, this.checkTypeMeta(type, clone(body) as KubeObject));
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (type.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = namespace;
      this.checkNamespaceOpen(type, namespace!, meta.name ?? meta.generateName ?? '');
    } else delete meta.namespace;
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '')
      throw new ApiError(500, 'InternalError', 'Internal error occurred: resourceVersion should not be set on objects to be created', {});
    delete meta.resourceVersion;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${generateSuffix()}`;

    type.strategy.decode?.(obj, opts);
    meta.uid = newUid();
    meta.creationTimestamp = nowTimestamp();
    if (type.hasGeneration) meta.generation = 1;
    else delete meta.generation;
    for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']) delete meta[k];
    if (type.statusSubresource) delete obj.status;
    type.strategy.prepareCreate?.(obj);

    const causes: StatusCause[] = [];
    if (!meta.name) causes.push(fieldError.required('metadata.name', 'name or generateName is required'));
    else causes.push(...validateObjectMeta(obj), ...(type.strategy.validate?.(obj, undefined, opts) ?? []));
    if (causes.length > 0) throw invalid(type.kind, type.group, meta.name ?? '', causes);
    if (this.store.get(type.storageKey, meta.namespace, meta.name!) !== undefined) throw alreadyExists(gr(type), meta.name!);
    if (opts.dryRun) return this.present(type, obj);
    const stored = this.store.create(type.storageKey, obj);
    this.afterWrite();
    return this.present(type, stored);
  }

  /** PUT: a whole object, conditional on its resourceVersion. */
  update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions): KubeObject {
    const decodeError = decodeErrors(body);
    if (decodeError !== undefined) throw badRequest(decodeError);
    const existing = this.store.get(type.storageKey, namespace, name);
    if (existing === undefined) throw notFound(gr(type), name);
    const obj = this.checkTypeMeta(type, clone(body) as KubeObject);
    obj.metadata ??= {};
    const rv = obj.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      if (!type.allowUnconditionalUpdate)
        throw invalid(type.kind, type.group, name, [fieldError.invalid('metadata.resourceVersion', '0x0', 'must be specified for an update')]);
    } else if (rv !== existing.metadata.resourceVersion) throw conflict(gr(type), name);
    return this.commitUpdate(type, existing, this.toStorage(type, obj), opts);
  }

  /** PATCH: applied to the latest object; conflicts only when the patch sets a stale resourceVersion. */
  patch(type: ResourceType, namespace: string | undefined, name: string, contentType: string, body: unknown, opts: WriteOptions): KubeObject {
    const accepted = type.custom ? [JSON_PATCH, MERGE_PATCH] : [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH];
    if (!accepted.includes(contentType)) throw unsupportedMediaType(accepted);
    const existing = this.store.get(type.storageKey, namespace, name);
    if (existing === undefined) throw notFound(gr(type), name);
    const current = this.present(type, existing);
    let patched: unknown;
    if (contentType === JSON_PATCH) patched = jsonPatch(current, body);
    else if (!isObject(body)) throw badRequest(`json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type map[string]interface {}`);
    else if (contentType === MERGE_PATCH) patched = mergePatch(current, body);
    else patched = strategicMergePatch(current, body);
    const decodeError = decodeErrors(patched);
    if (decodeError !== undefined) throw badRequest(decodeError);
    const obj = this.checkTypeMeta(type, patched as KubeObject);
    obj.metadata ??= {};
    if (obj.metadata.name !== name) throw badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== existing.metadata.resourceVersion) throw conflict(gr(type), name);
    return this.commitUpdate(type, existing, this.toStorage(type, obj), opts);
  }

  private commitUpdate(type: ResourceType, existing: KubeObject, incoming: KubeObject, opts: WriteOptions): KubeObject {
    const name = existing.metadata.name!;
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name)
      throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    if (type.namespaced && incoming.metadata.namespace && incoming.metadata.namespace !== existing.metadata.namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');

    type.strategy.decode?.(incoming, opts);
    let obj = incoming;
    if (opts.subresource === 'status') {
      // A status write changes status and nothing else (metadata included).
      obj = clone(existing);
      if (incoming.status !== undefined) obj.status = incoming.status;
      else delete obj.status;
    } else if (type.statusSubresource) {
      // …and a main-resource write changes everything but status.
      if (existing.status !== undefined) obj.status = clone(existing.status);
      else delete obj.status;
    }
    const meta = obj.metadata;
    meta.name = name;
    if (type.namespaced) meta.namespace = existing.metadata.namespace;
    else delete meta.namespace;
    for (const k of SERVER_OWNED) {
      if (existing.metadata[k] !== undefined) (meta as JsonObject)[k] = existing.metadata[k];
      else delete meta[k];
    }
    delete meta.managedFields;
    delete meta.selfLink;
    meta.resourceVersion = existing.metadata.resourceVersion;
    if (opts.subresource !== 'status') type.strategy.prepareUpdate?.(obj, existing);

    const causes = [...validateObjectMeta(obj), ...(type.strategy.validate?.(obj, existing, opts) ?? [])];
    if (existing.metadata.deletionTimestamp !== undefined) {
      const added = (meta.finalizers ?? []).filter((f) => !(existing.metadata.finalizers ?? []).includes(f));
      if (added.length > 0)
        causes.push(fieldError.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`));
    }
    if (causes.length > 0) throw invalid(type.kind, type.group, name, causes);

    if (type.hasGeneration && specChanged(existing, obj, type.statusSubresource)) meta.generation = (existing.metadata.generation ?? 0) + 1;
    if (meta.finalizers !== undefined && meta.finalizers.length === 0) delete meta.finalizers;
    const before = clone(existing);
    if (before.metadata.finalizers?.length === 0) delete before.metadata.finalizers;
    // No-op writes do not take a revision or emit an event (etcd3's GuaranteedUpdate short cut).
    if (jsonEqual(obj, before)) return this.present(type, existing);
    if (opts.dryRun) return this.present(type, obj);
    return this.present(type, this.persistUpdate(type, obj, existing));
  }

  /** Stores an update; an object being deleted whose last finalizer went is removed instead. */
  persistUpdate(type: ResourceType, obj: KubeObject, existing: KubeObject): KubeObject {
    const stored = existing.metadata.deletionTimestamp !== undefined && !this.hasPendingFinalizers(type, obj) ? this.store.delete(type.storageKey, obj) : this.store.update(type.storageKey, obj, existing);
    this.afterWrite();
    return stored;
  }

  private hasPendingFinalizers(type: ResourceType, obj: KubeObject): boolean {
    return (obj.metadata.finalizers ?? []).length > 0 || (type.strategy.pendingFinalizers?.(obj) ?? false);
  }

  /**
   * DELETE: with finalizers pending the object is only marked (deletionTimestamp, MODIFIED) and
   * returned; otherwise it goes (DELETED) and a Success Status comes back.
   */
  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions, dryRun: boolean): { code: number; body: KubeObject | JsonObject } {
    const existing = this.store.get(type.storageKey, namespace, name);
    if (existing === undefined) throw notFound(gr(type), name);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== existing.metadata.uid)
      throw conflict(gr(type), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
    if (pre.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion)
      throw conflict(gr(type), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
    if (type.storageKey === NAMESPACES_KEY && ['default', 'kube-system', 'kube-public'].includes(name))
      throw forbidden(gr(type), name, 'this namespace may not be deleted');
    const result = dryRun ? existing : this.deleteStored(type, existing);
    if (result !== undefined && this.hasPendingFinalizers(type, result)) return { code: 200, body: this.present(type, result) };
    return {
      code: 200,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: type.group, kind: type.resource, uid: existing.metadata.uid } },
    };
  }

  /**
   * Deletes or marks a stored object (also used by the controllers). Returns the object as it now
   * is while it waits for finalizers, or undefined once it is gone.
   */
  deleteStored(type: ResourceType, existing: KubeObject): KubeObject | undefined {
    if (!this.hasPendingFinalizers(type, existing)) {
      this.store.delete(type.storageKey, existing);
      this.afterWrite();
      return undefined;
    }
    if (existing.metadata.deletionTimestamp !== undefined) return existing;
    const marked = clone(existing);
    marked.metadata.deletionTimestamp = nowTimestamp();
    marked.metadata.deletionGracePeriodSeconds = 0;
    if ((marked.metadata.generation ?? 0) > 0) marked.metadata.generation! += 1;
    if (type.storageKey === NAMESPACES_KEY) marked.status = { ...((marked.status as JsonObject | undefined) ?? {}), phase: 'Terminating' };
    const stored = this.store.update(type.storageKey, marked, existing);
    this.afterWrite();
    return this.store.get(type.storageKey, stored.metadata.namespace, stored.metadata.name!);
  }

  deleteCollection(type: ResourceType, namespace: string | undefined, q: ListQuery, options: DeleteOptions, dryRun: boolean): ListResult {
    const list = this.list(type, namespace, { ...q, limit: undefined, continueToken: null });
    for (const item of list.items) {
      const existing = this.store.get(type.storageKey, item.metadata.namespace, item.metadata.name!);
      if (existing !== undefined) this.delete(type, item.metadata.namespace, item.metadata.name!, options, dryRun);
    }
    return list;
  }

  /** Namespaced creates need a namespace that exists and is not terminating (NamespaceLifecycle). */
  private checkNamespaceOpen(type: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get(NAMESPACES_KEY, undefined, namespace);
    if (ns === undefined) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp !== undefined)
      throw forbidden(gr(type), name, `unable to create new content in namespace ${namespace} because it is being terminated`);
  }

  /** A body's apiVersion/kind must name this type (when given). */
  private checkTypeMeta(type: ResourceType, obj: KubeObject): KubeObject {
    const expected = apiVersionOf(type);
    if (obj.apiVersion !== undefined && obj.apiVersion !== expected)
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected})`);
    if (obj.kind !== undefined && obj.kind !== type.kind) throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${type.kind})`);
    delete obj.apiVersion;
    delete obj.kind;
    return obj;
  }

  typeFor(storageKey: string): ResourceType | undefined {
    return this.registry.byStorageKey(storageKey)[0];
  }
}

/** Whether anything outside metadata (and status, when it is a subresource) changed. */
function specChanged(a: KubeObject, b: KubeObject, statusIsSubresource: boolean): boolean {
  const strip = (o: KubeObject): JsonObject => {
    const { metadata: _m, status, apiVersion: _a, kind: _k, ...rest } = o;
    return statusIsSubresource ? rest : { ...rest, status };
  };
  return !jsonEqual(strip(a), strip(b));
}
