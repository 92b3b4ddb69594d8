/**
 * Zod issues turned into errors a person can act on: a field path in the notation users write
 * (`spec.servers[1].port`) and a message that says what was expected and what was found
 * (`must be 1-65535, got 70000`), never zod's internal wording.
 */
import type { z } from 'zod';
import type { FieldError } from './types.ts';

type Issue = z.core.$ZodIssue;
type PathSegment = PropertyKey;

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `['spec', 'servers', 1, 'port']` -> `spec.servers[1].port`; odd keys are quoted: `metadata.labels["app.kubernetes.io/name"]`. */
export function formatFieldPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT_RE.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** A short rendering of a user's value for "got ..." (strings quoted, long ones cut). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'an object';
}

/** Nouns for enum fields, keyed by the field name, so messages read "unknown balance algorithm". */
const ENUM_NOUNS: Record<string, string> = {
  balance: 'balance algorithm',
  mode: 'mode',
  hashType: 'hash type',
  httpReuse: 'http-reuse mode',
  proxyProtocol: 'PROXY protocol version',
  type: 'table type',
  observe: 'observe mode',
  onError: 'on-error action',
  version: 'HTTP version',
  minVersion: 'TLS version',
  action: 'action',
};

const EXPECTED_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'a map',
  null: 'null',
};

// ---------------------------------------------------------------------------------------------
// Walking a schema by path, to find bounds and field names the issue itself does not carry.

interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      element?: SchemaNode;
      innerType?: SchemaNode;
      in?: SchemaNode;
      options?: SchemaNode[];
      discriminator?: string;
      values?: unknown[];
      entries?: Record<string, unknown>;
    };
  };
  minValue?: number | null;
  maxValue?: number | null;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

function unwrap(node: SchemaNode | undefined): SchemaNode | undefined {
  let n = node;
  for (let i = 0; n && i < 16; i++) {
    const def = n._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) n = def.innerType;
    else if (def.type === 'pipe' && def.in) n = def.in;
    else break;
  }
  return n;
}

function literalValues(node: SchemaNode | undefined): unknown[] {
  const def = unwrap(node)?._zod.def;
  if (!def) return [];
  if (def.type === 'literal') return def.values ?? [];
  if (def.type === 'enum') return Object.values(def.entries ?? {});
  return [];
}

const TYPE_OF: Record<string, string> = { number: 'number', string: 'string', boolean: 'boolean', object: 'object', array: 'array' };

function pickUnionOption(def: SchemaNode['_zod']['def'], value: unknown): SchemaNode | undefined {
  const options = def.options ?? [];
  if (def.discriminator && value !== null && typeof value === 'object') {
    const tag = (value as Record<string, unknown>)[def.discriminator];
    return options.find((o) => literalValues(unwrap(o)?._zod.def.shape?.[def.discriminator!]).includes(tag));
  }
  const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return options.find((o) => TYPE_OF[unwrap(o)?._zod.def.type ?? ''] === kind);
}

/** The schema node at `path` (given the input, to choose between union options), or undefined. */
function schemaAt(root: SchemaNode, input: unknown, path: readonly PathSegment[]): SchemaNode | undefined {
  let node = unwrap(root);
  let value = input;
  for (const seg of path) {
    if (!node) return undefined;
    let def = node._zod.def;
    if (def.type === 'union') {
      node = unwrap(pickUnionOption(def, value));
      if (!node) return undefined;
      def = node._zod.def;
    }
    if (def.type === 'object' && typeof seg === 'string') node = unwrap(def.shape?.[seg]);
    else if (def.type === 'array' && typeof seg === 'number') node = unwrap(def.element);
    else return undefined;
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
  }
  if (node && node._zod.def.type === 'union') node = unwrap(pickUnionOption(node._zod.def, value)) ?? node;
  return node;
}

/** The value at `path` inside `input`, or undefined. */
export function valueAt(input: unknown, path: readonly PathSegment[]): unknown {
  let value = input;
  for (const seg of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[seg];
  }
  return value;
}

function finiteBound(n: number | null | undefined): number | null {
  return typeof n === 'number' && Number.isFinite(n) && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : null;
}

function numberRange(node: SchemaNode | undefined): { min: number | null; max: number | null } {
  if (!node || node._zod.def.type !== 'number') return { min: null, max: null };
  return { min: finiteBound(node.minValue), max: finiteBound(node.maxValue) };
}

// ---------------------------------------------------------------------------------------------
// Edit distance, for "did you mean".

function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

export function suggest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    const limit = Math.max(1, Math.floor(c.length / 3));
    if (d <= limit && d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------

function oneOf(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : String(v))).join(', ');
}

