/**
 * `switchyard run -f DIR` as a real process, with curl as the client and fake HTTP servers behind
 * it: serves, balances, reloads when a manifest changes, keeps the last good configuration when an
 * edit is invalid or does not parse (and logs file, resource and field path), stops on SIGTERM.
 */
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { curl, spawnCli, tempDir } from '../helpers/cli-process.ts';
import type { CliProcess, LogLine } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { closedPort, startHttpServer } from '../helpers/fake-upstream.ts';
import type { FakeHttpServer } from '../helpers/fake-upstream.ts';

const V = 'apiVersion: switchyard.dev/v1alpha1';
/** Generous: the process has to start (Node, type stripping) and the watcher debounces. */
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };
const ERROR = 50;

function frontendYaml(port: number): string {
  return `${V}
kind: Frontend
metadata: { name: www }
spec:
  mode: http
  binds: [ { address: 127.0.0.1, port: ${port} } ]
  defaultBackend: { name: web }
`;
}

function backendYaml(servers: { name: string; port: number | string }[]): string {
  return `${V}
kind: Backend
metadata: { name: web }
spec:
  mode: http
  balance: roundrobin
  servers:
${servers.map((s) => `    - { name: ${s.name}, address: 127.0.0.1, port: ${typeof s.port === 'string' ? JSON.stringify(s.port) : s.port} }`).join('\n')}
`;
}

async function startServers(t: TestContext, names: string[]): Promise<FakeHttpServer[]> {
  const servers = await Promise.all(names.map((n) => startHttpServer(n)));
  t.after(() => Promise.all(servers.map((s) => s.stop())));
  return servers;
}

/** A manifest folder in the temp dir, removed after the test. */
async function manifestDir(t: TestContext): Promise<string> {
  const dir = await tempDir('switchyard-cli-run-');
  t.after(dir.remove);
  return dir.path;
}

function startRun(t: TestContext, path: string, extra: string[] = []): CliProcess {
  const sy = spawnCli(['run', '-f', path, '--log-level', 'info', ...extra]);
  t.after(() => sy.kill());
  return sy;
}

/** Which server answered one curl request (its name), or `status-N` / `curl-exit-N`. */
async function servedBy(url: string): Promise<string> {
  const r = await curl(url);
  if (r.exitCode !== 0) return `curl-exit-${r.exitCode}`;
  return r.status === 200 ? r.body.trim() : `status-${r.status}`;
}

async function servedByN(url: string, n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push(await servedBy(url));
  return names;
}

/** The log lines after the first `from`, for "what did the process say since then". */
function logsSince(sy: CliProcess, from: number): LogLine[] {
  return sy.logs().slice(from);
}

function describe(sy: CliProcess): string {
  return `\n--- stdout ---\n${sy.stdout()}\n--- stderr ---\n${sy.stderr()}`;
}

test('switchyard run: serves, round robin, reloads on change, keeps the last good configuration on bad edits, exits 0 on SIGTERM', async (t) => {
  const [alpha, beta, gamma] = await startServers(t, ['alpha', 'beta', 'gamma']);
  const dir = await manifestDir(t);
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}/`;
  const backendFile = join(dir, 'backend.yaml');
  await writeFile(join(dir, 'frontend.yaml'), frontendYaml(port));
  await writeFile(backendFile, backendYaml([{ name: 'alpha', port: alpha!.port }, { name: 'beta', port: beta!.port }]));

  // One worker: a strict rotation over new connections is a one-thread property (each worker
  // thread rotates on its own; docs/architecture.md, "Multi-core data plane").
  const sy = startRun(t, dir, ['--workers', '1']);

  // Up: curl gets a 200 and the first apply was logged with the listener.
  await eventually(async () => assert.equal((await curl(url)).status, 200), WAIT);
  const applied = sy.logs().find((l) => l.msg === 'configuration applied');
  assert.ok(applied, describe(sy));
  assert.deepEqual(applied.listeners, [`default/www#0 127.0.0.1:${port}`]);

  // Round robin over the two servers: equal weights give a strict rotation.
  const rr = await servedByN(url, 4);
  assert.deepEqual([...new Set(rr)].sort(), ['alpha', 'beta'], `served by ${rr.join(' ')}`);
  for (let i = 1; i < rr.length; i++) assert.notEqual(rr[i], rr[i - 1], `not a rotation: ${rr.join(' ')}`);

  // Reload on change: the Backend now has only the third server.
  await writeFile(backendFile, backendYaml([{ name: 'gamma', port: gamma!.port }]));
  await eventually(async () => assert.equal(await servedBy(url), 'gamma'), WAIT);
  assert.deepEqual(await servedByN(url, 4), ['gamma', 'gamma', 'gamma', 'gamma']);

  // An invalid change: logged with file, resource and field path; gamma keeps serving.
  let mark = sy.logs().length;
  await writeFile(backendFile, backendYaml([{ name: 'alpha', port: 'abc' }]));
  const invalid = await eventually(() => {
    const line = logsSince(sy, mark).find((l) => l.level === ERROR && l.field === 'spec.servers[0].port');
    assert.ok(line, `no error logged for spec.servers[0].port${describe(sy)}`);
    return line;
  }, WAIT);
  assert.equal(invalid.file, 'backend.yaml');
  assert.equal(invalid.resource, 'Backend/default/web');
  assert.match(invalid.msg, /abc/);
  // The warning follows the error line and may arrive in a later chunk of the child's stdout.
  await eventually(
    () =>
      assert.ok(
        logsSince(sy, mark).some((l) => l.msg === 'keeping the last good version of invalid resources' && Array.isArray(l.resources) && l.resources.includes('Backend/default/web')),
        describe(sy),
      ),
    WAIT,
  );
  assert.deepEqual(await servedByN(url, 4), ['gamma', 'gamma', 'gamma', 'gamma']);

  // A YAML syntax error (a tab as indentation on line 6): logged as FILE:LINE:COL; gamma keeps serving.
  mark = sy.logs().length;
  await writeFile(backendFile, `${V}\nkind: Backend\nmetadata: { name: web }\nspec:\n  balance: roundrobin\n\tservers: []\n`);
  const syntax = await eventually(() => {
    const line = logsSince(sy, mark).find((l) => l.level === ERROR && l.msg.startsWith(`${backendFile}:`));
    assert.ok(line, `no syntax error logged for ${backendFile}${describe(sy)}`);
    return line;
  }, WAIT);
  assert.equal(syntax.file, 'backend.yaml');
  assert.ok(syntax.msg.startsWith(`${backendFile}:6:1: `), syntax.msg);
  assert.match(syntax.msg, /tab/i);
  assert.deepEqual(await servedByN(url, 4), ['gamma', 'gamma', 'gamma', 'gamma']);

  // Fixed: the new version applies.
  mark = sy.logs().length;
  await writeFile(backendFile, backendYaml([{ name: 'alpha', port: alpha!.port }]));
  await eventually(async () => assert.equal(await servedBy(url), 'alpha'), WAIT);
  assert.deepEqual(await servedByN(url, 4), ['alpha', 'alpha', 'alpha', 'alpha']);
  // Logged right after the swap, so it may trail the first request served by the new version.
  await eventually(() => assert.ok(logsSince(sy, mark).some((l) => l.msg === 'configuration applied'), describe(sy)), WAIT);

  // SIGTERM: a clean stop, exit code 0.
  const exit = await sy.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, describe(sy));
  assert.ok(sy.logs().some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM'), describe(sy));
  assert.equal(sy.stderr(), '');
});

