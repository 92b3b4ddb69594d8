/**
 * The three patch types clients send (reference §3.10):
 * - JSON merge patch (RFC 7386): kubectl and helm for custom resources and CRDs, client-node with
 *   `PatchStrategy.MergePatch`;
 * - JSON patch (RFC 6902): client-node 1.x's default; the body must be an array (else 400), and an
 *   operation that cannot apply is a 422, as upstream's `applyJSPatch`;
 * - strategic merge patch, built-in types only (415 for custom resources): kubectl apply and helm
 *   upgrade on Services, Secrets, ConfigMaps, Deployments. Lists merge by key where the Go types
 *   declare a `patchMergeKey`; the key is read off the `$setElementOrder/<field>` directive that
 *   kubectl and helm send with every changed merge list, else from a small table of the fields
 *   charts use. Directives: `$patch` (replace/delete/merge), `$setElementOrder/`, `$retainKeys`,
 *   `$deleteFromPrimitiveList/`.
 * Server-side apply (`application/apply-patch+yaml`) is not implemented: no client we use needs it.
 */
import { ApiError, badRequest } from './errors.ts';
import type { JsonObject } from './types.ts';
import { clone, isObject, jsonEqual } from './types.ts';

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const unprocessable = (message: string): ApiError => new ApiError(422, 'Invalid', message, {});

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw badRequest('invalid JSON patch operation: each needs "op" and "path"');
    const path = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        doc = addAt(doc, path, requireValue(op));
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace':
        getAt(doc, path, op.path);
        doc = addAt(removeAt(doc, path), path, requireValue(op));
        break;
      case 'move': {
        const from = parsePointer(String(op.from));
        const value = getAt(doc, from, String(op.from));
        doc = addAt(removeAt(doc, from), path, value);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, clone(getAt(doc, parsePointer(String(op.from)), String(op.from))));
        break;
      case 'test':
        if (!jsonEqual(getAt(doc, path, op.path), op.value)) throw unprocessable(`testing value ${op.path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

function requireValue(op: JsonObject): unknown {
  if (!('value' in op)) throw unprocessable(`missing value for operation ${op.op} ${String(op.path)}`);
  return clone(op.value);
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw unprocessable(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: unknown, path: string[], pointer: string): unknown {
  let cur = doc;
  for (const seg of path) {
    if (Array.isArray(cur) && /^\d+$/.test(seg) && Number(seg) < cur.length) cur = cur[Number(seg)];
    else if (isObject(cur) && seg in cur) cur = cur[seg];
    else throw unprocessable(`doc is missing path: "${pointer}": missing value`);
  }
  return cur;
}

/** The container at path[0..-1], or 422 when it does not exist. */
function parentOf(doc: unknown, path: string[]): unknown {
  return getAt(doc, path.slice(0, -1), '/' + path.slice(0, -1).join('/'));
}

function addAt(doc: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path);
  const last = path[path.length - 1];
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!/^\d+$|^-$/.test(last) || i > parent.length) throw unprocessable(`add operation does not apply: index ${last} out of bounds`);
    parent.splice(i, 0, value);
  } else if (isObject(parent)) parent[last] = value;
  else throw unprocessable(`add operation does not apply: doc is missing path: "/${path.join('/')}"`);
  return doc;
}

function removeAt(doc: unknown, path: string[]): unknown {
  if (path.length === 0) return undefined;
  const parent = parentOf(doc, path);
  const last = path[path.length - 1];
  if (Array.isArray(parent) && /^\d+$/.test(last) && Number(last) < parent.length) parent.splice(Number(last), 1);
  else if (isObject(parent) && last in parent) delete parent[last];
  else throw unprocessable(`remove operation does not apply: doc is missing path: "/${path.join('/')}": missing value`);
  return doc;
}

/**
 * Merge keys of the Go types' `patchMergeKey` tags, by field name, for lists the patch does not
 * describe with `$setElementOrder`. `ports` depends on the owner: container ports merge on
 * containerPort, Service ports on port. Primitive lists marked `patchStrategy:merge` (finalizers)
 * merge as sets.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  imagePullSecrets: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
};
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw badRequest('the strategic merge patch must be a JSON object');
  return smpObject(isObject(target) ? target : {}, patch);
}

function smpObject(target: JsonObject, patch: JsonObject): JsonObject | undefined {
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return clone(rest);
  }
  const out: JsonObject = { ...target };
  const orders = new Map<string, unknown[]>();
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(v)) orders.set(k.slice('$setElementOrder/'.length), v);
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = Array.isArray(v) ? v : [];
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !drop.some((d) => jsonEqual(d, x)));
      continue;
    }
    if (k === '$retainKeys') continue;
    if (v === null) delete out[k];
    else if (isObject(v)) {
      const merged = smpObject(isObject(out[k]) ? (out[k] as JsonObject) : {}, v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) out[k] = smpList(k, out[k], v, orders.get(k) ?? (patch[`$setElementOrder/${k}`] as unknown[] | undefined));
    else out[k] = v;
  }
  for (const [field, order] of orders) if (!(field in patch) && Array.isArray(out[field])) out[field] = reorder(out[field] as unknown[], order, mergeKeyOf(field, order, out[field] as unknown[]));
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  return out;
}

function mergeKeyOf(field: string, order: unknown[] | undefined, items: unknown[]): string | undefined {
  const fromOrder = order?.find(isObject);
  if (fromOrder !== undefined && Object.keys(fromOrder).length === 1) return Object.keys(fromOrder)[0];
  if (field === 'ports') return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

function smpList(field: string, target: unknown, patch: unknown[], order: unknown[] | undefined): unknown[] {
  const current = Array.isArray(target) ? target : [];
  if (patch.length > 0 && patch.every((p) => !isObject(p))) {
    // Primitive lists replace, except the ones Go tags as merged sets.
    if (!MERGED_PRIMITIVE_LISTS.has(field)) return clone(patch);
    const out = [...current];
    for (const p of patch) if (!out.some((x) => jsonEqual(x, p))) out.push(p);
    return order === undefined ? out : reorder(out, order, undefined);
  }
  const key = mergeKeyOf(field, order, [...patch, ...current]);
  if (key === undefined) return clone(patch.filter((p) => !(isObject(p) && p.$patch !== undefined)));
  const replace = patch.find((p) => isObject(p) && p.$patch === 'replace');
  if (replace !== undefined) return clone(patch.filter((p) => p !== replace));
  let out = [...current];
  for (const p of patch) {
    if (!isObject(p)) continue;
    const i = out.findIndex((x) => isObject(x) && jsonEqual(x[key], p[key]));
    if (p.$patch === 'delete') {
      if (i >= 0) out = out.filter((_, j) => j !== i);
      continue;
    }
    if (i >= 0) out[i] = smpObject(out[i] as JsonObject, p) ?? out[i];
    else out.push(smpObject({}, p));
  }
  return order === undefined ? out : reorder(out, order, key);
}

/** `$setElementOrder`: listed elements in that order, unlisted ones after them. */
function reorder(items: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (x: unknown): unknown => (key !== undefined && isObject(x) ? x[key] : x);
  const wanted = order.map((o) => (key !== undefined && isObject(o) ? o[key] : o));
  const listed = wanted.flatMap((w) => items.filter((x) => jsonEqual(id(x), w)));
  return [...listed, ...items.filter((x) => !listed.includes(x))];
}
