/**
 * Problems as one line each, in the shape `haproxy -c` users grep for:
 *   FILE: Kind/name: field.path: reason
 *   FILE:LINE:COL: reason            (syntax errors)
 */
import { formatLoadError } from '@switchyard/controller';
import type { LoadError, ResourceResult } from '@switchyard/controller';

/** `Backend/web`, or `Backend/shop/web` outside the default namespace. */
export function objectName(r: Pick<ResourceResult, 'kind' | 'namespace' | 'name'>): string {
  return r.namespace === 'default' ? `${r.kind}/${r.name}` : `${r.kind}/${r.namespace}/${r.name}`;
}

/** Splits `dir/file.yaml#2` into its file and document index, for ordering. */
function sourceKey(source: string | null): [string, number] {
  if (source === null) return ['', 0];
  const m = /^(.*)#(\d+)$/.exec(source);
  return m ? [m[1]!, Number(m[2])] : [source, 0];
}

/** One line per error of every result, ordered by file and document position. */
export function formatResultErrors(results: readonly ResourceResult[]): string[] {
  const withErrors = results
    .map((r, i) => ({ r, i, key: sourceKey(r.source) }))
    .filter(({ r }) => r.errors.length > 0)
    .sort((a, b) => (a.key[0] < b.key[0] ? -1 : a.key[0] > b.key[0] ? 1 : a.key[1] - b.key[1] || a.i - b.i));
  const lines: string[] = [];
  for (const { r } of withErrors) {
    const where = r.source ?? '<cluster>';
    for (const e of r.errors) lines.push(`${where}: ${objectName(r)}: ${e.path ? `${e.path}: ` : ''}${e.message}`);
  }
  return lines;
}

/** One line per load error, relative to `base` when given. */
export function formatLoadErrors(errors: readonly LoadError[], base?: string): string[] {
  return errors.map((e) => formatLoadError(e, base));
}
