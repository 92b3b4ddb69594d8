/**
 * ACL match methods (HAProxy pattern.c), compiled once per criterion into a predicate over one
 * present sample value: patterns are lower-cased and regular expressions built here, so matching
 * a request allocates nothing beyond a lower-cased copy of the value under `-i`.
 *
 * - str/beg/end/sub/reg compare the value as a string (integers in decimal);
 * - dir and dom look for the pattern as whole slash- or dot-delimited segments (match_word:
 *   delimiters around the pattern are ignored, `/api/` is `api`; dir splits on `/` and `?`, dom on
 *   `/`, `?`, `.` and `:`);
 * - len compares the string's length with integer patterns;
 * - int compares the value as an integer; ip matches addresses and CIDRs; bool is true when the
 *   value is non-zero; found is true for any value (the caller decides about "no value").
 */
import type { ir } from '@switchyard/api';
import { compileIpList } from './ip.ts';
import { toBool, toInt, toText, type Visit } from './values.ts';

export type IntPattern = ir.IntPattern;

function intPredicate(pattern: IntPattern): (n: number) => boolean {
  switch (pattern.op) {
    case 'eq':
      return (n) => n === pattern.value;
    case 'ne':
      return (n) => n !== pattern.value;
    case 'gt':
      return (n) => n > pattern.value;
    case 'ge':
      return (n) => n >= pattern.value;
    case 'lt':
      return (n) => n < pattern.value;
    case 'le':
      return (n) => n <= pattern.value;
    case 'range': {
      const min = pattern.min ?? -Infinity;
      const max = pattern.max ?? Infinity;
      return (n) => n >= min && n <= max;
    }
  }
}

/** True when any pattern holds for the integer. */
export function compileIntPatterns(patterns: readonly IntPattern[]): (n: number) => boolean {
  const tests = patterns.map(intPredicate);
  if (tests.length === 1) return tests[0]!;
  return (n) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(n)) return true;
    return false;
  };
}

const DIR_DELIMITERS = (c: number): boolean => c === 0x2f || c === 0x3f;
const DOM_DELIMITERS = (c: number): boolean => c === 0x2f || c === 0x3f || c === 0x2e || c === 0x3a;

function stripDelimiters(pattern: string, isDelimiter: (c: number) => boolean): string {
  let start = 0;
  let end = pattern.length;
  while (start < end && isDelimiter(pattern.charCodeAt(start))) start++;
  while (end > start && isDelimiter(pattern.charCodeAt(end - 1))) end--;
  return pattern.slice(start, end);
}

/** HAProxy match_word: `word` starts at the beginning or after a delimiter and ends at the end or before one. */
function containsWord(text: string, word: string, isDelimiter: (c: number) => boolean): boolean {
  const last = text.length - word.length;
  let mayMatch = true;
  for (let i = 0; i <= last; i++) {
    if (isDelimiter(text.charCodeAt(i))) {
      mayMatch = true;
      continue;
    }
    if (!mayMatch) continue;
    if (text.startsWith(word, i) && (i === last || isDelimiter(text.charCodeAt(i + word.length)))) return true;
    mayMatch = false;
  }
  return false;
}

/** A predicate over one string, true when any pattern matches it. */
function anyString(patterns: readonly string[], test: (value: string, pattern: string) => boolean): (value: string) => boolean {
  if (patterns.length === 1) {
    const only = patterns[0]!;
    return (value) => test(value, only);
  }
  return (value) => {
    for (let i = 0; i < patterns.length; i++) if (test(value, patterns[i]!)) return true;
    return false;
  };
}

function stringMatcher(method: 'str' | 'beg' | 'end' | 'sub' | 'dir' | 'dom', patterns: readonly string[]): (value: string) => boolean {
  switch (method) {
    case 'str': {
      // Many exact patterns (a host list) are one hash lookup, as HAProxy's pattern tree.
      if (patterns.length > 8) {
        const set = new Set(patterns);
        return (value) => set.has(value);
      }
      return anyString(patterns, (value, pattern) => value === pattern);
    }
    case 'beg':
      return anyString(patterns, (value, pattern) => value.startsWith(pattern));
    case 'end':
      return anyString(patterns, (value, pattern) => value.endsWith(pattern));
    case 'sub':
      return anyString(patterns, (value, pattern) => value.includes(pattern));
    case 'dir':
    case 'dom': {
      const isDelimiter = method === 'dir' ? DIR_DELIMITERS : DOM_DELIMITERS;
      // A pattern made only of delimiters never matches in HAProxy either.
      const words = patterns.map((p) => stripDelimiters(p, isDelimiter)).filter((w) => w.length > 0);
      if (words.length === 0) return () => false;
      return anyString(words, (value, word) => containsWord(value, word, isDelimiter));
    }
  }
}

/** Compiles a criterion's match method and patterns into a predicate over one present value. */
export function compileMatcher(criterion: ir.Criterion): Visit {
  switch (criterion.method) {
    case 'found':
      return () => true;
    case 'bool':
      return toBool;
    case 'int':
    case 'len': {
      const test = compileIntPatterns(criterion.patterns);
      if (criterion.method === 'len') return (value) => test(toText(value).length);
      return (value) => {
        const n = toInt(value);
        return n !== null && test(n);
      };
    }
    case 'ip': {
      const test = compileIpList(criterion.patterns);
      return (value) => typeof value === 'string' && test(value);
    }
    case 'reg': {
      const flags = criterion.ignoreCase ? 'i' : '';
      // No `g` flag: test() is then stateless and the same RegExp serves every request.
      const regexes = criterion.patterns.map((p) => new RegExp(p, flags));
      return (value) => {
        const text = toText(value);
        for (let i = 0; i < regexes.length; i++) if (regexes[i]!.test(text)) return true;
        return false;
      };
    }
    default: {
      const ignoreCase = criterion.ignoreCase;
      const test = stringMatcher(criterion.method, ignoreCase ? criterion.patterns.map((p) => p.toLowerCase()) : criterion.patterns);
      return ignoreCase ? (value) => test(toText(value).toLowerCase()) : (value) => test(toText(value));
    }
  }
}
