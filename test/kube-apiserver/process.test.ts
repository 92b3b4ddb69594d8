/**
 * The emulator as a separate process, as end-to-end tests and `make dev-cluster` run it: one
 * readiness line on stdout, a kubeconfig written before it, a clean exit on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT, tempDir } from '../helpers/cli-process.ts';

async function runUntilReady(args: string[]): Promise<{ url: string; stdout: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /^kube-apiserver listening on (http:\/\/\S+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`exited ${code} before ready: ${out}`)));
  });
  return {
    url,
    stdout: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

test('main.ts: prints the listening line, writes the kubeconfig, stops on SIGTERM', async (t) => {
  const dir = await tempDir('kube-apiserver-');
  t.after(() => dir.remove());
  const kubeconfig = join(dir.path, 'kubeconfig');
  const proc = await runUntilReady([join(REPO_ROOT, 'test/kube-apiserver/main.ts'), '--port', '0', '--kubeconfig', kubeconfig]);
  assert.match(proc.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const config = parseYaml(await readFile(kubeconfig, 'utf8'));
  assert.equal(config.clusters[0].cluster.server, proc.url);
  assert.equal((await stat(kubeconfig)).mode & 0o777, 0o600);
  const ns = (await (await fetch(`${proc.url}/api/v1/namespaces/default`)).json()) as { metadata: { name: string } };
  assert.equal(ns.metadata.name, 'default');
  assert.equal(await proc.stop(), 0);
});

test('scripts/dev-cluster.ts: the same server with a kubeconfig in --dir', async (t) => {
  const dir = await tempDir('dev-cluster-');
  t.after(() => dir.remove());
  const proc = await runUntilReady([join(REPO_ROOT, 'scripts/dev-cluster.ts'), '--port', '0', '--dir', dir.path]);
  const config = parseYaml(await readFile(join(dir.path, 'kubeconfig'), 'utf8'));
  assert.equal(config.clusters[0].cluster.server, proc.url);
  assert.equal((await fetch(`${proc.url}/version`)).status, 200);
  assert.equal(await proc.stop(), 0);
});
