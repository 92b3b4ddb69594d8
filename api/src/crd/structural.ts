/**
 * zod schema → structural OpenAPI v3 schema, the dialect CustomResourceDefinitions accept.
 *
 * The zod schema goes through `z.toJSONSchema(…, { io: 'input' })` (what a user may write, so fields
 * with defaults are optional), and the JSON Schema is rewritten node by node:
 * - `$ref`s are inlined; `$schema`, `propertyNames` and zod's private string formats go;
 * - `additionalProperties: false` or `{}` next to `properties` goes (the API server prunes unknown
 *   fields instead); a record keeps `additionalProperties: <schema>`;
 * - `const` becomes a one-value `enum`; unions of literals become one `enum`;
 * - an integer|string union becomes `x-kubernetes-int-or-string: true`, keeping each branch's bounds
 *   (JSON Schema applies `minimum` to numbers only and `pattern` to strings only);
 * - a union of objects (zod's discriminatedUnion) becomes one object whose properties are every
 *   branch's properties, the discriminator an enum of every branch's values and the only required
 *   field besides those every branch requires. A default that does not hold for every branch is
 *   dropped (the API server would write it into every branch) and named in the description;
 * - type-less `oneOf`/`anyOf` branches (e.g. `{ required: [tcp] }`) stay, as value validations;
 * - ±Number.MAX_SAFE_INTEGER bounds (zod's defaults for `.int()`) go.
 * Anything else unknown throws, naming the path, so a new zod construct cannot slip through half
 * converted.
 */
import { z } from 'zod';
import type { JSONSchemaProps, SchemaType } from './types.ts';

type JsonObject = Record<string, unknown>;

/** Formats the API server understands; zod's own (starts_with, …) come with an equivalent pattern. */
export const KUBE_FORMATS = new Set(['date-time', 'date', 'email', 'uuid', 'ipv4', 'ipv6', 'hostname', 'byte', 'int32', 'int64', 'cidr', 'uri']);
const ZOD_PATTERN_FORMATS = new Set(['starts_with', 'ends_with', 'includes', 'regex']);

/** Every keyword a generated schema may hold, in the order they are written. */
export const KEY_ORDER: readonly (keyof JSONSchemaProps)[] = [
  'description',
  'type',
  'x-kubernetes-int-or-string',
  'format',
  'nullable',
  'enum',
  'default',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'items',
  'properties',
  'additionalProperties',
  'required',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-preserve-unknown-fields',
];

/** A zod schema as a structural CRD schema. */
export function zodToStructural(schema: z.ZodType): JSONSchemaProps {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as JsonObject;
  return jsonSchemaToStructural(json);
}

/** A JSON Schema (draft 2020-12, as zod writes it) as a structural CRD schema. */
export function jsonSchemaToStructural(root: JsonObject): JSONSchemaProps {
  const defs = { ...asObject(root.definitions ?? {}, 'definitions'), ...asObject(root.$defs ?? {}, '$defs') };
  return convert(root, '', { defs, resolving: new Set() });
}

interface Ctx {
  defs: JsonObject;
  resolving: Set<string>;
}

function convert(input: JsonObject, path: string, ctx: Ctx): JSONSchemaProps {
  const node = omit(deref(input, path, ctx), ['$schema', '$defs', 'definitions']);
  const union = node.anyOf ?? node.oneOf;
  if (union !== undefined) {
    const unionKey = node.anyOf !== undefined ? 'anyOf' : 'oneOf';
    if (node.anyOf !== undefined && node.oneOf !== undefined) fail(path, 'both anyOf and oneOf');
    const branches = asArray(union, path).map((b, i) => deref(asObject(b, `${path}/${unionKey}/${i}`), path, ctx));
    if (branches.every(isValueValidation)) {
      const out = convert(omit(node, ['anyOf', 'oneOf']), path, ctx);
      out[unionKey] = branches.map((b) => ({ required: [...(b.required as string[])] }));
      return ordered(out);
    }
    return ordered(convertUnion(omit(node, ['anyOf', 'oneOf']), branches, path, ctx));
  }
  if (Array.isArray(node.type)) {
    const types = node.type.filter((t) => t !== 'null');
    let out: JSONSchemaProps;
    if (types.length === 2 && types.includes('integer') && types.includes('string')) {
      // An unconstrained integer|string union, which zod writes as a type list.
      const rest = omit(node, ['type']);
      out = convertUnion(rest, [{ type: 'integer' }, { type: 'string' }], path, ctx);
    } else if (types.length === 1) {
      out = convert({ ...node, type: types[0] }, path, ctx);
    } else {
      fail(path, `type ${JSON.stringify(node.type)} has no structural equivalent`);
    }
    if (types.length < node.type.length) out.nullable = true;
    return ordered(out);
  }
  return ordered(convertTyped(node, path, ctx));
}