function lastKey(path: readonly PathSegment[]): string | null {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string;
  return null;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

interface Context {
  schema: SchemaNode;
  input: unknown;
}

function messageFor(issue: Issue, path: readonly PathSegment[], ctx: Context): string {
  const value = 'input' in issue && issue.input !== undefined ? issue.input : valueAt(ctx.input, path);
  const got = describeValue(value);
  switch (issue.code) {
    case 'invalid_type': {
      if (value === undefined) return 'is required';
      const node = schemaAt(ctx.schema, ctx.input, path);
      const { min, max } = numberRange(node);
      let expected = EXPECTED_NAMES[issue.expected] ?? `a ${issue.expected}`;
      if ((issue.expected === 'number' || issue.expected === 'int') && min !== null && max !== null) {
        const isInt = issue.expected === 'int' || Number.isInteger(value) || typeof value !== 'number';
        expected = `${isInt ? 'an integer' : 'a number'} ${min}-${max}`;
      }
      const quoted = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) && (issue.expected === 'number' || issue.expected === 'int');
      return `must be ${expected}, got ${got}${quoted ? ' (a string: remove the quotes)' : ''}`;
    }
    case 'too_big':
    case 'too_small': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      if (issue.origin === 'number' || issue.origin === 'int') {
        const { min, max } = numberRange(schemaAt(ctx.schema, ctx.input, path));
        if (min !== null && max !== null) return `must be ${min}-${max}, got ${got}`;
        if (issue.inclusive === false) return `must be ${small ? 'greater' : 'less'} than ${bound}, got ${got}`;
        return `must be at ${small ? 'least' : 'most'} ${bound}, got ${got}`;
      }
      if (issue.origin === 'string') {
        if (small && bound === 1) return 'must not be empty';
        const len = typeof value === 'string' ? value.length : null;
        return `must be at ${small ? 'least' : 'most'} ${plural(bound, 'character')}${len === null ? '' : `, got ${len}`}`;
      }
      if (issue.origin === 'array') {
        if (small && bound === 1) return 'must have at least one item';
        const len = Array.isArray(value) ? value.length : null;
        return `must have at ${small ? 'least' : 'most'} ${plural(bound, 'item')}${len === null ? '' : `, got ${len}`}`;
      }
      return issue.message;
    }
    case 'invalid_value': {
      if (issue.values.length === 1) return `must be ${describeValue(issue.values[0])}, got ${got}`;
      const key = lastKey(path);
      const noun = (key && ENUM_NOUNS[key]) ?? 'value';
      const hint = typeof value === 'string' ? suggest(value, issue.values.filter((v): v is string => typeof v === 'string')) : null;
      return `unknown ${noun} ${got}${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${oneOf(issue.values)}`;
    }
    case 'invalid_format': {
      let text = issue.message;
      if (issue.format === 'starts_with' && 'prefix' in issue) text = `must start with ${JSON.stringify(issue.prefix)}`;
      else if (issue.format === 'ends_with' && 'suffix' in issue) text = `must end with ${JSON.stringify(issue.suffix)}`;
      else if (issue.format === 'includes' && 'includes' in issue) text = `must contain ${JSON.stringify(issue.includes)}`;
      else if (issue.format === 'regex' && text.startsWith('Invalid string')) text = `must match ${issue.pattern ?? 'the expected pattern'}`;
      else if (text.startsWith('Invalid ')) text = `must be a valid ${issue.format}`;
      return `${text}, got ${got}`;
    }
    case 'invalid_union': {
      if (issue.discriminator) {
        // The issue's path may end at the union or at its discriminator field.
        const tag = value !== null && typeof value === 'object' ? valueAt(value, [issue.discriminator]) : value;
        const options = 'options' in issue && issue.options ? issue.options : [];
        if (tag === undefined) return `is required; expected one of ${oneOf(options)}`;
        return `unknown ${ENUM_NOUNS[issue.discriminator] ?? issue.discriminator} ${describeValue(tag)}; expected one of ${oneOf(options)}`;
      }
      return unionMessage(issue.errors, value, got);
    }
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}, got ${got}`;
    case 'custom':
      return issue.message;
    default:
      return issue.message;
  }
}

/** A union none of whose options matched: the options' literals, or the types they accept. */
function unionMessage(branches: readonly Issue[][], value: unknown, got: string): string {
  const literals: unknown[] = [];
  const types: string[] = [];
  for (const branch of branches) {
    const first = branch[0];
    if (branch.length !== 1 || !first || first.path.length !== 0) return unionFallback(branches, value, got);
    if (first.code === 'invalid_value') literals.push(...first.values);
    else if (first.code === 'invalid_type') types.push(EXPECTED_NAMES[first.expected] ?? first.expected);
    else return unionFallback(branches, value, got);
  }
  if (types.length === 0) return `must be one of ${oneOf(literals)}, got ${got}`;
  return `must be ${[...types, ...literals.map((l) => describeValue(l))].join(' or ')}, got ${got}`;
}

/** Some option accepted the value's type but not the value: explain that option's complaint. */
function unionFallback(branches: readonly Issue[][], value: unknown, got: string): string {
  for (const branch of branches) {
    const first = branch[0];
    if (!first || (first.code === 'invalid_type' && first.path.length === 0)) continue;
    if (first.code === 'too_big' || first.code === 'too_small') {
      const small = first.code === 'too_small';
      return `must be at ${small ? 'least' : 'most'} ${Number(small ? first.minimum : first.maximum)}, got ${got}`;
    }
    if (first.code === 'invalid_format') return `${first.message}, got ${got}`;
    return first.message;
  }
  return `is not valid, got ${describeValue(value)}`;
}

/**
 * Zod issues as field errors. `schema` and `input` are what was parsed: the schema is walked to
 * find bounds and field names for the messages, the input to quote the offending value.
 */
export function issuesToFieldErrors(issues: readonly Issue[], schema: z.ZodType, input: unknown): FieldError[] {
  const ctx: Context = { schema: schema as unknown as SchemaNode, input };
  const out: FieldError[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((s): s is string | number => typeof s === 'string' || typeof s === 'number');
    if (issue.code === 'unrecognized_keys') {
      const node = schemaAt(ctx.schema, input, path);
      const known = Object.keys(node?._zod.def.shape ?? {});
      for (const key of issue.keys) {
        const hint = suggest(key, known);
        out.push({ path: formatFieldPath([...path, key]), message: `unknown field${hint ? `; did you mean "${hint}"?` : ''}` });
      }
      continue;
    }
    out.push({ path: formatFieldPath(path), message: messageFor(issue, path, ctx) });
  }
  return out;
}
