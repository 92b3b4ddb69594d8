/**
 * Object metadata rules shared by every type (reference §3.4): server-owned fields, names, labels,
 * timestamps. Types add their own rules in their strategies.
 */
import { randomUUID } from 'node:crypto';
import type { StatusCause } from './errors.ts';
import { fieldError } from './errors.ts';
import type { KubeObject } from './types.ts';
import { isObject } from './types.ts';

/** RFC 3339 with second precision, as metav1.Time serializes. */
export const nowTimestamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export const newUid = (): string => randomUUID();

/** generateName's suffix: 5 characters from upstream's alphabet (no vowels, no confusables). */
export function generateSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type NameRule = 'label' | 'subdomain' | 'path-segment';

/** metadata.name validation per the type's rule (Namespace and Service names are DNS labels). */
export function validateName(name: string, rule: NameRule): StatusCause[] {
  const field = 'metadata.name';
  if (rule === 'path-segment') {
    if (name === '.' || name === '..') return [fieldError.invalid(field, name, `may not be '${name}'`)];
    if (/[/%]/.test(name)) return [fieldError.invalid(field, name, `may not contain '/' or '%'`)];
    return [];
  }
  if (rule === 'label') {
    if (name.length > 63 || !DNS1123_LABEL.test(name))
      return [
        fieldError.invalid(
          field,
          name,
          `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        ),
      ];
    return [];
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name))
    return [
      fieldError.invalid(
        field,
        name,
        `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ),
    ];
  return [];
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Labels, annotations and finalizers have shapes of their own. */
export function validateObjectMeta(obj: KubeObject): StatusCause[] {
  const errors: StatusCause[] = [];
  const meta = obj.metadata;
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    if (!QUALIFIED_NAME.test(k)) errors.push(fieldError.invalid('metadata.labels', k, 'name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\''));
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v))
      errors.push(fieldError.invalid('metadata.labels', v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
  }
  for (const k of Object.keys(meta.annotations ?? {}))
    if (!QUALIFIED_NAME.test(k)) errors.push(fieldError.invalid('metadata.annotations', k, "name part must consist of alphanumeric characters, '-', '_' or '.'"));
  if (meta.annotations !== undefined && JSON.stringify(meta.annotations).length > 256 * 1024)
    errors.push({ reason: 'FieldValueTooLong', message: 'Too long: must have at most 262144 bytes', field: 'metadata.annotations' });
  (meta.finalizers ?? []).forEach((f, i) => {
    if (typeof f !== 'string' || !QUALIFIED_NAME.test(f)) errors.push(fieldError.invalid(`metadata.finalizers[${i}]`, f, 'name part must consist of alphanumeric characters'));
  });
  return errors;
}

/** Shape checks a Go decoder would fail with a 400 before anything else. */
export function decodeErrors(obj: unknown): string | undefined {
  if (!isObject(obj)) return 'Object \'Kind\' is missing in the request body';
  if (obj.metadata !== undefined && !isObject(obj.metadata)) return 'json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta';
  const meta = (obj.metadata ?? {}) as Record<string, unknown>;
  for (const k of ['labels', 'annotations'])
    if (meta[k] !== undefined && meta[k] !== null && (!isObject(meta[k]) || Object.values(meta[k]).some((v) => typeof v !== 'string')))
      return `json: cannot unmarshal into Go struct field ObjectMeta.metadata.${k} of type map[string]string`;
  if (meta.finalizers !== undefined && meta.finalizers !== null && !Array.isArray(meta.finalizers)) return 'json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string';
  return undefined;
}
