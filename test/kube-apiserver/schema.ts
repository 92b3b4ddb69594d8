/**
 * A custom resource against its CRD's structural schema, in the API server's order (reference
 * §3.13): decode (unknown fields: Strict → 400, Warn → `Warning` header, Ignore → silent), prune
 * what the schema does not know, apply defaults, validate. Validation causes use upstream's field
 * paths (`spec.servers[1].port`) and wording (kube-openapi's validators, as the API server words
 * them in 1.30), so `kubectl apply` prints what a real cluster prints.
 *
 * The API server's own copy of `@switchyard/api`'s `validate.ts` would not do: that one reports
 * instead of pruning and words errors its own way; this one must behave like the server for any CRD.
 * CEL (`x-kubernetes-validations`) is not evaluated.
 */
import type { StatusCause } from './errors.ts';
import { fieldError } from './errors.ts';
import type { JsonObject } from './types.ts';
import { clone, isObject, jsonEqual } from './types.ts';

export interface Schema {
  type?: string;
  format?: string;
  nullable?: boolean;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  exclusiveMinimum?: boolean;
  maximum?: number;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  required?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  not?: Schema;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
}

/** ObjectMeta's JSON fields: anything else under the top-level `metadata` is unknown. */
const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/**
 * Removes fields the schema does not declare; returns their paths (for strict decoding errors and
 * warnings). Top-level `apiVersion`, `kind` and `metadata` belong to the API server, not the schema;
 * non-nullable nulls are dropped so that defaults can fill them, as upstream does.
 */
export function prune(obj: JsonObject, schema: Schema): string[] {
  const unknown: string[] = [];
  for (const k of Object.keys(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'metadata') {
      if (isObject(obj.metadata)) for (const m of Object.keys(obj.metadata)) if (!OBJECT_META_FIELDS.has(m)) {
        unknown.push(`metadata.${m}`);
        delete obj.metadata[m];
      }
      continue;
    }
    const prop = schema.properties?.[k];
    if (prop === undefined && !schema['x-kubernetes-preserve-unknown-fields']) {
      unknown.push(k);
      delete obj[k];
    } else if (prop !== undefined) obj[k] = pruneValue(obj[k], prop, k, unknown);
  }
  return unknown;
}

function pruneValue(value: unknown, schema: Schema, path: string, unknown: string[]): unknown {
  if (value === null) return schema.nullable ? null : undefined;
  if (schema['x-kubernetes-int-or-string']) return value;
  if (Array.isArray(value)) {
    if (schema.items === undefined) return value;
    return value.map((v, i) => pruneValue(v, schema.items!, `${path}[${i}]`, unknown) ?? null);
  }
  if (!isObject(value)) return value;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const k of Object.keys(value)) {
    if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const prop = schema.properties?.[k] ?? (isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined);
    if (prop !== undefined) {
      const pruned = pruneValue(value[k], prop, join(path, k), unknown);
      if (pruned === undefined) delete value[k];
      else value[k] = pruned;
    } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) {
      unknown.push(join(path, k));
      delete value[k];
    }
  }
  return value;
}

/** Fills `default`s where the parent exists (in place). */
export function applyDefaults(value: unknown, schema: Schema): void {
  if (Array.isArray(value)) {
    if (schema.items !== undefined) for (const v of value) applyDefaults(v, schema.items);
    return;
  }
  if (!isObject(value)) return;
  if (schema.properties !== undefined) {
    for (const [name, prop] of Object.entries(schema.properties)) {
      if (value[name] === undefined && prop.default !== undefined) value[name] = clone(prop.default);
      if (value[name] !== undefined) applyDefaults(value[name], prop);
    }
  } else if (isObject(schema.additionalProperties)) {
    for (const v of Object.values(value)) applyDefaults(v, schema.additionalProperties as Schema);
  }
}

