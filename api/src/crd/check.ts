/**
 * The rules a CRD's openAPIV3Schema must follow to be structural (what the API server demands of
 * apiextensions.k8s.io/v1), plus this project's own: no x-kubernetes-preserve-unknown-fields, and
 * patterns that RE2 (the API server's regexp engine) reads as JavaScript does.
 */
import type { JSONSchemaProps } from './types.ts';
import { KEY_ORDER, KUBE_FORMATS } from './structural.ts';
import { validate } from './validate.ts';

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
/** What a structural schema may hold: every keyword we generate except preserve-unknown-fields. */
const STRUCTURAL_KEYS = new Set<string>(KEY_ORDER.filter((k) => k !== 'x-kubernetes-preserve-unknown-fields'));
/** Inside anyOf/oneOf/allOf/not only validations may appear, never the shape (type, default, …). */
const VALUE_VALIDATION_KEYS = new Set([
  'enum',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'required',
  'properties',
  'items',
  'oneOf',
  'anyOf',
  'allOf',
  'not',
]);
const JUNCTORS = ['oneOf', 'anyOf', 'allOf'] as const;

/** Every broken rule as `path: message`; empty for a valid structural schema. */
export function structuralErrors(root: JSONSchemaProps): string[] {
  const errors: string[] = [];
  if (root.type !== 'object') errors.push('<root>: type must be object');
  const metadata = root.properties?.metadata;
  if (metadata !== undefined && Object.keys(metadata).some((k) => k !== 'type' && k !== 'description'))
    errors.push('.metadata: only type (and description) may be specified; the API server owns the rest');
  walk(root, '', errors);
  return errors;
}

function walk(s: JSONSchemaProps, path: string, errors: string[]): void {
  const at = path || '<root>';
  const err = (m: string) => errors.push(`${at}: ${m}`);
  for (const key of Object.keys(s)) if (!STRUCTURAL_KEYS.has(key)) err(`keyword ${key} is not allowed`);
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (intOrString) {
    if (s.type !== undefined) err('x-kubernetes-int-or-string and type are exclusive');
  } else if (s.type === undefined) {
    err('every node needs a type (or x-kubernetes-int-or-string)');
  } else if (!TYPES.has(s.type)) {
    err(`unknown type ${s.type}`);
  }
  if (s.format !== undefined && !KUBE_FORMATS.has(s.format)) err(`format ${s.format} is not one the API server knows`);
  if (s.properties !== undefined && s.type !== 'object') err('properties on a non-object');
  if (s.additionalProperties !== undefined) {
    if (typeof s.additionalProperties === 'boolean') err('additionalProperties must be a schema (use pruning, not additionalProperties: false)');
    if (s.type !== 'object') err('additionalProperties on a non-object');
    if (s.properties !== undefined) err('properties and additionalProperties are exclusive');
  }
  if (s.type === 'array' && s.items === undefined) err('an array needs items');
  if (s.items !== undefined && s.type !== 'array') err('items on a non-array');
  for (const name of s.required ?? []) if (s.properties?.[name] === undefined) err(`required field ${name} is not a property`);
  if (s.pattern !== undefined) errors.push(...patternErrors(s.pattern, at));
  if (s.enum !== undefined) {
    if (s.enum.length === 0) err('empty enum');
    for (const v of s.enum) if (validate({ ...s, enum: undefined, default: undefined }, v).length > 0) err(`enum value ${JSON.stringify(v)} does not fit the schema`);
  }
  if (s.default !== undefined) for (const e of validate(s, s.default)) err(`default ${JSON.stringify(s.default)} is invalid: ${e}`);
  listType(s, err);
  for (const j of JUNCTORS) if (s[j] !== undefined) s[j]!.forEach((b, i) => valueValidation(b, s, `${at}/${j}/${i}`, errors, intOrString && j === 'anyOf'));
  if (s.not !== undefined) valueValidation(s.not, s, `${at}/not`, errors, false);
  for (const [name, prop] of Object.entries(s.properties ?? {})) walk(prop, `${path}.${name}`, errors);
  if (s.items !== undefined) walk(s.items, `${path}[*]`, errors);
  if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.*`, errors);
}

function listType(s: JSONSchemaProps, err: (m: string) => void): void {
  const listType = s['x-kubernetes-list-type'];
  const keys = s['x-kubernetes-list-map-keys'];
  if (listType !== undefined && s.type !== 'array') err('x-kubernetes-list-type on a non-array');
  if (keys !== undefined && listType !== 'map') err('x-kubernetes-list-map-keys needs x-kubernetes-list-type: map');
  if (listType !== 'map') return;
  if (keys === undefined || keys.length === 0) return err('x-kubernetes-list-type: map needs x-kubernetes-list-map-keys');
  if (s.items?.type !== 'object') return err('x-kubernetes-list-type: map needs object items');
  for (const key of keys) {
    const prop = s.items.properties?.[key];
    if (prop === undefined) err(`list map key ${key} is not a property of the items`);
    else if (!s.items.required?.includes(key) && prop.default === undefined) err(`list map key ${key} must be required or defaulted`);
  }
}

/**
 * A branch of anyOf/oneOf/allOf/not: validations only, about fields the structural node declares.
 * The one exception is int-or-string's `anyOf: [{type: integer}, {type: string}]`.
 */
function valueValidation(b: JSONSchemaProps, structural: JSONSchemaProps, at: string, errors: string[], intOrStringBranch: boolean): void {
  const err = (m: string) => errors.push(`${at}: ${m}`);
  const keys = Object.keys(b);
  if (intOrStringBranch && keys.length === 1 && (b.type === 'integer' || b.type === 'string')) return;
  for (const key of keys) if (!VALUE_VALIDATION_KEYS.has(key)) err(`${key} is not allowed in a value validation (only in the structural schema)`);
  for (const name of b.required ?? []) if (structural.properties?.[name] === undefined) err(`required field ${name} is not a property of the structural schema`);
  for (const [name, prop] of Object.entries(b.properties ?? {})) {
    const target = structural.properties?.[name];
    if (target === undefined) err(`property ${name} is not a property of the structural schema`);
    else valueValidation(prop, target, `${at}.${name}`, errors, false);
  }
  if (b.items !== undefined) {
    if (structural.items === undefined) err('items where the structural schema has none');
    else valueValidation(b.items, structural.items, `${at}[*]`, errors, false);
  }
  for (const j of JUNCTORS) b[j]?.forEach((x, i) => valueValidation(x, structural, `${at}/${j}/${i}`, errors, false));
  if (b.not !== undefined) valueValidation(b.not, structural, `${at}/not`, errors, false);
  if (b.pattern !== undefined) errors.push(...patternErrors(b.pattern, at));
}

/** RE2 has no lookaround and no backreferences; JavaScript must compile the pattern too. */
function patternErrors(pattern: string, at: string): string[] {
  const errors: string[] = [];
  try {
    new RegExp(pattern, 'u');
  } catch (e) {
    errors.push(`${at}: pattern ${pattern} does not compile: ${(e as Error).message}`);
  }
  if (/\(\?<?[=!]/.test(pattern)) errors.push(`${at}: pattern ${pattern} uses lookaround, which RE2 lacks`);
  if (/\\[1-9]|\\k</.test(pattern)) errors.push(`${at}: pattern ${pattern} uses a backreference, which RE2 lacks`);
  return errors;
}