function convertTyped(node: JsonObject, path: string, ctx: Ctx): JSONSchemaProps {
  const out: JSONSchemaProps = {};
  const seen = new Set<string>(['type', 'description', 'default', 'enum', 'const', 'format']);
  const type = node.type as string | undefined;
  if (type === undefined) fail(path, `no type (keys: ${Object.keys(node).join(', ')})`);
  if (!['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(type)) fail(path, `type ${type} has no structural equivalent`);
  if (typeof node.description === 'string') out.description = node.description;
  out.type = type as SchemaType;
  if ('const' in node) out.enum = [node.const];
  if (Array.isArray(node.enum)) out.enum = [...node.enum];
  if ('default' in node) out.default = structuredClone(node.default);
  if (typeof node.format === 'string') {
    if (KUBE_FORMATS.has(node.format)) out.format = node.format;
    else if (!(ZOD_PATTERN_FORMATS.has(node.format) && typeof node.pattern === 'string'))
      fail(path, `format ${node.format} is not one Kubernetes knows`);
  }
  const take = (key: string): unknown => {
    seen.add(key);
    return node[key];
  };
  switch (type) {
    case 'string': {
      const minLength = take('minLength');
      const maxLength = take('maxLength');
      const pattern = take('pattern');
      if (typeof minLength === 'number') out.minLength = minLength;
      if (typeof maxLength === 'number') out.maxLength = maxLength;
      if (typeof pattern === 'string') out.pattern = pattern;
      break;
    }
    case 'integer':
    case 'number':
      Object.assign(out, numericBounds(take('minimum'), take('maximum'), take('exclusiveMinimum'), take('exclusiveMaximum'), type));
      break;
    case 'array': {
      const items = take('items');
      const minItems = take('minItems');
      const maxItems = take('maxItems');
      if (items === undefined || Array.isArray(items)) fail(path, 'an array needs one items schema');
      out.items = convert(asObject(items, `${path}[]`), `${path}[]`, ctx);
      if (typeof minItems === 'number') out.minItems = minItems;
      if (typeof maxItems === 'number') out.maxItems = maxItems;
      break;
    }
    case 'object': {
      const properties = asObject(take('properties') ?? {}, `${path}/properties`);
      const required = take('required');
      const additional = take('additionalProperties');
      const keyNames = take('propertyNames');
      if (keyNames !== undefined && !deepEqual(keyNames, { type: 'string' })) fail(path, 'propertyNames other than {type: string}');
      const names = Object.keys(properties);
      if (names.length > 0) {
        out.properties = {};
        for (const name of names) out.properties[name] = convert(asObject(properties[name], `${path}.${name}`), `${path}.${name}`, ctx);
        if (Array.isArray(required) && required.length > 0) out.required = (required as string[]).filter((r) => names.includes(r));
      } else if (additional !== undefined && typeof additional === 'object' && Object.keys(additional as object).length > 0) {
        out.additionalProperties = convert(asObject(additional, `${path}.*`), `${path}.*`, ctx);
      }
      // Otherwise additionalProperties false / {} / true: pruning does the job of `false`, and a
      // loose object simply loses what it does not declare.
      break;
    }
    case 'boolean':
      break;
  }
  const unknown = Object.keys(node).filter((k) => !seen.has(k));
  if (unknown.length > 0) fail(path, `unsupported keyword(s) ${unknown.join(', ')} on a ${type}`);
  return out;
}

function numericBounds(min: unknown, max: unknown, exMin: unknown, exMax: unknown, type: 'integer' | 'number'): JSONSchemaProps {
  const out: JSONSchemaProps = {};
  if (typeof min === 'number' && min > -Number.MAX_SAFE_INTEGER) out.minimum = min;
  if (typeof max === 'number' && max < Number.MAX_SAFE_INTEGER) out.maximum = max;
  // Draft 2020-12 writes exclusive bounds as numbers; OpenAPI v3.0 as a flag next to minimum/maximum.
  if (typeof exMin === 'number') {
    if (type === 'integer' && Number.isInteger(exMin)) out.minimum = Math.max(out.minimum ?? -Infinity, exMin + 1);
    else Object.assign(out, { minimum: exMin, exclusiveMinimum: true });
  }
  if (typeof exMax === 'number') {
    if (type === 'integer' && Number.isInteger(exMax)) out.maximum = Math.min(out.maximum ?? Infinity, exMax - 1);
    else Object.assign(out, { maximum: exMax, exclusiveMaximum: true });
  }
  return out;
}

/** `{ required: [...] }` and nothing else: a value validation, allowed in a structural schema. */
function isValueValidation(branch: JsonObject): boolean {
  const keys = Object.keys(branch);
  return keys.length === 1 && keys[0] === 'required' && Array.isArray(branch.required);
}

function convertUnion(shared: JsonObject, branches: JsonObject[], path: string, ctx: Ctx): JSONSchemaProps {
  const nonNull = branches.filter((b) => b.type !== 'null');
  const nullable = nonNull.length < branches.length;
  let out: JSONSchemaProps;
  if (nonNull.length === 1) {
    out = convert({ ...nonNull[0], ...shared }, path, ctx);
  } else if (nonNull.every(isLiteral)) {
    out = literalUnion(shared, nonNull, path);
  } else if (nonNull.every((b) => b.type === 'object')) {
    out = mergeObjects(shared, nonNull, path, ctx);
  } else if (nonNull.length === 2 && nonNull.some((b) => b.type === 'string') && nonNull.some((b) => b.type === 'integer')) {
    out = intOrString(shared, nonNull, path, ctx);
  } else {
    fail(path, `union of ${nonNull.map((b) => JSON.stringify(b.type)).join(' | ')} has no structural equivalent`);
  }
  if (nullable) out.nullable = true;
  return out;
}

function isLiteral(b: JsonObject): boolean {
  const keys = Object.keys(b).filter((k) => k !== 'type' && k !== 'description');
  return keys.length === 1 && (keys[0] === 'const' || (keys[0] === 'enum' && Array.isArray(b.enum)));
}

function literalUnion(shared: JsonObject, branches: JsonObject[], path: string): JSONSchemaProps {
  const values = dedupe(branches.flatMap((b) => ('const' in b ? [b.const] : (b.enum as unknown[]))));
  const kinds = new Set(values.map((v) => typeof v));
  if (kinds.size !== 1) fail(path, `literals of mixed types ${[...kinds].join(', ')}`);
  const kind = [...kinds][0];
  let type: SchemaType;
  if (kind === 'string') type = 'string';
  else if (kind === 'boolean') type = 'boolean';
  else if (kind === 'number') type = values.every((v) => Number.isInteger(v)) ? 'integer' : 'number';
  else fail(path, `literals of type ${kind}`);
  const out = convertTyped({ ...omit(shared, ['type']), type, enum: values }, path, { defs: {}, resolving: new Set() });
  return out;
}

function intOrString(shared: JsonObject, branches: JsonObject[], path: string, ctx: Ctx): JSONSchemaProps {
  const num = convert(branches.find((b) => b.type === 'integer')!, path, ctx);
  const str = convert(branches.find((b) => b.type === 'string')!, path, ctx);
  if (num.enum !== undefined || str.enum !== undefined) fail(path, 'int-or-string with an enum');
  const out: JSONSchemaProps = { 'x-kubernetes-int-or-string': true };
  const description = (shared.description as string | undefined) ?? num.description ?? str.description;
  if (description !== undefined) out.description = description;
  if ('default' in shared) out.default = structuredClone(shared.default);
  const rest = Object.keys(shared).filter((k) => k !== 'description' && k !== 'default');
  if (rest.length > 0) fail(path, `unsupported keyword(s) ${rest.join(', ')} next to an int-or-string union`);
  for (const key of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const) if (num[key] !== undefined) Object.assign(out, { [key]: num[key] });
  for (const key of ['minLength', 'maxLength', 'pattern'] as const) if (str[key] !== undefined) Object.assign(out, { [key]: str[key] });
  return out;
}

/** A discriminated union of objects as one object (see the file comment). */
function mergeObjects(shared: JsonObject, branches: JsonObject[], path: string, ctx: Ctx): JSONSchemaProps {
  const objects = branches.map((b, i) => convert(b, `${path}<${i}>`, ctx));
  const props = objects.map((o) => o.properties ?? {});
  const discriminator = Object.keys(props[0]).find(
    (name) => objects.every((o, i) => props[i][name]?.enum !== undefined && o.required?.includes(name)),
  );
  if (discriminator === undefined) fail(path, 'a union of objects without a discriminator (a required enum property in every branch)');
  const labels = props.map((p) => (p[discriminator].enum as unknown[]).join(', '));

  const names = dedupe(props.flatMap((p) => Object.keys(p)));
  const properties: Record<string, JSONSchemaProps> = {};
  for (const name of names) {
    const holders = props.flatMap((p, i) => (p[name] === undefined ? [] : [{ schema: p[name], label: labels[i] }]));
    if (name === discriminator) {
      const values = dedupe(holders.flatMap((h) => h.schema.enum as unknown[]));
      properties[name] = ordered({ ...mergeProps(holders.map((h) => ({ ...h.schema, enum: values })), `${path}.${name}`), enum: values });
      continue;
    }
    const merged = mergeProps(holders.map((h) => h.schema), `${path}.${name}`);
    const notes: string[] = [];
    if (holders.length < objects.length) notes.push(`For ${discriminator} ${holders.map((h) => h.label).join(', ')}.`);
    const defaults = holders.filter((h) => h.schema.default !== undefined);
    const oneDefault = defaults.length === objects.length && defaults.every((d) => deepEqual(d.schema.default, defaults[0].schema.default));
    if (oneDefault) merged.default = structuredClone(defaults[0].schema.default);
    else if (defaults.length === 1 && holders.length === 1) notes.push(`Defaults to ${JSON.stringify(defaults[0].schema.default)}.`);
    else if (defaults.length > 0) notes.push(`Defaults to ${defaults.map((d) => `${JSON.stringify(d.schema.default)} for ${d.label}`).join(', ')}.`);
    const description = [merged.description, ...notes].filter((s) => s !== undefined).join(' ');
    if (description !== '') merged.description = description;
    properties[name] = ordered(merged);
  }
  const required = names.filter((n) => objects.every((o) => o.required?.includes(n)));
  const out: JSONSchemaProps = { type: 'object', properties, required };
  if (typeof shared.description === 'string') out.description = shared.description;
  if ('default' in shared) out.default = structuredClone(shared.default);
  const rest = Object.keys(shared).filter((k) => k !== 'description' && k !== 'default');
  if (rest.length > 0) fail(path, `unsupported keyword(s) ${rest.join(', ')} next to a union of objects`);
  return out;
}

/** Relaxed to the loosest: a validation that not every branch has is dropped. */
const RELAXABLE = new Set<string>(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'format', 'enum']);

/** One property that several branches declare. Defaults are the caller's business. */
function mergeProps(schemas: JSONSchemaProps[], path: string): JSONSchemaProps {
  const keys = dedupe(schemas.flatMap((s) => Object.keys(s))).filter((k) => k !== 'description' && k !== 'default') as (keyof JSONSchemaProps)[];
  const out: JSONSchemaProps = {};
  for (const key of keys) {
    const values = schemas.map((s) => s[key]);
    if (values.every((v) => deepEqual(v, values[0]))) Object.assign(out, { [key]: structuredClone(values[0]) });
    else if (!RELAXABLE.has(key)) fail(path, `branches disagree on ${key}`);
  }
  const descriptions = dedupe(schemas.flatMap((s) => (s.description === undefined ? [] : [s.description])));
  if (descriptions.length > 0) out.description = descriptions.join(' ');
  return out;
}

function deref(node: JsonObject, path: string, ctx: Ctx): JsonObject {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  if (ref === '#') fail(path, 'recursive $ref to the root: a CRD schema cannot express recursion');
  const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  if (m === null) fail(path, `cannot inline $ref ${ref}`);
  const name = m[1];
  if (ctx.resolving.has(name)) fail(path, `recursive $ref ${ref}: a CRD schema cannot express recursion`);
  const target = ctx.defs[name];
  if (target === undefined) fail(path, `unknown $ref ${ref}`);
  ctx.resolving.add(name);
  try {
    // Keywords next to the $ref (zod puts description and default there) win over the definition's.
    return deref({ ...asObject(target, ref), ...omit(node, ['$ref']) }, path, ctx);
  } finally {
    ctx.resolving.delete(name);
  }
}

/** The same schema with its keys in one fixed order, so the YAML is stable and readable. */
export function ordered(s: JSONSchemaProps): JSONSchemaProps {
  const out: JSONSchemaProps = {};
  for (const key of KEY_ORDER) if (s[key] !== undefined) Object.assign(out, { [key]: s[key] });
  for (const key of Object.keys(s) as (keyof JSONSchemaProps)[]) if (!(key in out) && s[key] !== undefined) Object.assign(out, { [key]: s[key] });
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as JsonObject)[k], (b as JsonObject)[k]));
}

function dedupe<T>(values: T[]): T[] {
  const out: T[] = [];
  for (const v of values) if (!out.some((o) => deepEqual(o, v))) out.push(v);
  return out;
}

function omit(node: JsonObject, keys: string[]): JsonObject {
  return Object.fromEntries(Object.entries(node).filter(([k]) => !keys.includes(k)));
}

function asObject(v: unknown, path: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'expected a schema object');
  return v as JsonObject;
}

function asArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  return v;
}

function fail(path: string, message: string): never {
  throw new Error(`CRD schema at ${path || '<root>'}: ${message}`);
}
