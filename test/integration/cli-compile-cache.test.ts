/**
 * The switchyard command keeps Node's compile cache (cli/bin/compile-cache.js: with it warm, no
 * thread loads the type stripper, about 30 MiB of RSS each): in its installation's
 * node_modules/.cache/switchyard, or $NODE_COMPILE_CACHE; written by `run` once serving, by its
 * worker threads too, not only at exit; and a directory it cannot create changes nothing else.
 * The root's postinstall (scripts/warm-compile-cache.js) fills it with all that `run` loads.
 *
 * The installation here is a temporary copy of cli/bin whose ../src links to cli/src, so that
 * nothing is written into this checkout's node_modules/.cache. Cache files are named by Node: the
 * tests only count them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { REPO_ROOT, curl, runCli, spawnCli, tempDir } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { closedPort, startHttpServer } from '../helpers/fake-upstream.ts';
import { backend, listener, server, yaml } from '../helpers/manifests.ts';

interface Installation {
  bin: string;
  /** Where the command keeps its cache by default. */
  cache: string;
  path: string;
}

async function installation(t: TestContext): Promise<Installation> {
  const dir = await tempDir('switchyard-compile-cache-');
  t.after(dir.remove);
  await mkdir(join(dir.path, 'cli/bin'), { recursive: true });
  for (const file of await readdir(join(REPO_ROOT, 'cli/bin'))) {
    if (file.endsWith('.js')) await copyFile(join(REPO_ROOT, 'cli/bin', file), join(dir.path, 'cli/bin', file));
  }
  await symlink(join(REPO_ROOT, 'cli/src'), join(dir.path, 'cli/src'));
  return { bin: join(dir.path, 'cli/bin/switchyard.js'), cache: join(dir.path, 'node_modules/.cache/switchyard'), path: dir.path };
}

/** The environment without the test runner's NODE_COMPILE_CACHE (scripts/run-tests.ts), plus `extra`. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e = { ...process.env, ...extra };
  if (!('NODE_COMPILE_CACHE' in extra)) delete e.NODE_COMPILE_CACHE;
  delete e.NODE_DISABLE_COMPILE_CACHE;
  return e;
}

/** The files under `dir` (none when it does not exist). */
async function files(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name)).sort();
  } catch {
    return [];
  }
}

async function entries(dir: string): Promise<number> {
  return (await files(dir)).length;
}

test('switchyard keeps its compile cache in its installation: node_modules/.cache/switchyard', async (t) => {
  const inst = await installation(t);
  const r = await runCli(['--help'], { bin: inst.bin, env: env() });
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await entries(inst.cache)) > 0, `nothing in ${inst.cache}`);
});

test('NODE_COMPILE_CACHE overrides where switchyard keeps its compile cache', async (t) => {
  const inst = await installation(t);
  const dir = await tempDir('switchyard-compile-cache-env-');
  t.after(dir.remove);
  const r = await runCli(['--help'], { bin: inst.bin, env: env({ NODE_COMPILE_CACHE: dir.path }) });
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await entries(dir.path)) > 0, `nothing in ${dir.path}`);
  assert.equal(await entries(inst.cache), 0);
});

test('a compile cache directory switchyard cannot create changes nothing in its output', async (t) => {
  const writable = await installation(t);
  const expected = await runCli(['--help'], { bin: writable.bin, env: env() });
  const inst = await installation(t);
  await mkdir(join(inst.path, 'node_modules'));
  await writeFile(join(inst.path, 'node_modules/.cache'), 'not a directory\n');
  const r = await runCli(['--help'], { bin: inst.bin, env: env() });
  assert.deepEqual(r, expected);
  assert.equal(r.stderr, '');
});

/** A folder of manifests serving 127.0.0.1:port (returned) from a fake upstream. */
async function manifests(t: TestContext): Promise<{ dir: string; url: string }> {
  const upstream = await startHttpServer('alpha');
  t.after(() => upstream.stop());
  const dir = await tempDir('switchyard-compile-cache-manifests-');
  t.after(dir.remove);
  const port = await closedPort();
  const web = backend('web', { mode: 'http', servers: [server({ name: 'alpha', port: upstream.port })] });
  await writeFile(join(dir.path, 'all.yaml'), yaml(web, listener('www', port, 'web', { mode: 'http' })));
  return { dir: dir.path, url: `http://127.0.0.1:${port}/` };
}