/** Validation causes; empty when valid. `path` is the field path of `value` (`''` at the root). */
export function validateSchema(value: unknown, schema: Schema, path = ''): StatusCause[] {
  const errors: StatusCause[] = [];
  const at = path === '' ? '<root>' : path;
  if (value === null || value === undefined) {
    if (schema.nullable) return [];
    if (schema.type !== undefined) return [typeError(at, null, schema.type)];
    return [];
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || Number.isInteger(value))) return [typeError(at, value, 'integer or string')];
  } else if (schema.type !== undefined && !hasType(schema.type, value)) {
    return [typeError(at, value, schema.type)];
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => jsonEqual(e, value))) errors.push(fieldError.notSupported(at, value, schema.enum));
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum))
      errors.push(fieldError.invalid(at, value, `${at} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum))
      errors.push(fieldError.invalid(at, value, `${at} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.maxLength !== undefined && length > schema.maxLength)
      errors.push({ reason: 'FieldValueTooLong', message: `Too long: may not be longer than ${schema.maxLength}`, field: at });
    if (schema.minLength !== undefined && length < schema.minLength)
      errors.push(fieldError.invalid(at, value, `${at} in body should be at least ${schema.minLength} chars long`));
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(fieldError.invalid(at, value, `${at} in body should match '${schema.pattern}'`));
    if (schema.format !== undefined && !formatOk(schema.format, value))
      errors.push(fieldError.invalid(at, value, `${at} in body must be of type ${schema.format}: ${JSON.stringify(value)}`));
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(fieldError.tooMany(at, value.length, schema.maxItems));
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(fieldError.invalid(at, value.length, `${at} in body should have at least ${schema.minItems} items`));
    errors.push(...listUniqueness(value, schema, path));
    if (schema.items !== undefined) value.forEach((v, i) => errors.push(...validateSchema(v, schema.items!, `${path}[${i}]`)));
  }
  if (isObject(value)) {
    for (const name of schema.required ?? []) if (value[name] === undefined) errors.push(fieldError.required(join(path, name)));
    const count = Object.keys(value).length;
    if (schema.maxProperties !== undefined && count > schema.maxProperties) errors.push(fieldError.tooMany(at, count, schema.maxProperties));
    if (schema.minProperties !== undefined && count < schema.minProperties)
      errors.push(fieldError.invalid(at, count, `${at} in body should have at least ${schema.minProperties} properties`));
    if (schema['x-kubernetes-embedded-resource']) {
      for (const k of ['apiVersion', 'kind']) if (typeof value[k] !== 'string' || value[k] === '') errors.push(fieldError.required(join(path, k), 'must not be empty'));
    }
    for (const [k, v] of Object.entries(value)) {
      // The API server validates the top-level metadata itself.
      if (path === '' && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue;
      const prop = schema.properties?.[k] ?? (isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined);
      if (prop !== undefined) errors.push(...validateSchema(v, prop, join(path, k)));
    }
  }
  // Value validations: branches with only `required`/bounds, as structural schemas allow.
  if (schema.oneOf !== undefined) {
    const passing = schema.oneOf.filter((b) => validateSchema(value, b, path).length === 0).length;
    if (passing !== 1)
      errors.push(fieldError.invalid(at, value, `${at} in body must validate one and only one schema (oneOf). ${passing === 0 ? 'Found none valid' : `Found ${passing} valid alternatives`}`));
  }
  if (schema.anyOf !== undefined && !schema.anyOf.some((b) => validateSchema(value, b, path).length === 0))
    errors.push(fieldError.invalid(at, value, `${at} in body must validate at least one schema (anyOf)`));
  for (const b of schema.allOf ?? []) errors.push(...validateSchema(value, b, path));
  if (schema.not !== undefined && validateSchema(value, schema.not, path).length === 0)
    errors.push(fieldError.invalid(at, value, `${at} in body should not validate the schema`));
  return errors;
}

function typeError(at: string, value: unknown, type: string): StatusCause {
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : isObject(value) ? 'object' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  return { reason: 'FieldValueTypeInvalid', message: `Invalid value: "${actual}": ${at} in body must be of type ${type}: "${actual}"`, field: at };
}

function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

/** `x-kubernetes-list-type: set|map` and `uniqueItems`: no duplicates (by the map keys for maps). */
function listUniqueness(value: unknown[], schema: Schema, path: string): StatusCause[] {
  const listType = schema['x-kubernetes-list-type'];
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  const identity =
    listType === 'map' ? (v: unknown) => (isObject(v) ? Object.fromEntries(keys.map((k) => [k, v[k]])) : v) : listType === 'set' || schema.uniqueItems ? (v: unknown) => v : undefined;
  if (identity === undefined) return [];
  const errors: StatusCause[] = [];
  value.forEach((v, i) => {
    const id = identity(v);
    if (value.slice(0, i).some((w) => jsonEqual(identity(w), id))) errors.push(fieldError.duplicate(`${path}[${i}]`, id));
  });
  return errors;
}

const FORMATS: Record<string, RegExp> = {
  'date-time': /^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/,
  date: /^\d{4}-\d\d-\d\d$/,
  uuid: /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/,
  ipv4: /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/,
  ipv6: /^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$/,
  byte: /^[A-Za-z0-9+/]*={0,2}$/,
  hostname: /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/,
  email: /^[^@\s]+@[^@\s]+$/,
};

/** Unknown formats pass, as upstream (int32, int64, … constrain numbers only loosely). */
const formatOk = (format: string, value: string): boolean => FORMATS[format]?.test(value) ?? true;
