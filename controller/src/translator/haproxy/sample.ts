/**
 * Sample expressions: `fetch(arg,arg),converter(arg),converter`, checked against the catalogue
 * (api/src/rules/catalogue.ts) and turned into an `ir.Sample` with canonical names:
 *
 * - aliases become canonical names (`hdr` is `req.hdr`, `cook` is `req.cook`);
 * - `sc0_http_req_rate` is `sc_http_req_rate(0)` (also sc1_, sc2_);
 * - `src_*` fetches get the Frontend's table as their argument when it is omitted;
 * - arguments are counted and typed (`int` decimal, `counter` 0-2), converters type-checked
 *   along the chain (`lower` on an int is an error);
 * - stick-counter fetches need a stick table that stores what they read.
 *
 * Positions are indices into the whole source string, so errors point at the right column of a
 * condition or log format that embeds the sample.
 */
import { CONVERTERS, DERIVED_SUFFIXES, FETCH_ALIASES, FETCHES } from '@switchyard/api';
import type { ArgKind, FetchSpec, ir, SampleType } from '@switchyard/api';
import { suggest } from '../field-errors.ts';
import { fail, quoted } from './parse-error.ts';
import { needsProblem } from './phase.ts';
import type { Needs, Phase } from './phase.ts';

export type DerivedMethod = (typeof DERIVED_SUFFIXES)[string];

/** What stick-counter fetches (`sc_*`, `src_*`) can read here. */
export type StickEnv =
  | {
      kind: 'table';
      /** The table's snapshot name, `frontend:namespace/name`. */
      name: string;
      /** The Frontend's name, accepted as the explicit table argument of `src_*` fetches. */
      owner: string;
      /** Data types the table stores (`http_req_rate`, `conn_cur`...). */
      store: ReadonlySet<string>;
      /** The field listing them, for messages. */
      storeField: string;
    }
  | {
      kind: 'none';
      /** Why not, ending a sentence: "needs spec.stickTable (this Frontend has none)". */
      why: string;
    };

export interface SampleEnv {
  stick: StickEnv;
}

export interface ParsedSample {
  sample: ir.Sample;
  /** What the last converter (or the fetch) yields. */
  type: SampleType;
  needs: Needs;
  /** The fetch name as written (`hdr_beg`, `sc0_conn_cur`), for messages. */
  written: string;
  /** The whole expression as written (`hdr(host),lower`; `path` for `path_beg`), for messages. */
  text: string;
  /** The canonical fetch name, for messages. */
  fetch: string;
  /** 0-based index of the sample's first character. */
  start: number;
  /** The match method an ACL keyword implies (`path_beg` is `path -m beg`), or null. */
  derived: DerivedMethod | null;
}

export const TYPE_NAMES: Record<SampleType, string> = { str: 'a string', int: 'an integer', bool: 'a boolean', ip: 'an IP address' };

const NAME_CHAR = /[A-Za-z0-9_.]/;
const INT_RE = /^[-+]?\d+$/;
const SC_RE = /^sc([012])_(.+)$/;

interface Arg {
  value: string;
  /** 0-based index of the argument's first character (or of the `)` when empty). */
  start: number;
}

function has<T>(record: Readonly<Record<string, T>>, key: string): boolean {
  return Object.hasOwn(record, key);
}

function scanName(source: string, i: number, end: number): number {
  let j = i;
  while (j < end && NAME_CHAR.test(source[j]!)) j++;
  return j;
}

/**
 * The arguments between the `(` at `open` and its `)`: split on top-level commas, quotes and
 * backslashes removed, nested parentheses kept (`regsub(^(a|b),x)`). Returns them and the index
 * after the `)`.
 */
function parseArgs(source: string, open: number, end: number, owner: string): { args: Arg[]; next: number } {
  const args: Arg[] = [];
  let value = '';
  let start = open + 1;
  let depth = 0;
  let i = open + 1;
  while (i < end) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < end) {
      value += source[i + 1];
      i += 2;
    } else if (c === '"' || c === "'") {
      const from = i;
      i++;
      while (i < end && source[i] !== c) {
        if (c === '"' && source[i] === '\\' && i + 1 < end) i++;
        value += source[i];
        i++;
      }
      if (i >= end) fail(from, `unterminated quote ${c} in the arguments of ${owner}`);
      i++;
    } else if (c === '(') {
      depth++;
      value += c;
      i++;
    } else if (c === ')' && depth > 0) {
      depth--;
      value += c;
      i++;
    } else if (c === ')' || (c === ',' && depth === 0)) {
      args.push({ value, start });
      i++;
      if (c === ')') {
        // `fetch()` has no arguments rather than one empty one.
        if (args.length === 1 && args[0]!.value === '' && start === i - 1) args.length = 0;
        return { args, next: i };
      }
      value = '';
      start = i;
    } else {
      value += c;
      i++;
    }
  }
  return fail(open, `unclosed "(" of ${owner}`);
}

