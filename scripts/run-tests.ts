/**
 * `npm test`: every `*.test.ts` in the workspaces, test/ and scripts/, through node:test.
 * Unit tests sit next to their subject; integration tests live in test/integration and start
 * real processes and sockets. Pass file paths or globs to run a subset.
 *
 * SWITCHYARD_POISON_READS=1 (inherited by every process the tests start) makes data planes
 * overwrite read memory after each read, so bytes kept without a copy fail tests
 * (dataplane/src/sockets/reader.ts).
 *
 * NODE_COMPILE_CACHE: a temporary folder, removed afterwards, so the switchyard processes the tests
 * start keep Node's compile cache there and not in node_modules/.cache (cli/bin/compile-cache.js).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const defaults = [
  'api/src/**/*.test.ts',
  'controller/src/**/*.test.ts',
  'dataplane/src/**/*.test.ts',
  'cli/src/**/*.test.ts',
  'scripts/**/*.test.ts',
  'bench/**/*.test.ts',
  'test/**/*.test.ts',
];
const patterns = process.argv.slice(2);
const compileCache = mkdtempSync(join(tmpdir(), 'switchyard-test-compile-cache-'));
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=120000', ...(patterns.length ? patterns : defaults)],
  { stdio: 'inherit', env: { ...process.env, SWITCHYARD_POISON_READS: '1', NODE_COMPILE_CACHE: compileCache } },
);
rmSync(compileCache, { recursive: true, force: true });
process.exit(result.status ?? 1);
