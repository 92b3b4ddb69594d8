/**
 * `switchyard dataplane` as a real process, programmed by a ChannelServer living in the test:
 * serves nothing until its first snapshot, then traffic through it with curl; keeps serving while
 * the controller is away and reconnects when it is back; refused with a wrong token; stops on
 * SIGTERM. And the usage errors, which name the missing flag.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { SnapshotCache, objectKey, translate, type VersionedSnapshot } from '@switchyard/controller';
import { ChannelServer } from '@switchyard/controller/channel-server';
import { createLogger } from '@switchyard/dataplane';
import { curl, runCli, spawnCli, tempDir, type CliProcess } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { backend, freePort, httpServers, listener, server, type Manifest } from '../helpers/manifests.ts';

const TOKEN = 'cli-channel-token';
/** Generous: the process has to start (Node, type stripping) and back off between attempts. */
const WAIT = { timeoutMs: 30_000, intervalMs: 50 };

async function tokenFile(t: TestContext, token: string): Promise<string> {
  const dir = await tempDir('switchyard-channel-cli-');
  t.after(dir.remove);
  const file = join(dir.path, 'token');
  await writeFile(file, `${token}\n`);
  return file;
}

async function startController(t: TestContext, port = 0, cache = new SnapshotCache()): Promise<{ server: ChannelServer; cache: SnapshotCache; port: number }> {
  const server = new ChannelServer({ cache, replica: 'test-controller', token: () => TOKEN, logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  const address = await server.listen('127.0.0.1', port);
  t.after(() => server.close());
  return { server, cache, port: address.port };
}

function publish(cache: SnapshotCache, docs: Manifest[]): VersionedSnapshot {
  const { snapshot, results } = translate({ objects: docs.map((d, i) => ({ object: d, source: `test#${i}` })) });
  assert.deepEqual(results.flatMap((r) => r.errors), []);
  const published = cache.publish(snapshot, results.map((r) => [objectKey(r.kind, r.namespace, r.name), r.generation]));
  assert.ok(published);
  return published;
}

function startDataplane(t: TestContext, args: string[]): CliProcess {
  const sy = spawnCli(['dataplane', ...args, '--log-level', 'info']);
  t.after(() => sy.kill());
  return sy;
}

function describe(sy: CliProcess): string {
  return `\n--- stdout ---\n${sy.stdout()}\n--- stderr ---\n${sy.stderr()}`;
}

test('switchyard dataplane: empty until the first snapshot, serves it, survives the controller going away, stops on SIGTERM', async (t) => {
  const [alpha, beta] = await httpServers(t, ['alpha', 'beta']);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const controller = await startController(t);
  const file = await tokenFile(t, TOKEN);
  // A URL without a path, as the issue asks.
  const sy = startDataplane(t, ['--controller', `ws://127.0.0.1:${controller.port}`, '--token-file', file, '--name', 'dp-cli']);

  await eventually(() => assert.deepEqual(controller.server.list().map((s) => [s.node, s.ackedVersion]), [['dp-cli', null]], describe(sy)), WAIT);
  assert.notEqual((await curl(url, { maxTimeSeconds: 2 })).exitCode, 0, 'nothing is served before the first snapshot');

  const v1 = publish(controller.cache, [backend('web', { servers: [server(alpha!)] }), listener('www', port, 'web')]);
  await eventually(() => assert.equal(controller.server.list()[0]?.ackedVersion, v1.version, describe(sy)), WAIT);
  const r = await curl(url);
  assert.equal(r.status, 200, describe(sy));
  assert.equal(r.body.trim(), 'alpha');
  await eventually(() => assert.deepEqual(controller.server.list()[0]?.health, [{ cluster: 'default/web', server: 'alpha', state: 'up', reason: '' }]), WAIT);
  assert.ok(sy.logs().some((l) => l.msg === 'connected to the controller' && l.replica === 'test-controller'), describe(sy));

  // The controller goes away: traffic keeps flowing.
  await controller.server.close();
  await eventually(() => assert.ok(sy.logs().some((l) => l.msg === 'lost the controller; still serving the last good snapshot'), describe(sy)), WAIT);
  assert.equal((await curl(url)).body.trim(), 'alpha');

  // Back on the same port with a newer world: the data plane reconnects and applies it.
  const back = await startController(t, controller.port);
  const v2 = publish(back.cache, [backend('web', { servers: [server(beta!)] }), listener('www', port, 'web')]);
  await eventually(() => assert.equal(back.server.list()[0]?.ackedVersion, v2.version, describe(sy)), WAIT);
  assert.equal((await curl(url)).body.trim(), 'beta');

  const exit = await sy.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, describe(sy));
  assert.ok(sy.logs().some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM'), describe(sy));
  assert.ok(!sy.stdout().includes(TOKEN), 'the token never reaches the log');
  await eventually(() => assert.equal(back.server.connectedCount, 0), WAIT);
});

test('switchyard dataplane with a wrong token is refused and says so', async (t) => {
  const controller = await startController(t);
  const file = await tokenFile(t, 'not-the-token');
  const sy = startDataplane(t, ['--controller', `ws://127.0.0.1:${controller.port}/any/path`, '--token-file', file, '--name', 'dp-cli']);
  await eventually(() => assert.ok(sy.logs().filter((l) => l.msg === 'the controller refused our token (401)').length >= 2, describe(sy)), WAIT);
  assert.equal(controller.server.connectedCount, 0);
  assert.ok(!sy.stdout().includes('not-the-token'), 'the token never reaches the log');
  assert.deepEqual(await sy.stop('SIGTERM'), { code: 0, signal: null });
});

test('switchyard dataplane usage errors name the flag', async (t) => {
  const file = await tokenFile(t, TOKEN);
  const cases: [string[], RegExp][] = [
    [['--token-file', file, '--name', 'x'], /dataplane needs --controller URL/],
    [['--controller', 'ws://127.0.0.1:1', '--name', 'x'], /dataplane needs --token-file FILE/],
    [['--controller', 'ws://127.0.0.1:1', '--token-file', file], /dataplane needs --name NAME/],
    [['--controller', 'http://127.0.0.1:1', '--token-file', file, '--name', 'x'], /--controller: "http:\/\/127\.0\.0\.1:1" must start with ws:\/\/ or wss:\/\//],
    [['--controller', 'nonsense', '--token-file', file, '--name', 'x'], /--controller: "nonsense" is not a URL/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['dataplane', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const missing = await runCli(['dataplane', '--controller', 'ws://127.0.0.1:1', '--token-file', join(file, '..', 'nope'), '--name', 'x']);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /cannot read the token file/);
});
