/**
 * HAProxy log-format strings, used for access logs and for every value that may embed samples
 * (header values, redirect targets, set-path): literal text, `%%`, `%var` (`%ci`, `%Tr`...),
 * `%[sample]`, and the `%{+Q}` quoting flag in front of either.
 */
import { LOG_VARIABLES } from '@switchyard/api';
import type { ir } from '@switchyard/api';
import { suggest } from '../field-errors.ts';
import { fail, quoted } from './parse-error.ts';
import { needsProblem } from './phase.ts';
import type { Phase } from './phase.ts';
import { parseSample } from './sample.ts';
import type { SampleEnv } from './sample.ts';

/** Longest first, so `%Tr` is not read as `%T` followed by "r". */
const VARIABLES = Object.keys(LOG_VARIABLES).sort((a, b) => b.length - a.length);

/** Index of the `]` closing a sample that starts at `from`, or -1; brackets inside quotes or parentheses do not count. */
function sampleEnd(source: string, from: number): number {
  let depth = 0;
  for (let i = from; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') i++;
    else if (c === '"' || c === "'") {
      const close = source.indexOf(c, i + 1);
      if (close < 0) return -1;
      i = close;
    } else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ']' && depth === 0) return i;
  }
  return -1;
}

/** Reads `{+Q,...}` at `i`; returns the quote flag and the index after the `}`. */
function parseFlags(source: string, i: number): { quote: boolean; next: number } {
  const close = source.indexOf('}', i);
  if (close < 0) fail(i, 'unclosed "{" of log-format flags');
  let quote = false;
  let at = i + 1;
  for (const flag of source.slice(i + 1, close).split(',')) {
    if (flag === '+Q') quote = true;
    else if (flag === '-Q') quote = false;
    else fail(at, `unsupported log-format flag ${quoted(flag)}; only +Q (quote) and -Q are supported`);
    at += flag.length + 1;
  }
  return { quote, next: close + 1 };
}

/** The log format in `source`; samples must be able to run in `phase`. */
export function parseLogFormat(source: string, env: SampleEnv, phase: Phase): ir.LogFormat {
  const parts: ir.LogFormat = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c !== '%') {
      text += c;
      i++;
      continue;
    }
    if (source[i + 1] === '%') {
      text += '%';
      i += 2;
      continue;
    }
    const percent = i;
    i++;
    let quote = false;
    if (source[i] === '{') ({ quote, next: i } = parseFlags(source, i));
    if (source[i] === '[') {
      const end = sampleEnd(source, i + 1);
      if (end < 0) fail(i, 'unclosed "[": a sample ends with "]"');
      const sample = parseSample(source, i + 1, end, env);
      const problem = needsProblem(sample, phase);
      if (problem) fail(i + 1, problem);
      flush();
      parts.push({ kind: 'sample', sample: sample.sample, quote });
      i = end + 1;
      continue;
    }
    const name = VARIABLES.find((v) => source.startsWith(v, i));
    if (name === undefined) {
      const word = /^[A-Za-z]+/.exec(source.slice(i))?.[0];
      if (!word) fail(percent, '"%" must be followed by a variable, a [sample] or another "%" (write %% for a literal %)');
      const hint = suggest(word, VARIABLES);
      fail(percent, `unknown log-format variable %${word}${hint ? ` (did you mean %${hint}?)` : ''}`);
    }
    flush();
    parts.push({ kind: 'var', name, quote });
    i += name.length;
  }
  flush();
  return parts;
}