/**
 * Waits until the process has exited, or has logged "configuration applied" (after which run.ts
 * serves until a signal: it will not exit on its own).
 */
async function exitedOrApplied(sy: CliProcess): Promise<void> {
  await eventually(() => assert.ok(sy.exit() !== null || sy.logs().some((l) => l.msg === 'configuration applied'), 'neither exited nor applied'), WAIT);
}

test('switchyard run on a folder whose only Frontend is invalid: logs the error and exits non-zero (nothing good to serve)', async (t) => {
  const [alpha] = await startServers(t, ['alpha']);
  const dir = await manifestDir(t);
  await writeFile(join(dir, 'frontend.yaml'), frontendYaml(0).replace('port: 0', 'port: "abc"'));
  await writeFile(join(dir, 'backend.yaml'), backendYaml([{ name: 'alpha', port: alpha!.port }]));

  const sy = startRun(t, dir);
  await exitedOrApplied(sy);
  const error = sy.logs().find((l) => l.level === ERROR && l.resource === 'Frontend/default/www');
  assert.ok(error, `the invalid Frontend was not logged${describe(sy)}`);
  assert.equal(error.file, 'frontend.yaml');
  assert.equal(error.field, 'spec.binds[0].port');
  assert.notEqual(
    sy.exit(),
    null,
    `switchyard run started anyway with nothing to serve and keeps running (a SIGTERM would then exit 0); ` +
      `expected it to refuse to start like haproxy with no valid listener${describe(sy)}`,
  );
  assert.notEqual(sy.exit()!.code, 0, describe(sy));
});

test('switchyard run on a path that does not exist: logs it and exits non-zero', async (t) => {
  const dir = await manifestDir(t);
  const missing = join(dir, 'no-such-folder');
  const sy = startRun(t, missing);
  await exitedOrApplied(sy);
  assert.ok(
    sy.logs().some((l) => l.level === ERROR && l.msg === `${missing}: no such file or directory`),
    describe(sy),
  );
  assert.notEqual(sy.exit(), null, `switchyard run started anyway on a missing path and keeps running with no listener${describe(sy)}`);
  assert.notEqual(sy.exit()!.code, 0, describe(sy));
});

test('switchyard run reloads after an editor-style save (temp file renamed over the manifest) and after a later in-place write', async (t) => {
  const [alpha, beta, gamma] = await startServers(t, ['alpha', 'beta', 'gamma']);
  const dir = await manifestDir(t);
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}/`;
  const backendFile = join(dir, 'backend.yaml');
  await writeFile(join(dir, 'frontend.yaml'), frontendYaml(port));
  await writeFile(backendFile, backendYaml([{ name: 'alpha', port: alpha!.port }]));
  const sy = startRun(t, dir);
  await eventually(async () => assert.equal(await servedBy(url), 'alpha'), WAIT);

  // Save as vim, many editors and config tools do: write a temporary file, rename it over the old one.
  const tmp = join(dir, '.backend.yaml.swp');
  await writeFile(tmp, backendYaml([{ name: 'beta', port: beta!.port }]));
  await rename(tmp, backendFile);
  await eventually(async () => assert.equal(await servedBy(url), 'beta'), WAIT);

  // Then an ordinary in-place write of the same file must reload too.
  const mark = sy.logs().length;
  await writeFile(backendFile, backendYaml([{ name: 'gamma', port: gamma!.port }]));
  await eventually(async () => {
    const by = await servedBy(url);
    assert.equal(
      by,
      'gamma',
      `an in-place write after the file was replaced by rename did not reload (still ${by}; log lines since the write: ${logsSince(sy, mark).length})`,
    );
  }, WAIT);
});
