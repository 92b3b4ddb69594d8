/**
 * CustomResourceDefinitions (reference §3.12): the `apiextensions.k8s.io/v1` type itself, and the
 * custom resource types each CRD serves.
 *
 * A CRD write sets its status in the same write (NamesAccepted, Established, acceptedNames,
 * storedVersions): on a single real API server establishment is near-instant, and helm polls for
 * it. A store listener registers or drops the CRD's types in the same tick as the write, so
 * discovery and the CR endpoints change before the response reaches the client. Deleting a CRD goes
 * through the `customresourcecleanup` finalizer (controllers.ts deletes its CRs first).
 */
import { builtinType } from './builtins.ts';
import type { StatusCause } from './errors.ts';
import { badRequest, fieldError } from './errors.ts';
import { nowTimestamp, validateName } from './meta.ts';
import type { PrinterColumn, Registry, ResourceType, Strategy, WriteContext } from './registry.ts';
import { storageKeyOf } from './registry.ts';
import { applyDefaults, prune, validateSchema } from './schema.ts';
import type { Schema } from './schema.ts';
import type { Store } from './store.ts';
import type { JsonObject, KubeObject } from './types.ts';
import { clone, isObject } from './types.ts';

export const CRD_GROUP = 'apiextensions.k8s.io';
export const CRD_RESOURCE = 'customresourcedefinitions';
export const CRD_STORAGE_KEY = storageKeyOf(CRD_GROUP, CRD_RESOURCE);
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

interface CrdNames {
  plural: string;
  singular?: string;
  kind: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
}

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: Schema };
  subresources?: { status?: JsonObject; scale?: JsonObject };
  additionalPrinterColumns?: PrinterColumn[];
  selectableFields?: { jsonPath: string }[];
}

interface CrdSpec {
  group: string;
  names: CrdNames;
  scope: string;
  versions: CrdVersion[];
}

const specOf = (crd: KubeObject): CrdSpec => crd.spec as CrdSpec;

/** The names a CRD claims, with upstream's defaults (singular = lower(kind), listKind = kind+List). */
function acceptedNames(names: CrdNames): Required<CrdNames> {
  return {
    plural: names.plural,
    singular: names.singular || names.kind.toLowerCase(),
    kind: names.kind,
    listKind: names.listKind || `${names.kind}List`,
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
  };
}