test('switchyard run writes its compile cache once serving, not only at exit, and stops on SIGTERM', async (t) => {
  const inst = await installation(t);
  const { dir, url } = await manifests(t);
  const sy = spawnCli(['run', '-f', dir, '--workers', '1', '--log-level', 'warn'], { bin: inst.bin, env: env() });
  t.after(() => sy.kill());
  await eventually(async () => assert.equal((await curl(url)).status, 200), { timeoutMs: 20_000 });
  // Without the flush once started, Node writes the cache only when the process exits.
  await eventually(async () => assert.ok((await entries(inst.cache)) > 0, 'no cache entries while serving'), { timeoutMs: 10_000 });
  const serving = await entries(inst.cache);
  assert.deepEqual(await sy.stop('SIGTERM'), { code: 0, signal: null });
  assert.ok((await entries(inst.cache)) >= serving);
});

test('switchyard run --workers 2: the worker threads use the same compile cache and write their modules to it', async (t) => {
  const inst = await installation(t);
  // What the main thread loads (cli/src/main.ts and all it imports), written at exit.
  const help = await runCli(['--help'], { bin: inst.bin, env: env() });
  assert.equal(help.code, 0, help.stderr);
  const mainThread = await entries(inst.cache);
  assert.ok(mainThread > 0);
  const { dir, url } = await manifests(t);
  const sy = spawnCli(['run', '-f', dir, '--workers', '2', '--log-level', 'warn'], { bin: inst.bin, env: env() });
  t.after(() => sy.kill());
  await eventually(async () => assert.equal((await curl(url)).status, 200), { timeoutMs: 20_000 });
  // Only the workers load their entry point (dataplane/src/workers/worker.ts) and what only it
  // imports: more entries while serving means the workers use this cache and wrote to it.
  await eventually(async () => assert.ok((await entries(inst.cache)) > mainThread, `still ${mainThread} entries: none from the workers`), { timeoutMs: 10_000 });
  await sy.kill();
});

/** Runs scripts/warm-compile-cache.js (what `npm ci` runs) with NODE_COMPILE_CACHE=cache. */
function warm(cache: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO_ROOT, 'scripts/warm-compile-cache.js')], { env: env({ NODE_COMPILE_CACHE: cache }), encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

test('after the install-time warm-up, switchyard run --workers 2 finds every module it loads in the compile cache', async (t) => {
  const dir = await tempDir('switchyard-compile-cache-warm-');
  t.after(dir.remove);
  const w = await warm(dir.path);
  assert.deepEqual(w, { code: 0, stdout: '', stderr: '' });
  // The bin itself is not among what the warm-up loads: --help adds it, and loads nothing else that run does not.
  const help = await runCli(['--help'], { env: env({ NODE_COMPILE_CACHE: dir.path }) });
  assert.equal(help.code, 0, help.stderr);
  const warmed = await files(dir.path);
  const { dir: manifestDir, url } = await manifests(t);
  const sy = spawnCli(['run', '-f', manifestDir, '--workers', '2', '--log-level', 'warn'], { env: env({ NODE_COMPILE_CACHE: dir.path }) });
  t.after(() => sy.kill());
  await eventually(async () => assert.equal((await curl(url)).status, 200), { timeoutMs: 20_000 });
  assert.deepEqual(await sy.stop('SIGTERM'), { code: 0, signal: null });
  assert.deepEqual(await files(dir.path), warmed);
});

test('the install-time warm-up never fails the install, even where it cannot write', async (t) => {
  const dir = await tempDir('switchyard-compile-cache-warm-');
  t.after(dir.remove);
  await writeFile(join(dir.path, 'file'), 'not a directory\n');
  const w = await warm(join(dir.path, 'file'));
  assert.equal(w.code, 0);
  assert.equal(w.stdout, '');
  assert.match(w.stderr, /compile cache not warmed/);
});
