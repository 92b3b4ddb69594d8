/**
 * Label and field selectors (reference §3.9), parsed once per request into predicates.
 * Label grammar: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma = AND.
 * Field grammar: `f=v`, `f==v`, `f!=v`, comma = AND; each type declares the fields it supports and
 * anything else is a 400 `field label not supported`, as upstream.
 */
import { badRequest } from './errors.ts';
import type { KubeObject } from './types.ts';

export type Predicate = (obj: KubeObject) => boolean;

const everything: Predicate = () => true;

/** Splits on commas outside parentheses. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const KEY = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const VALUE = String.raw`([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const keyRe = new RegExp(`^${KEY}$`);
const valueRe = new RegExp(`^${VALUE}$`);

export function parseLabelSelector(selector: string | null): Predicate {
  if (selector === null || selector.trim() === '') return everything;
  const requirements = splitTopLevel(selector).map(parseRequirement);
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    return requirements.every((r) => r(labels));
  };
}

function parseRequirement(req: string): (labels: Record<string, string>) => boolean {
  const fail = (why: string): never => {
    throw badRequest(`unable to parse requirement: ${why}: ${JSON.stringify(req)}`);
  };
  const checkKey = (k: string): string => (keyRe.test(k) ? k : fail(`invalid label key ${JSON.stringify(k)}`));
  const checkValue = (v: string): string => (valueRe.test(v) ? v : fail(`invalid label value ${JSON.stringify(v)}`));

  let m = /^!\s*(\S+)$/.exec(req);
  if (m) {
    const key = checkKey(m[1]);
    return (labels) => !(key in labels);
  }
  m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(req);
  if (m) {
    const key = checkKey(m[1]);
    const values = new Set(m[3].split(',').map((v) => checkValue(v.trim())));
    return m[2] === 'in' ? (labels) => key in labels && values.has(labels[key]) : (labels) => !(key in labels) || !values.has(labels[key]);
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(req);
  if (m) {
    const key = checkKey(m[1]);
    const value = checkValue(m[3]);
    return m[2] === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  if (/^\S+$/.test(req)) {
    const key = checkKey(req);
    return (labels) => key in labels;
  }
  return fail('found unexpected token');
}

export type FieldGetter = (obj: KubeObject) => string | undefined;

/** The fields every type supports. */
export const metadataFields: Record<string, FieldGetter> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace ?? '',
};

export function parseFieldSelector(selector: string | null, fields: Record<string, FieldGetter>): Predicate {
  if (selector === null || selector.trim() === '') return everything;
  const terms = splitEscaped(selector, ',').map((term) => {
    const m = /^(.*?)(==|!=|=)(.*)$/.exec(term);
    if (m === null) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1].trim();
    const value = unescape(m[3].trim());
    const get = fields[field] ?? metadataFields[field];
    if (get === undefined) throw badRequest(`field label not supported: ${field}`);
    return m[2] === '!=' ? (o: KubeObject) => (get(o) ?? '') !== value : (o: KubeObject) => (get(o) ?? '') === value;
  });
  return (obj) => terms.every((t) => t(obj));
}

/** Field selector values may escape `,`, `=` and `\` with a backslash. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
    } else if (s[i] === sep) {
      out.push(cur);
      cur = '';
    } else cur += s[i];
  }
  out.push(cur);
  return out.filter((p) => p.trim() !== '');
}

const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');
