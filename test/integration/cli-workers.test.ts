/**
 * `switchyard run --workers N` as a real process: N proxy threads (named switchyard-worker-N, which
 * Linux shows truncated to 15 characters), serving, stopping cleanly on SIGTERM; and a bad value.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { curl, runCli, spawnCli, tempDir } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { closedPort, startHttpServer } from '../helpers/fake-upstream.ts';

async function threadNames(pid: number): Promise<string[]> {
  const tasks = await readdir(`/proc/${pid}/task`);
  const names = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/comm`, 'utf8').catch(() => '')));
  return names.map((n) => n.trim());
}

test('switchyard run --workers 3 starts three proxy threads that serve, and stops on SIGTERM', async (t) => {
  const upstream = await startHttpServer('alpha');
  t.after(() => upstream.stop());
  const dir = await tempDir('switchyard-cli-workers-');
  t.after(dir.remove);
  const port = await closedPort();
  await writeFile(
    join(dir.path, 'all.yaml'),
    `apiVersion: switchyard.dev/v1alpha1
kind: Backend
metadata: { name: web }
spec:
  mode: http
  servers: [ { name: alpha, address: 127.0.0.1, port: ${upstream.port} } ]
---
apiVersion: switchyard.dev/v1alpha1
kind: Frontend
metadata: { name: www }
spec:
  mode: http
  binds: [ { address: 127.0.0.1, port: ${port} } ]
  defaultBackend: { name: web }
`,
  );
  const sy = spawnCli(['run', '-f', dir.path, '--workers', '3', '--log-level', 'info']);
  t.after(() => sy.kill());
  const url = `http://127.0.0.1:${port}/`;
  await eventually(async () => assert.equal((await curl(url)).status, 200), { timeoutMs: 20_000 });
  const names = await threadNames(sy.child.pid!);
  assert.equal(names.filter((n) => n.startsWith('switchyard-work')).length, 3, names.join(', '));
  const statuses = await Promise.all(Array.from({ length: 20 }, async () => (await curl(url)).status));
  assert.deepEqual(statuses, Array(20).fill(200));
  assert.deepEqual(await sy.stop('SIGTERM'), { code: 0, signal: null });
});

test('switchyard run --workers 0 is a usage error', async () => {
  const r = await runCli(['run', '-f', '/nonexistent', '--workers', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--workers must be an integer from 1 to 256/);
});
