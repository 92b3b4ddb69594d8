/** Stick tables (a Frontend's `stickTable`, a Backend's `persistence.stick.table`) -> ir.StickTable. */
import { parseCount } from '@switchyard/api';
import type { ir, SampleType } from '@switchyard/api';
import { TYPE_NAMES } from './haproxy/sample.ts';
import { compareStrings, invalid, positiveDuration } from './problems.ts';
import type { Problem } from './problems.ts';

/** HAProxy's default `len` of string keys. */
export const DEFAULT_KEY_LENGTH = 32;

export interface TableFields {
  type: ir.StickTable['type'];
  size: number | string;
  expire?: string | undefined;
  length?: number | undefined;
}

/** The table `name`; problems are reported under `path` (`spec.stickTable`). */
export function buildStickTable(name: string, fields: TableFields, store: ir.StickData[], replicate: boolean, path: string, problems: Problem[]): ir.StickTable {
  const size = parseCount(fields.size);
  if (size < 1) problems.push(invalid(`${path}.size`, `must be at least 1, got ${JSON.stringify(fields.size)}`));
  if (fields.length !== undefined && fields.type !== 'string') {
    problems.push(invalid(`${path}.length`, `only applies to tables of type string, not ${fields.type}`));
  }
  return {
    name,
    type: fields.type,
    keyLength: fields.length ?? DEFAULT_KEY_LENGTH,
    size,
    expireMs: fields.expire === undefined ? null : positiveDuration(fields.expire, `${path}.expire`, problems),
    store: [...store].sort((a, b) => compareStrings(a.type, b.type)),
    replicate,
  };
}

/** Which samples can key a table: a string table takes anything (as text), the others their own kind or text to convert. */
export function keyProblem(text: string, sample: SampleType, table: ir.StickTable['type']): string | null {
  const fits = table === 'string' || sample === 'str' || ((table === 'ip' || table === 'ipv6') && sample === 'ip') || (table === 'integer' && (sample === 'int' || sample === 'bool'));
  return fits ? null : `${text} yields ${TYPE_NAMES[sample]}, which cannot be the key of a table of type ${table}`;
}