function validateCrd(crd: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const errors: StatusCause[] = [];
  const spec = crd.spec as Partial<CrdSpec> | undefined;
  if (!isObject(spec)) return [fieldError.required('spec')];
  const names = (spec.names ?? {}) as Partial<CrdNames>;
  if (!spec.group) errors.push(fieldError.required('spec.group'));
  else if (!spec.group.includes('.')) errors.push(fieldError.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  if (!names.plural) errors.push(fieldError.required('spec.names.plural'));
  if (!names.kind) errors.push(fieldError.required('spec.names.kind'));
  if (names.plural && spec.group && crd.metadata.name !== `${names.plural}.${spec.group}`)
    errors.push(fieldError.invalid('metadata.name', crd.metadata.name, 'must be spec.names.plural+"."+spec.group'));
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') errors.push(fieldError.notSupported('spec.scope', spec.scope ?? '', ['Cluster', 'Namespaced']));
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) errors.push(fieldError.required('spec.versions', 'must have exactly one version marked as storage version'));
  else if (versions.filter((v) => v.storage).length !== 1)
    errors.push(fieldError.invalid('spec.versions', versions.map((v) => v.name), 'must have exactly one version marked as storage version'));
  versions.forEach((v, i) => {
    const schema = v.schema?.openAPIV3Schema;
    if (!isObject(schema)) errors.push(fieldError.required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
    else if (schema.type !== 'object') errors.push(fieldError.invalid(`spec.versions[${i}].schema.openAPIV3Schema.type`, schema.type ?? '', 'must be object at the root'));
  });
  if (old !== undefined) {
    const was = old.spec as CrdSpec;
    if (spec.group !== was.group) errors.push(fieldError.invalid('spec.group', spec.group, 'field is immutable'));
    if (names.plural !== was.names.plural) errors.push(fieldError.invalid('spec.names.plural', names.plural, 'field is immutable'));
  }
  return errors;
}

/**
 * The names of another CRD in the same group that this one would take: upstream's
 * NamingConditionController reports the first clash as NamesAccepted=False, reason AlreadyInUse.
 */
function nameConflict(crd: KubeObject, others: KubeObject[]): string | undefined {
  const mine = acceptedNames(specOf(crd).names);
  for (const other of others) {
    if (other.metadata.name === crd.metadata.name || specOf(other).group !== specOf(crd).group) continue;
    const theirs = acceptedNames(specOf(other).names);
    const taken = new Set([theirs.plural, theirs.singular, ...theirs.shortNames]);
    for (const n of [mine.plural, mine.singular, ...mine.shortNames]) if (taken.has(n)) return `"${n}" is already in use`;
    if (mine.kind === theirs.kind || mine.listKind === theirs.listKind) return `"${mine.kind}" is already in use`;
  }
  return undefined;
}

function condition(type: string, status: string, reason: string, message: string, old: JsonObject[]): JsonObject {
  const prev = old.find((c) => c.type === type);
  const lastTransitionTime = prev !== undefined && prev.status === status ? prev.lastTransitionTime : nowTimestamp();
  return { type, status, lastTransitionTime, reason, message };
}

function crdStatus(crd: KubeObject, old: KubeObject | undefined, others: KubeObject[]): JsonObject {
  const spec = specOf(crd);
  const prevStatus = (old?.status ?? {}) as JsonObject;
  const prevConditions = (Array.isArray(prevStatus.conditions) ? prevStatus.conditions : []) as JsonObject[];
  const conflict = nameConflict(crd, others);
  const storage = spec.versions.find((v) => v.storage)!.name;
  const stored = new Set([...((prevStatus.storedVersions as string[] | undefined) ?? []), storage]);
  const wasEstablished = prevConditions.some((c) => c.type === 'Established' && c.status === 'True');
  const conditions =
    conflict === undefined
      ? [condition('NamesAccepted', 'True', 'NoConflicts', 'no conflicts found', prevConditions), condition('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted', prevConditions)]
      : [
          condition('NamesAccepted', 'False', 'AlreadyInUse', conflict, prevConditions),
          wasEstablished
            ? condition('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted', prevConditions)
            : condition('Established', 'False', 'NotAccepted', 'not all names are accepted', prevConditions),
        ];
  if (crd.metadata.deletionTimestamp !== undefined) conditions.push(condition('Terminating', 'True', 'InstanceDeletionInProgress', 'CustomResource deletion is in progress', prevConditions));
  const accepted = conflict === undefined ? acceptedNames(spec.names) : (prevStatus.acceptedNames ?? { plural: '', kind: '' });
  return { conditions, acceptedNames: accepted, storedVersions: [...stored] };
}

export const isEstablished = (crd: KubeObject): boolean =>
  ((crd.status as JsonObject | undefined)?.conditions as JsonObject[] | undefined)?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;

/** The strategy of one custom resource version: decode (prune, default), validate against the schema. */
function customResourceStrategy(kind: string, version: string, schema: Schema): Strategy {
  return {
    decode(obj: KubeObject, ctx: WriteContext) {
      const unknown = prune(obj, schema);
      if (unknown.length > 0) {
        if (ctx.fieldValidation === 'Strict')
          throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
        if (ctx.fieldValidation === 'Warn') ctx.warnings.push(...unknown.map((u) => `unknown field "${u}"`));
      }
      applyDefaults(obj, schema);
    },
    validate(obj: KubeObject, _old, ctx: WriteContext) {
      const names = validateName(obj.metadata.name ?? '', 'subdomain');
      if (ctx.subresource === 'status') {
        const statusSchema = schema.properties?.status;
        return [...names, ...(statusSchema === undefined ? [] : validateSchema(obj.status, statusSchema, 'status'))];
      }
      return [...names, ...validateSchema(obj, schema)];
    },
  };
}

function customResourceTypes(crd: KubeObject): ResourceType[] {
  const spec = specOf(crd);
  const names = acceptedNames(spec.names);
  return spec.versions
    .filter((v) => v.served)
    .map((v) => ({
      group: spec.group,
      version: v.name,
      resource: names.plural,
      kind: names.kind,
      listKind: names.listKind,
      singular: names.singular,
      shortNames: names.shortNames,
      categories: names.categories,
      namespaced: spec.scope === 'Namespaced',
      storageKey: storageKeyOf(spec.group, names.plural),
      custom: true,
      statusSubresource: v.subresources?.status !== undefined,
      hasGeneration: true,
      allowUnconditionalUpdate: false,
      fieldLabels: Object.fromEntries(
        (v.selectableFields ?? []).map((f) => [f.jsonPath.replace(/^\./, ''), (o: KubeObject) => {
          const value = f.jsonPath.replace(/^\./, '').split('.').reduce<unknown>((x, k) => (isObject(x) ? x[k] : undefined), o);
          return value === undefined ? undefined : String(value);
        }]),
      ),
      printerColumns: v.additionalPrinterColumns ?? [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
      strategy: customResourceStrategy(names.kind, v.name, v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
    }));
}

/** Registers the CRD type and keeps the served custom resource types in step with stored CRDs. */
export function installCrdSupport(registry: Registry, store: Store): void {
  const others = (): KubeObject[] => store.list(CRD_STORAGE_KEY);
  const strategy: Strategy = {
    prepareCreate(obj) {
      obj.metadata.finalizers = [...new Set([...(obj.metadata.finalizers ?? []), CRD_CLEANUP_FINALIZER])];
      if (isObject(obj.spec) && validateCrd(obj, undefined).length === 0) obj.status = crdStatus(obj, undefined, others());
    },
    prepareUpdate(obj, old) {
      if (isObject(obj.spec) && validateCrd(obj, old).length === 0) obj.status = crdStatus(obj, old, others());
    },
    validate: (obj, old) => validateCrd(obj, old),
  };
  registry.add({
    ...builtinType({ group: CRD_GROUP, version: 'v1', resource: CRD_RESOURCE, kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], statusSubresource: true, hasGeneration: true, strategy }),
    printerColumns: [{ name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
  });

  const served = new Map<string, ResourceType[]>();
  store.subscribe(CRD_STORAGE_KEY, (event) => {
    const name = event.object.metadata.name!;
    for (const t of served.get(name) ?? []) registry.remove(t.group, t.version, t.resource);
    served.delete(name);
    if (event.type === 'DELETED') {
      store.dropType(storageKeyOf(specOf(event.object).group, specOf(event.object).names.plural));
      return;
    }
    if (!isEstablished(event.object)) return;
    const types = customResourceTypes(event.object);
    for (const t of types) registry.add(t);
    served.set(name, types);
  });
}

/** A terminating CRD's status says so (Terminating=True); the same object when it already does. */
export function markTerminating(crd: KubeObject): KubeObject {
  const status = (crd.status ?? {}) as JsonObject;
  const conditions = (status.conditions as JsonObject[] | undefined) ?? [];
  if (conditions.some((c) => c.type === 'Terminating' && c.status === 'True')) return crd;
  const out = clone(crd);
  const terminating = { type: 'Terminating', status: 'True', lastTransitionTime: nowTimestamp(), reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' };
  out.status = { ...status, conditions: [...conditions.filter((c) => c.type !== 'Terminating'), terminating] };
  return out;
}