interface Resolved {
  name: string;
  spec: FetchSpec;
  /** The counter of an `sc0_*` spelling, which becomes the first argument. */
  counter: string | null;
  derived: DerivedMethod | null;
}

function resolveExact(name: string): Omit<Resolved, 'derived'> | null {
  const canonical = has(FETCHES, name) ? name : has(FETCH_ALIASES, name) ? FETCH_ALIASES[name]! : null;
  if (canonical !== null) return { name: canonical, spec: FETCHES[canonical]!, counter: null };
  const m = SC_RE.exec(name);
  const sc = m ? `sc_${m[2]}` : null;
  if (m && sc && has(FETCHES, sc) && FETCHES[sc]!.args[0] === 'counter') return { name: sc, spec: FETCHES[sc]!, counter: m[1]! };
  return null;
}

function resolveFetch(name: string, derived: boolean): Resolved | null {
  const exact = resolveExact(name);
  if (exact) return { ...exact, derived: null };
  if (!derived) return null;
  for (const [suffix, method] of Object.entries(DERIVED_SUFFIXES)) {
    if (name.length <= suffix.length || !name.endsWith(suffix)) continue;
    const base = resolveExact(name.slice(0, -suffix.length));
    if (base) return { ...base, derived: method };
  }
  return null;
}

/** Whether `name` (possibly with arguments) names a fetch or an ACL keyword: for hints. */
export function isFetch(name: string): boolean {
  return resolveFetch(/^[A-Za-z0-9_.]*/.exec(name)![0], true) !== null;
}

let plainNames: string[] | null = null;
let derivedNames: string[] | null = null;

/** Names worth suggesting for a misspelt fetch. */
function candidates(derived: boolean): string[] {
  plainNames ??= [...Object.keys(FETCHES), ...Object.keys(FETCH_ALIASES)];
  if (!derived) return plainNames;
  derivedNames ??= [
    ...plainNames,
    ...plainNames.flatMap((n) => {
      const target = has(FETCHES, n) ? n : FETCH_ALIASES[n]!;
      return FETCHES[target]!.output === 'str' ? Object.keys(DERIVED_SUFFIXES).map((s) => n + s) : [];
    }),
  ];
  return derivedNames;
}

function unknownFetch(name: string, derived: boolean): string {
  const hint = suggest(name, candidates(derived));
  return `unknown fetch ${quoted(name)}${hint ? ` (did you mean ${hint}?)` : ''}`;
}

function arity(owner: string, kinds: readonly ArgKind[], min: number, got: number): string {
  const max = kinds.length;
  const wanted = max === 0 ? 'no arguments' : min === max ? `${max} argument${max === 1 ? '' : 's'}` : `${min} to ${max} arguments`;
  return `${owner} takes ${wanted}, got ${got}`;
}

/** The stick-table data type a counter fetch reads: `sc_http_req_rate` and `src_inc_gpc0` read `http_req_rate` and `gpc0`. */
export function stickDataOf(fetch: string): string {
  return fetch.replace(/^(sc|src)_/, '').replace(/^(get|inc|clr)_/, '');
}

function checkArgs(owner: string, kinds: readonly ArgKind[], min: number, args: Arg[], at: number, env: SampleEnv): string[] {
  // An omitted table argument (min excludes it) is filled in below.
  if (args.length < min || args.length > kinds.length) fail(args[kinds.length]?.start ?? at, arity(owner, kinds, min, args.length));
  const out: string[] = [];
  kinds.forEach((kind, k) => {
    const arg = args[k];
    if (kind === 'table') {
      out.push(tableArg(owner, arg, at, env));
      return;
    }
    if (!arg) return;
    const where = `argument ${k + 1} of ${owner}`;
    if (kind === 'int') {
      const text = arg.value.trim();
      const n = Number(text);
      if (!INT_RE.test(text) || !Number.isSafeInteger(n)) fail(arg.start, `${where} must be an integer, got ${quoted(arg.value)}`);
      out.push(String(n));
    } else if (kind === 'counter') {
      const text = arg.value.trim();
      if (!/^[012]$/.test(text)) fail(arg.start, `${where} must be a stick counter: 0, 1 or 2, got ${quoted(arg.value)}`);
      out.push(text);
    } else {
      out.push(arg.value);
    }
  });
  return out;
}

function tableArg(owner: string, arg: Arg | undefined, at: number, env: SampleEnv): string {
  const stick = env.stick;
  if (stick.kind === 'none') return fail(at, `${owner} reads a stick table, which ${stick.why}`);
  if (arg === undefined || arg.value === stick.owner || arg.value === stick.name) return stick.name;
  return fail(arg.start, `${owner} can only read this Frontend's own stick table; omit the argument (got ${quoted(arg.value)})`);
}

