/**
 * `npm test`: every `*.test.ts` in the workspaces, test/ and scripts/, through node:test.
 * Unit tests sit next to their subject; integration tests live in test/integration and start
 * real processes and sockets. Pass file paths or globs to run a subset.
 */
import { spawnSync } from 'node:child_process';

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
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=120000', ...(patterns.length ? patterns : defaults)],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
