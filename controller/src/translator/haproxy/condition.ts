/**
 * Conditions (`if` / `unless`) with HAProxy's grammar: terms side by side are ANDed, `||` (or
 * `or`) separates alternatives, `!` negates a term. A term is a named ACL (every `acls` entry of
 * that name, ORed), a predefined ACL (TRUE, METH_GET, LOCALHOST...) or an anonymous `{ criterion }`.
 *
 * Each term is checked against where the condition runs: an ACL reading the response cannot guard
 * an http-request rule; the error points at the term.
 */
import type { ir } from '@switchyard/api';
import { suggest } from '../field-errors.ts';
import { parseCriterion } from './criterion.ts';
import type { ParsedCriterion } from './criterion.ts';
import { fail, quoted } from './parse-error.ts';
import { needsProblem } from './phase.ts';
import type { Phase } from './phase.ts';
import { PREDEFINED_ACLS, predefinedAcl } from './predefined.ts';
import { isFetch } from './sample.ts';
import type { SampleEnv } from './sample.ts';
import { splitWords } from './words.ts';
import type { Word } from './words.ts';

export interface NamedAcl {
  /** Every definition's criterion, in order. */
  criteria: readonly ParsedCriterion[];
  /** Where it is defined, for messages: `spec.acls[0]`. */
  defined: string;
  /** One of its definitions has an error, already reported there; uses add nothing. */
  broken: boolean;
}

export interface ConditionEnv {
  acls: ReadonlyMap<string, NamedAcl>;
  sample: SampleEnv;
  phase: Phase;
}

function checkPhase(criteria: readonly ParsedCriterion[], env: ConditionEnv, at: number, what: string): void {
  for (const c of criteria) {
    const problem = needsProblem(c, env.phase);
    if (problem) fail(at, `${what}: ${problem}`);
  }
}

/** Index of the `}` closing the `{` at words[open], or -1. */
function closingBrace(words: readonly Word[], open: number): number {
  for (let k = open + 1; k < words.length; k++) if (words[k]!.text === '}') return k;
  return -1;
}

function namedTerm(name: string, at: number, negate: boolean, env: ConditionEnv): ir.ConditionTerm {
  const acl = env.acls.get(name);
  if (acl) {
    if (!acl.broken) checkPhase(acl.criteria, env, at, `ACL ${name} (${acl.defined})`);
    return { negate, name, criteria: acl.criteria.map((c) => structuredClone(c.criterion)) };
  }
  const predefined = predefinedAcl(name);
  if (predefined) {
    checkPhase(predefined, env, at, `predefined ACL ${name}`);
    return { negate, name, criteria: predefined.map((c) => c.criterion) };
  }
  if (name === '&&' || name === 'and') fail(at, `${quoted(name)} is not needed: terms side by side must all hold (use || for "or")`);
  if (name.startsWith('{')) fail(at, '"{" must be followed by a space');
  if (name === '}') fail(at, 'unexpected "}" without a "{" before it');
  if (isFetch(name)) fail(at, `unknown ACL ${quoted(name)}: to test the fetch ${name}, write an anonymous ACL: { ${name} }`);
  const hint = suggest(name, [...env.acls.keys(), ...PREDEFINED_ACLS]);
  return fail(at, `unknown ACL ${quoted(name)}${hint ? ` (did you mean ${hint}?)` : ''}: define it in spec.acls or use a predefined ACL`);
}

/** The condition in `source`; `unless` negates it. */
export function parseCondition(source: string, unless: boolean, env: ConditionEnv): ir.Condition {
  const words = splitWords(source);
  if (words.length === 0) fail(0, 'empty condition');
  const any: ir.ConditionTerm[][] = [[]];
  let or: Word | null = null;
  let k = 0;
  while (k < words.length) {
    const w = words[k]!;
    if (w.text === '||' || w.text === 'or') {
      if (any.at(-1)!.length === 0) fail(w.start, `${w.text} needs a term before it`);
      any.push([]);
      or = w;
      k++;
      continue;
    }
    // `!` negates what follows, attached (`!is_api`, `!{`) or not (`! is_api`).
    let negate = false;
    let text = w.text;
    let at = w.start;
    for (;;) {
      while (text.startsWith('!')) {
        negate = !negate;
        text = text.slice(1);
        at++;
      }
      if (text !== '') break;
      const next = words[k + 1];
      if (!next) fail(w.start, '"!" needs a term after it');
      k++;
      text = next.text;
      at = next.start;
    }
    if (text === '||' || text === 'or') fail(w.start, '"!" needs a term after it');
    if (text === '{') {
      const close = closingBrace(words, k);
      if (close < 0) fail(at, 'unclosed "{": an anonymous ACL ends with " }"');
      if (close === k + 1) fail(at, 'empty "{ }": an anonymous ACL holds a criterion, e.g. { path_beg /api }');
      const criterion = parseCriterion(source, words.slice(k + 1, close), env.sample);
      const problem = needsProblem(criterion, env.phase);
      if (problem) fail(words[k + 1]!.start, problem);
      any.at(-1)!.push({ negate, name: null, criteria: [criterion.criterion] });
      k = close + 1;
      continue;
    }
    any.at(-1)!.push(namedTerm(text, at, negate, env));
    k++;
  }
  if (any.at(-1)!.length === 0) fail(or!.start, `${or!.text} needs a term after it`);
  return { unless, any };
}
