/**
 * What the API server does with a custom resource and its CRD schema, for the subset of keywords
 * the generator writes: apply defaults, then validate. Used to check the generated schemas (every
 * default must validate) and, in tests, that the CRD and the zod schema agree on sample objects.
 * Unknown fields are reported, as `kubectl apply` (fieldValidation=Strict) does; the API server
 * would otherwise prune them. The top-level metadata is left alone, as the API server does.
 */
import type { JSONSchemaProps } from './types.ts';

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value with every default of the schema filled in where the parent exists. */
export function applyDefaults(schema: JSONSchemaProps, value: unknown): unknown {
  if (Array.isArray(value)) return schema.items === undefined ? value : value.map((v) => applyDefaults(schema.items!, v));
  if (!isObject(value)) return value;
  const out: JsonObject = { ...value };
  if (schema.properties !== undefined) {
    for (const [name, prop] of Object.entries(schema.properties)) {
      if (out[name] === undefined && prop.default !== undefined) out[name] = structuredClone(prop.default);
      if (out[name] !== undefined) out[name] = applyDefaults(prop, out[name]);
    }
  } else if (typeof schema.additionalProperties === 'object') {
    for (const [k, v] of Object.entries(out)) out[k] = applyDefaults(schema.additionalProperties, v);
  }
  return out;
}

/** Validation errors as `path: message`; empty when the value is valid. */
export function validate(schema: JSONSchemaProps, value: unknown, path = ''): string[] {
  const errors: string[] = [];
  const at = path || '<root>';
  if (value === null) return schema.nullable ? [] : [`${at}: must not be null`];
  if (schema['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || Number.isInteger(value))) return [`${at}: must be an integer or a string`];
  } else if (schema.type !== undefined && !hasType(schema.type, value)) {
    return [`${at}: must be of type ${schema.type}`];
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => e === value)) {
    errors.push(`${at}: Unsupported value ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum))
      errors.push(`${at}: must be greater than${schema.exclusiveMinimum ? '' : ' or equal to'} ${schema.minimum}`);
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum))
      errors.push(`${at}: must be less than${schema.exclusiveMaximum ? '' : ' or equal to'} ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) errors.push(`${at}: must be at least ${schema.minLength} characters long`);
    if (schema.maxLength !== undefined && length > schema.maxLength) errors.push(`${at}: may not be more than ${schema.maxLength} characters long`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${at}: must match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${at}: must have at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${at}: must have at most ${schema.maxItems} items`);
    if (schema.items !== undefined) value.forEach((v, i) => errors.push(...validate(schema.items!, v, `${path}[${i}]`)));
  }
  if (isObject(value)) {
    for (const name of schema.required ?? []) if (value[name] === undefined) errors.push(`${path}.${name}: Required value`);
    for (const [k, v] of Object.entries(value)) {
      // The API server, not the CRD schema, owns the top-level metadata.
      if (path === '' && k === 'metadata' && schema.properties?.metadata !== undefined) {
        if (!isObject(v)) errors.push('.metadata: must be of type object');
        continue;
      }
      const prop = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (prop !== undefined) errors.push(...validate(prop, v, `${path}.${k}`));
      else if (schema.type === 'object' && schema.additionalProperties !== true) errors.push(`${path}.${k}: unknown field`);
    }
  }
  if (schema.oneOf !== undefined) {
    const passing = schema.oneOf.filter((b) => validate(b, value, path).length === 0).length;
    if (passing !== 1) errors.push(`${at}: must validate one and only one schema (oneOf); ${passing} matched`);
  }
  if (schema.anyOf !== undefined && !schema.anyOf.some((b) => validate(b, value, path).length === 0)) {
    errors.push(`${at}: must validate at least one schema (anyOf)`);
  }
  if (schema.allOf !== undefined) for (const b of schema.allOf) errors.push(...validate(b, value, path));
  if (schema.not !== undefined && validate(schema.not, value, path).length === 0) errors.push(`${at}: must not validate the schema (not)`);
  return errors;
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
      return false;
  }
}
