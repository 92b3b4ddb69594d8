/**
 * `npm run crds`: writes crds/*.yaml from the zod schemas in api/src/resources (through the pure
 * generator in api/src/crd). The files are committed; scripts/generate-crds.test.ts fails when they
 * drift.
 *
 *   node scripts/generate-crds.ts            write crds/
 *   node scripts/generate-crds.ts --check    exit 1, naming the files that differ, instead of writing
 *   --dir <path>                              another output folder (tests)
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderCrdFiles } from '../api/src/crd/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: { check: { type: 'boolean', default: false }, dir: { type: 'string' } },
  strict: true,
});
const dir = resolve(values.dir ?? join(root, 'crds'));
const shown = (file: string) => relative(process.cwd(), join(dir, file)) || file;

const files = renderCrdFiles();
const wanted = new Set(files.map((f) => f.name));
// Files of ours that the generator no longer produces (a renamed or removed kind).
const stale = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.switchyard.dev.yaml') && !wanted.has(f)) : [];

if (values.check) {
  const problems: string[] = [];
  for (const f of files) {
    const path = join(dir, f.name);
    if (!existsSync(path)) problems.push(`${shown(f.name)}: missing`);
    else if (readFileSync(path, 'utf8') !== f.content) problems.push(`${shown(f.name)}: differs from the generated CRD`);
  }
  for (const f of stale) problems.push(`${shown(f)}: no longer generated`);
  if (problems.length > 0) {
    console.error(`CRDs are out of date; run \`npm run crds\`:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`${files.length} CRDs up to date in ${relative(process.cwd(), dir) || '.'}`);
} else {
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const path = join(dir, f.name);
    const changed = !existsSync(path) || readFileSync(path, 'utf8') !== f.content;
    if (changed) writeFileSync(path, f.content);
    console.log(`${changed ? 'wrote    ' : 'unchanged'} ${shown(f.name)}`);
  }
  for (const f of stale) {
    rmSync(join(dir, f));
    console.log(`removed   ${shown(f)}`);
  }
}