function checkStickData(written: string, fetch: string, at: number, env: SampleEnv): void {
  const stick = env.stick;
  if (stick.kind === 'none') fail(at, `${written} reads a stick counter, which ${stick.why}`);
  const data = stickDataOf(fetch);
  if (!stick.store.has(data)) {
    const example = data.endsWith('_rate') ? `${data}(10s)` : data;
    fail(at, `${written} reads ${data}, which ${stick.storeField} does not keep (add "${example}")`);
  }
}

/** Extra checks of converter arguments the catalogue's kinds cannot express. */
function checkConverter(name: string, args: readonly string[], raw: Arg[]): void {
  if (name !== 'regsub') return;
  const flags = args[2] ?? '';
  if (!/^[ig]*$/.test(flags)) fail(raw[2]!.start, `regsub flags may only be i and g, got ${quoted(flags)}`);
  try {
    new RegExp(args[0]!, flags.replace('g', ''));
  } catch (e) {
    fail(raw[0]!.start, `invalid regular expression ${quoted(args[0]!)}: ${regExpError(e)}`);
  }
}

/** The reason of a RegExp syntax error, without JavaScript's repetition of the pattern. */
export function regExpError(e: unknown): string {
  return (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

export interface SampleOptions {
  /** Accept ACL keywords with a match suffix (`path_beg`): criteria only. */
  derived?: boolean;
}

/** The sample expression in `source[start, end)`. */
export function parseSample(source: string, start: number, end: number, env: SampleEnv, options: SampleOptions = {}): ParsedSample {
  const derivedOk = options.derived ?? false;
  const nameEnd = scanName(source, start, end);
  if (nameEnd === start) {
    fail(start, start >= end ? 'expected a sample fetch' : `expected a sample fetch name, got ${quoted(source.slice(start, end))}`);
  }
  const written = source.slice(start, nameEnd);
  const resolved = resolveFetch(written, derivedOk);
  if (!resolved) fail(start, unknownFetch(written, derivedOk));
  let i = nameEnd;
  let rawArgs: Arg[] = [];
  if (source[i] === '(' && i < end) ({ args: rawArgs, next: i } = parseArgs(source, i, end, written));
  if (resolved.counter !== null) {
    if (rawArgs.length > 0) fail(rawArgs[0]!.start, `${written} names its counter already; write ${resolved.name}(${resolved.counter}) or ${written} without arguments`);
    rawArgs = [{ value: resolved.counter, start }];
  }
  const spec = resolved.spec;
  const args = checkArgs(written, spec.args, spec.min, rawArgs, start, env);
  if (spec.args[0] === 'counter' || spec.args[0] === 'table') checkStickData(written, resolved.name, start, env);

  let type = spec.output;
  let previous = written;
  const converters: ir.Sample['converters'] = [];
  while (i < end) {
    if (source[i] !== ',') fail(i, `unexpected ${quoted(source.slice(i, end))} after ${previous}; converters follow a comma`);
    const at = i + 1;
    const convEnd = scanName(source, at, end);
    if (convEnd === at) fail(at, `expected a converter name after ","`);
    const name = source.slice(at, convEnd);
    if (!has(CONVERTERS, name)) {
      const hint = suggest(name, Object.keys(CONVERTERS));
      fail(at, `unknown converter ${quoted(name)}${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    const conv = CONVERTERS[name]!;
    if (conv.input !== 'any' && conv.input !== type) {
      fail(at, `converter ${name} takes ${TYPE_NAMES[conv.input]}, but ${previous} yields ${TYPE_NAMES[type]}`);
    }
    i = convEnd;
    let convRaw: Arg[] = [];
    if (source[i] === '(' && i < end) ({ args: convRaw, next: i } = parseArgs(source, i, end, name));
    const convArgs = checkArgs(name, conv.args, conv.min, convRaw, at, env);
    checkConverter(name, convArgs, convRaw);
    converters.push({ name, args: convArgs });
    type = conv.output;
    previous = name;
  }
  return {
    sample: { fetch: resolved.name, args, converters },
    type,
    needs: spec.needs,
    written,
    // A derived keyword's sample is its base fetch: `path_beg` compares `path`.
    text: (resolved.derived ? written.slice(0, -resolved.derived.length - 1) : written) + source.slice(nameEnd, end),
    fetch: resolved.name,
    start,
    derived: resolved.derived,
  };
}

/** A field holding one sample (`key: src`), spaces around it allowed; it must be able to run in `phase`. */
export function parseSampleField(source: string, env: SampleEnv, phase: Phase): ParsedSample {
  const start = source.length - source.trimStart().length;
  const end = Math.max(start, source.trimEnd().length);
  const parsed = parseSample(source, start, end, env);
  const problem = needsProblem(parsed, phase);
  if (problem) fail(start, problem);
  return parsed;
}
