/** Helpers for the parsers' tests. */
import { ParseError } from './parse-error.ts';
import type { SampleEnv } from './sample.ts';

/** A Frontend `web` with a stick table storing `store`. */
export function tableEnv(...store: string[]): SampleEnv {
  return { stick: { kind: 'table', name: 'frontend:shop/web', owner: 'web', store: new Set(store), storeField: 'spec.stickTable.store' } };
}

export const NO_TABLE: SampleEnv = { stick: { kind: 'none', why: 'needs spec.stickTable (this Frontend has none)' } };

/** The error `run` throws, as `column N: message`. */
export function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (e instanceof ParseError) return `column ${e.column}: ${e.message}`;
    throw e;
  }
  throw new Error('expected a ParseError, got none');
}
