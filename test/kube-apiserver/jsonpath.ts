/**
 * The JSONPath subset printer columns use (reference §3.14): `.a.b`, `.a[0]`, `.a[*].b`,
 * `.a[?(@.type=="Ready")].status`, optionally wrapped in `{…}`. Returns every match.
 */
import { isObject } from './types.ts';

type Step = { key: string } | { index: number } | { all: true } | { filter: { path: string[]; op: '==' | '!='; value: unknown } };

export function compileJsonPath(expr: string): (value: unknown) => unknown[] {
  const steps = parse(expr.trim().replace(/^\{(.*)\}$/, '$1'));
  return (value) => steps.reduce<unknown[]>((values, step) => values.flatMap((v) => apply(step, v)), [value]);
}

function parse(expr: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  while (i < expr.length) {
    if (expr[i] === '.') {
      const m = /^\.([^.[]+)/.exec(expr.slice(i));
      if (m === null) {
        i++;
        continue;
      }
      steps.push({ key: m[1] });
      i += m[0].length;
    } else if (expr[i] === '[') {
      const close = findClose(expr, i);
      const inner = expr.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if (/^['"].*['"]$/.test(inner)) steps.push({ key: inner.slice(1, -1) });
      else {
        const f = /^\?\(@((?:\.[^.=!\s]+)+)\s*(==|!=)\s*(.+)\)$/.exec(inner);
        if (f === null) throw new Error(`unsupported JSONPath ${expr}`);
        const raw = f[3].trim();
        const value = /^['"].*['"]$/.test(raw) ? raw.slice(1, -1) : JSON.parse(raw);
        steps.push({ filter: { path: f[1].slice(1).split('.'), op: f[2] as '==' | '!=', value } });
      }
    } else throw new Error(`unsupported JSONPath ${expr}`);
  }
  return steps;
}

function findClose(expr: string, open: number): number {
  let depth = 0;
  for (let j = open; j < expr.length; j++) {
    if (expr[j] === '[') depth++;
    if (expr[j] === ']' && --depth === 0) return j;
  }
  throw new Error(`unbalanced brackets in JSONPath ${expr}`);
}

function apply(step: Step, v: unknown): unknown[] {
  if ('key' in step) return isObject(v) && v[step.key] !== undefined ? [v[step.key]] : [];
  if ('index' in step) {
    if (!Array.isArray(v)) return [];
    const i = step.index < 0 ? v.length + step.index : step.index;
    return i >= 0 && i < v.length ? [v[i]] : [];
  }
  const items = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
  if ('all' in step) return items;
  const { path, op, value } = step.filter;
  return items.filter((item) => {
    const got = path.reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), item);
    return op === '==' ? got === value : got !== value;
  });
}
