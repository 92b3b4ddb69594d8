/**
 * `switchyard validate -f FILE|DIR ...` — like `haproxy -c`: load every path, translate them
 * together (references may cross files), print one line per problem and a summary, and exit 0
 * only when everything would be served as written. Unsupported fields and unresolved references
 * count as errors: those objects would not be served.
 */
import { join } from 'node:path';
import { loadManifests, translate } from '@switchyard/controller';
import type { RawObject } from '@switchyard/controller';
import { formatLoadErrors, formatResultErrors } from '../format-errors.ts';

export interface Output {
  write(s: string): void;
}

export async function validate(paths: string[], out: Output, err: Output): Promise<number> {
  const lines: string[] = [];
  const objects: RawObject[] = [];
  for (const path of paths) {
    const loaded = await loadManifests(path);
    lines.push(...formatLoadErrors(loaded.errors, loaded.base));
    // Sources as the user can open them: relative to where they ran the command.
    for (const o of loaded.objects) objects.push({ object: o.object, source: o.source === null ? null : join(loaded.base, o.source) });
  }
  const { results } = translate({ objects });
  lines.push(...formatResultErrors(results));
  if (results.length === 0 && lines.length === 0) {
    lines.push(`${paths.join(', ')}: no switchyard.dev/v1alpha1 objects found`);
  }
  for (const line of lines) err.write(`${line}\n`);
  if (lines.length === 0) {
    out.write('Configuration file is valid\n');
    return 0;
  }
  err.write(`${lines.length} error${lines.length === 1 ? '' : 's'}\n`);
  return 1;
}
