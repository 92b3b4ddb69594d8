/**
 * ACL criteria: `fetch [flags] [patterns...]` (HAProxy's `acl <name> <criterion>` and the inside of
 * an anonymous `{ ... }`), as one `ir.Criterion` whose method and patterns need no further parsing:
 *
 * - flags `-i` (ignore case), `-m <method>`, `--` (end of flags);
 * - derived keywords pick the method (`path_beg` is `path -m beg`, `hdr_ip(x)` is `hdr(x) -m ip`);
 * - without either, the sample's type decides (ip, int, bool, else str);
 * - int patterns `gt 100`, `80`, `1024:`; ip patterns validated and normalised; regular
 *   expressions compiled (JavaScript syntax); `-i` lowercases string patterns (a `reg` keeps
 *   its pattern and matches with the `i` flag).
 *
 * Where HAProxy silently accepts a criterion that can never match (a string match without
 * patterns), this is an error.
 */
import type { ir, SampleType } from '@switchyard/api';
import { suggest } from '../field-errors.ts';
import { normalizeIpPattern } from './ip-pattern.ts';
import { fail, quoted } from './parse-error.ts';
import type { Needs } from './phase.ts';
import { parseSample, regExpError, TYPE_NAMES } from './sample.ts';
import type { ParsedSample, SampleEnv } from './sample.ts';
import { unquote } from './words.ts';
import type { Word } from './words.ts';

export type Method = ir.Criterion['method'];

export interface ParsedCriterion {
  criterion: ir.Criterion;
  needs: Needs;
  /** The canonical fetch, for messages. */
  fetch: string;
  /** The fetch as written (`hdr_beg`), for messages and HAProxy's context-dependent names. */
  written: string;
}

const METHODS: readonly Method[] = ['str', 'beg', 'end', 'sub', 'reg', 'dir', 'dom', 'len', 'ip', 'int', 'found', 'bool'];
const STRING_METHODS: readonly Method[] = ['str', 'beg', 'end', 'sub', 'reg', 'dir', 'dom'];
const DEFAULT_METHOD: Record<SampleType, Method> = { str: 'str', int: 'int', bool: 'bool', ip: 'ip' };
const INT_OPS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;
type IntOp = (typeof INT_OPS)[number];

/** Which sample types each method can compare. */
function accepts(method: Method, type: SampleType): boolean {
  switch (method) {
    case 'found':
      return true;
    case 'ip':
      return type === 'ip' || type === 'str';
    case 'int':
      return type === 'int';
    case 'bool':
      return type === 'bool' || type === 'int';
    default:
      return type === 'str';
  }
}

function acceptedTypes(method: Method): string {
  if (method === 'ip') return 'an IP address or a string';
  if (method === 'bool') return 'a boolean or an integer';
  if (method === 'int') return 'an integer';
  return 'a string';
}

const INTEGER_RE = /^[-+]?\d+$/;

function integer(text: string, at: number, what: string): number {
  const n = Number(text);
  if (!INTEGER_RE.test(text) || !Number.isSafeInteger(n)) fail(at, `expected ${what}, got ${quoted(text)}`);
  return n;
}

function intPatterns(words: readonly Word[], method: Method): ir.IntPattern[] {
  const what = method === 'len' ? 'a length (an integer)' : 'an integer';
  const out: ir.IntPattern[] = [];
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    const text = unquote(w.text);
    if ((INT_OPS as readonly string[]).includes(text)) {
      const next = words[k + 1];
      if (!next) fail(w.start, `${text} needs a number after it`);
      out.push({ op: text as IntOp, value: integer(unquote(next.text), next.start, what) });
      k++;
      continue;
    }
    const colon = text.indexOf(':');
    if (colon < 0) {
      out.push({ op: 'eq', value: integer(text, w.start, `${what}, a range such as 1:100, or eq|ne|gt|ge|lt|le and ${what}`) });
      continue;
    }
    const lo = text.slice(0, colon);
    const hi = text.slice(colon + 1);
    if (lo === '' && hi === '') fail(w.start, 'a range needs a bound on at least one side of ":"');
    const min = lo === '' ? null : integer(lo, w.start, `${what} before ":"`);
    const max = hi === '' ? null : integer(hi, w.start + colon + 1, `${what} after ":"`);
    if (min !== null && max !== null && min > max) fail(w.start, `range ${text} is empty: ${min} is greater than ${max}`);
    out.push({ op: 'range', min, max });
  }
  return out;
}

function stringPatterns(words: readonly Word[], method: Method, ignoreCase: boolean): string[] {
  return words.map((w) => {
    const text = unquote(w.text);
    if (method !== 'reg') return ignoreCase ? text.toLowerCase() : text;
    try {
      new RegExp(text, ignoreCase ? 'i' : '');
    } catch (e) {
      fail(w.start, `invalid regular expression ${quoted(text)}: ${regExpError(e)}`);
    }
    return text;
  });
}

