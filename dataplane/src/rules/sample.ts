/**
 * Compiles an ir.Sample (a fetch, its arguments and converters) against the fetch and converter
 * tables, once per snapshot. The result reads a transaction two ways:
 * - `value(tx)`: the value a rule, a header value or a log line uses, null for none;
 * - `matches(visit)`: builds, at compile time, a predicate that is true when `visit` holds for any
 *   value of the sample (every header value, every cookie... as HAProxy's ACLs iterate), with the
 *   converters applied to each value. No closure or array is made per request.
 */
// The catalogue alone: the package's index would load zod and the resource schemas into every worker thread.
import { CONVERTERS, FETCHES } from '@switchyard/api/catalogue';
import type { ir, SampleType } from '@switchyard/api';
import { CONVERTER_TABLE, type Converter } from './converters.ts';
import { FETCH_TABLE, type BoundFetch, type FetchContext } from './fetches.ts';
import type { Transaction } from './transaction.ts';
import type { Present, SampleValue, Visit } from './values.ts';

export type Needs = 'none' | 'request' | 'response';

/**
 * Where a sample is evaluated, which decides what it may read (as HAProxy refuses a fetch "not
 * reliably usable here"): tcp-request rules see the connection only, http-request rules and
 * use_backend the request, http-response rules the response too. Log lines may name anything:
 * what a transaction does not have is "no value" there.
 */
export type Phase = 'tcp-request' | 'http-request' | 'http-response' | 'log';

function usable(needs: Needs, phase: Phase): boolean {
  if (needs === 'none' || phase === 'log' || phase === 'http-response') return true;
  return needs === 'request' && phase === 'http-request';
}

export interface CompiledSample {
  /** The output type after converters: decides how values print and match. */
  readonly type: SampleType;
  /** What the fetch reads: the HTTP request, the response or neither. */
  readonly needs: Needs;
  /** The `fetch(args),converter...` text, for error messages. */
  readonly text: string;
  value(tx: Transaction): SampleValue;
  matches(visit: Visit): (tx: Transaction) => boolean;
}

export function sampleText(sample: ir.Sample): string {
  const call = (name: string, args: string[]): string => (args.length === 0 ? name : `${name}(${args.join(',')})`);
  return [call(sample.fetch, sample.args), ...sample.converters.map((c) => call(c.name, c.args))].join(',');
}

function checkArity(kind: string, name: string, args: readonly string[], spec: { args: unknown[]; min: number }): void {
  if (args.length < spec.min || args.length > spec.args.length) {
    const expected = spec.min === spec.args.length ? `${spec.min}` : `${spec.min} to ${spec.args.length}`;
    throw new Error(`${kind} '${name}' takes ${expected} argument(s), got ${args.length}`);
  }
}

function chain(converters: Converter[]): Converter | null {
  if (converters.length === 0) return null;
  if (converters.length === 1) return converters[0]!;
  return (value: Present): SampleValue => {
    let v: SampleValue = value;
    for (let i = 0; i < converters.length; i++) {
      v = converters[i]!(v);
      if (v === null) return null;
    }
    return v;
  };
}

/** Throws an Error naming the sample when a fetch, converter or argument is unknown or invalid. */
export function compileSample(sample: ir.Sample, context: FetchContext, phase: Phase): CompiledSample {
  const text = sampleText(sample);
  const spec = Object.hasOwn(FETCHES, sample.fetch) ? FETCHES[sample.fetch] : undefined;
  const factory = Object.hasOwn(FETCH_TABLE, sample.fetch) ? FETCH_TABLE[sample.fetch] : undefined;
  if (spec === undefined || factory === undefined) throw new Error(`unknown fetch '${sample.fetch}' in '${text}'`);
  if (!usable(spec.needs, phase)) {
    throw new Error(`fetch '${sample.fetch}' needs the HTTP ${spec.needs}, which ${phase} rules do not have, in '${text}'`);
  }
  let type: SampleType = spec.output;
  const converters: Converter[] = [];
  try {
    checkArity('fetch', sample.fetch, sample.args, spec);
    for (const c of sample.converters) {
      const cspec = Object.hasOwn(CONVERTERS, c.name) ? CONVERTERS[c.name] : undefined;
      const cfactory = Object.hasOwn(CONVERTER_TABLE, c.name) ? CONVERTER_TABLE[c.name] : undefined;
      if (cspec === undefined || cfactory === undefined) throw new Error(`unknown converter '${c.name}'`);
      checkArity('converter', c.name, c.args, cspec);
      converters.push(cfactory(c.args));
      type = cspec.output;
    }
  } catch (error) {
    throw new Error(`${(error as Error).message} in '${text}'`, { cause: error });
  }
  let bound: BoundFetch;
  try {
    bound = factory(sample.args, context);
  } catch (error) {
    throw new Error(`${(error as Error).message} in '${text}'`, { cause: error });
  }
  const fetchValue = bound.value;
  const each = bound.each;
  const convert = chain(converters);

  const value =
    convert === null
      ? fetchValue
      : (tx: Transaction): SampleValue => {
          const v = fetchValue(tx);
          return v === null ? null : convert(v);
        };

  const matches = (visit: Visit): ((tx: Transaction) => boolean) => {
    if (each === null) {
      return (tx) => {
        const v = value(tx);
        return v !== null && visit(v);
      };
    }
    if (convert === null) return (tx) => each(tx, visit);
    const converted: Visit = (v) => {
      const c = convert(v);
      return c !== null && visit(c);
    };
    return (tx) => each(tx, converted);
  };

  return { type, needs: spec.needs, text, value, matches };
}
