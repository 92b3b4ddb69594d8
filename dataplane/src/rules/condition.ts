/**
 * Conditions (`if`/`unless`) compiled into predicates with HAProxy's semantics: a criterion is
 * true when any value of its sample matches any pattern (a sample without a value never matches,
 * so `!{ req.hdr(x) -m found }` is how absence is tested); a named ACL ORs its criteria; terms
 * side by side are ANDed, `||` separates alternatives, `!` negates one term and `unless` the
 * whole. Evaluation stops at the first term that decides, as in HAProxy, which matters for
 * fetches with side effects (sc_inc_gpc0).
 */
import type { ir } from '@switchyard/api';
import type { FetchContext } from './fetches.ts';
import { compileMatcher } from './matchers.ts';
import { compileSample, type Phase } from './sample.ts';
import type { Transaction } from './transaction.ts';
import type { Visit } from './values.ts';

export type Predicate = (tx: Transaction) => boolean;

const ANY_VALUE: Visit = () => true;

export function compileCriterion(criterion: ir.Criterion, context: FetchContext, phase: Phase): Predicate {
  const sample = compileSample(criterion.sample, context, phase);
  try {
    return sample.matches(criterion.method === 'found' ? ANY_VALUE : compileMatcher(criterion));
  } catch (error) {
    throw new Error(`${(error as Error).message} in the patterns of '${sample.text}'`, { cause: error });
  }
}

function anyOf(predicates: Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0]!;
  if (predicates.length === 2) {
    const [a, b] = predicates as [Predicate, Predicate];
    return (tx) => a(tx) || b(tx);
  }
  return (tx) => {
    for (let i = 0; i < predicates.length; i++) if (predicates[i]!(tx)) return true;
    return false;
  };
}

function allOf(predicates: Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0]!;
  if (predicates.length === 2) {
    const [a, b] = predicates as [Predicate, Predicate];
    return (tx) => a(tx) && b(tx);
  }
  return (tx) => {
    for (let i = 0; i < predicates.length; i++) if (!predicates[i]!(tx)) return false;
    return true;
  };
}

function compileTerm(term: ir.ConditionTerm, context: FetchContext, phase: Phase): Predicate {
  if (term.criteria.length === 0) throw new Error(`ACL '${term.name ?? '{ }'}' has no criterion`);
  const acl = anyOf(term.criteria.map((c) => compileCriterion(c, context, phase)));
  return term.negate ? (tx) => !acl(tx) : acl;
}

const NEVER: Predicate = () => false;

/** Compiles a condition; throws an Error naming what is unknown or invalid. */
export function compileCondition(condition: ir.Condition, context: FetchContext, phase: Phase): Predicate {
  const alternatives = condition.any.filter((terms) => terms.length > 0).map((terms) => allOf(terms.map((t) => compileTerm(t, context, phase))));
  const holds = alternatives.length === 0 ? NEVER : anyOf(alternatives);
  return condition.unless ? (tx) => !holds(tx) : holds;
}
