/**
 * The replication flags of the CLI: usage errors name the flag; `switchyard run` processes with one
 * static `--peers` list naming all of them (HAProxy's `peers` section) connect to each other and
 * leave out themselves.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { PeerMeshStats } from '@switchyard/dataplane';
import { runCli, spawnCli, tempDir, type CliProcess } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { freePort } from '../helpers/manifests.ts';

const TOKEN = 'stick-replication-cli-token';
const WAIT = { timeoutMs: 60_000, intervalMs: 50 };
const V = 'apiVersion: switchyard.dev/v1alpha1';

async function folder(t: TestContext, listenPort: number): Promise<{ dir: string; token: string }> {
  const dir = await tempDir('switchyard-stick-replication-cli-');
  t.after(dir.remove);
  const token = join(dir.path, 'token');
  await writeFile(token, `${TOKEN}\n`);
  const manifests = join(dir.path, 'manifests');
  await mkdir(manifests);
  await writeFile(
    join(manifests, 'web.yaml'),
    `${V}
kind: Backend
metadata: { name: web }
spec:
  mode: http
  servers: [ { name: s1, address: 127.0.0.1, port: 9 } ]
---
${V}
kind: Frontend
metadata: { name: www }
spec:
  mode: http
  binds: [ { address: 127.0.0.1, port: ${listenPort} } ]
  defaultBackend: { name: web }
`,
  );
  return { dir: manifests, token };
}

async function stats(url: string): Promise<PeerMeshStats> {
  const res = await fetch(`${url.replace(/^ws/, 'http')}stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as PeerMeshStats;
}

function describe(...processes: CliProcess[]): string {
  return processes.map((sy, i) => `\n--- process ${i} stdout ---\n${sy.stdout().slice(-10_000)}\n--- stderr ---\n${sy.stderr()}`).join('');
}

test('switchyard run with one static --peers list on every host: each connects to the others, not to itself', async (t) => {
  const [p1, p2, l1, l2] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const url1 = `ws://127.0.0.1:${p1}/`;
  const url2 = `ws://127.0.0.1:${p2}/`;
  const peers = `${url1},${url2}`;
  const a = await folder(t, l1);
  const b = await folder(t, l2);
  const start = (name: string, f: { dir: string; token: string }, port: number): CliProcess => {
    const sy = spawnCli(['run', '-f', f.dir, '--workers', '1', '--name', name, '--token-file', f.token, '--peer-listen', `127.0.0.1:${port}`, '--peers', peers, '--log-level', 'info']);
    t.after(() => sy.kill());
    return sy;
  };
  const ra = start('lb-1', a, p1);
  const rb = start('lb-2', b, p2);
  await eventually(async () => {
    const sa = await stats(url1);
    const sb = await stats(url2);
    assert.deepEqual(
      sa.peers.map((p) => [p.node, p.url, p.state, p.inbound]),
      [['lb-2', url2, 'live', true], [null, url1, 'self', false]],
      describe(ra, rb),
    );
    assert.deepEqual(
      sb.peers.map((p) => [p.node, p.url, p.state, p.inbound]),
      [['lb-1', url1, 'live', true], [null, url2, 'self', false]],
      describe(ra, rb),
    );
  }, WAIT);
  assert.deepEqual(await ra.stop('SIGTERM'), { code: 0, signal: null }, describe(ra));
  assert.deepEqual(await rb.stop('SIGTERM'), { code: 0, signal: null }, describe(rb));
  assert.ok(!ra.stdout().includes(TOKEN), 'the token never reaches the log');
});

test('replication usage errors name the flag', async (t) => {
  const dir = await tempDir('switchyard-stick-replication-usage-');
  t.after(dir.remove);
  const token = join(dir.path, 'token');
  await writeFile(token, `${TOKEN}\n`);
  const base = ['dataplane', '--controller', 'ws://127.0.0.1:1', '--token-file', token, '--name', 'x'];
  const cases: [string[], RegExp][] = [
    [[...base, '--peer-listen', 'nonsense'], /--peer-listen: "nonsense" is not HOST:PORT/],
    [[...base, '--peer-listen', '0.0.0.0:70000'], /--peer-listen: "0\.0\.0\.0:70000": port 70000 is out of range/],
    [[...base, '--peer-advertise', 'ws://10.0.0.1:7946/'], /--peer-advertise needs --peer-listen/],
    [[...base, '--peer-listen', ':7946', '--peer-advertise', 'http://10.0.0.1:7946/'], /--peer-advertise: "http:\/\/10\.0\.0\.1:7946\/" must start with ws:\/\/ or wss:\/\//],
    [[...base, '--peers', 'ws://10.0.0.1:7946/,http://10.0.0.2:7946'], /--peers: "http:\/\/10\.0\.0\.2:7946" must start with ws:\/\/ or wss:\/\//],
    [[...base, '--peers', 'nonsense'], /--peers: "nonsense" is not a URL/],
    [['run', '-f', dir.path, '--peers', 'ws://10.0.0.1:7946/'], /run with --peer-listen or --peers needs --token-file FILE/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  // A port that cannot be bound: exit 1, saying why.
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const port = (busy.address() as net.AddressInfo).port;
  const r = await runCli([...base, '--peer-listen', `127.0.0.1:${port}`]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /cannot listen for stick-table peers: listen EADDRINUSE/);
});