function ipPatterns(words: readonly Word[]): string[] {
  return words.map((w) => {
    const text = unquote(w.text);
    const ip = normalizeIpPattern(text);
    if (ip === null) fail(w.start, `${quoted(text)} is not an IP address or network (e.g. 10.0.0.0/8, 2001:db8::/32)`);
    return ip;
  });
}

interface Flags {
  ignoreCase: boolean;
  ignoreCaseAt: number;
  method: Method | null;
  methodAt: number;
  /** Index of the first pattern word. */
  patternsFrom: number;
}

function parseFlags(words: readonly Word[], sample: ParsedSample): Flags {
  const flags: Flags = { ignoreCase: false, ignoreCaseAt: -1, method: null, methodAt: sample.start, patternsFrom: words.length };
  let k = 1;
  while (k < words.length && words[k]!.text.startsWith('-')) {
    const w = words[k]!;
    if (w.text === '--') {
      k++;
      break;
    }
    if (w.text === '-i') {
      flags.ignoreCase = true;
      flags.ignoreCaseAt = w.start;
    } else if (w.text === '-m') {
      const next = words[k + 1];
      if (!next) fail(w.start, `-m needs a match method: ${METHODS.join(', ')}`);
      if (sample.derived) {
        fail(w.start, `${sample.written} already matches with -m ${sample.derived}; write ${sample.written.slice(0, -sample.derived.length - 1)} -m ... instead`);
      }
      if (flags.method !== null) fail(w.start, '-m is given twice');
      const m = unquote(next.text);
      if (!(METHODS as readonly string[]).includes(m)) {
        const hint = suggest(m, METHODS);
        fail(next.start, `unknown match method ${quoted(m)}${hint ? ` (did you mean ${hint}?)` : ''}; expected one of ${METHODS.join(', ')}`);
      }
      flags.method = m as Method;
      flags.methodAt = next.start;
      k++;
    } else if (['-f', '-M', '-u', '-n'].includes(w.text)) {
      fail(w.start, `${w.text} is not supported: write the patterns in the criterion`);
    } else {
      fail(w.start, `unknown flag ${quoted(w.text)}; expected -i, -m or -- (a pattern starting with "-" needs "--" before it)`);
    }
    k++;
  }
  flags.patternsFrom = k;
  return flags;
}

/** The criterion made of `words` (the first is the sample), positions in `source`. */
export function parseCriterion(source: string, words: readonly Word[], env: SampleEnv, at = 0): ParsedCriterion {
  const first = words[0];
  if (!first) return fail(at, 'expected a criterion: a fetch followed by patterns');
  const sample = parseSample(source, first.start, first.start + first.text.length, env, { derived: true });
  const flags = parseFlags(words, sample);
  const method = flags.method ?? sample.derived ?? DEFAULT_METHOD[sample.type];
  if (!accepts(method, sample.type)) {
    fail(flags.methodAt, `-m ${method} compares ${acceptedTypes(method)}, but ${sample.text} yields ${TYPE_NAMES[sample.type]}`);
  }
  const ignoreCase = flags.ignoreCase;
  if (ignoreCase && !STRING_METHODS.includes(method)) fail(flags.ignoreCaseAt, `-i only applies to string matching, not -m ${method}`);
  const patternWords = words.slice(flags.patternsFrom);
  const base = { sample: sample.sample, needs: sample.needs, fetch: sample.fetch, written: sample.written };
  if (method === 'found' || method === 'bool') {
    if (patternWords.length > 0) {
      fail(patternWords[0]!.start, `-m ${method} takes no patterns, got ${quoted(patternWords[0]!.text)}${method === 'bool' ? ` (${sample.written} matches on its own)` : ''}`);
    }
    return { ...base, criterion: { sample: sample.sample, method, ignoreCase: false, patterns: [] } };
  }
  if (patternWords.length === 0) {
    fail(first.start, `${sample.written} has no pattern to compare with, so it would never match; add a pattern, or use -m found to test that it exists`);
  }
  if (method === 'int' || method === 'len') {
    return { ...base, criterion: { sample: sample.sample, method, ignoreCase: false, patterns: intPatterns(patternWords, method) } };
  }
  if (method === 'ip') return { ...base, criterion: { sample: sample.sample, method, ignoreCase: false, patterns: ipPatterns(patternWords) } };
  return { ...base, criterion: { sample: sample.sample, method, ignoreCase, patterns: stringPatterns(patternWords, method, ignoreCase) } };
}
