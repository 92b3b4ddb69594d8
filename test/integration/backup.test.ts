/**
 * Backup servers: used only when every primary is down; nothing usable means 503.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from '../helpers/dataplane-harness.ts';
import { eventually } from '../helpers/eventually.ts';
import { get, servedBy } from '../helpers/http-client.ts';
import { backend, freePort, healthPolicy, httpServers, listener, server, startProxy, tally, yaml } from '../helpers/manifests.ts';

const check = healthPolicy('hc', { interval: '100ms', timeout: '500ms', rise: 2, fall: 2, http: { path: '/healthz' } });

function healthy(harness: Harness, name: string): boolean {
  const s = harness.dataplane.servers().find((x) => x.name === name);
  assert.ok(s, `server ${name} not found`);
  return s.healthy;
}

test('backup takes traffic only while both primaries are down, and none once a primary is back', async (t) => {
  const [p1, p2, b1] = await httpServers(t, ['p1', 'p2', 'b1']);
  const port = await freePort();
  const harness = await startProxy(t, [
    check,
    backend('web', { healthPolicyRef: { name: 'hc' }, servers: [server(p1!), server(p2!), server(b1!, { backup: true })] }),
    listener('web', port, 'web'),
  ]);
  const front = harness.port('web');

  assert.deepEqual(tally(await servedBy(front, 20)), { p1: 10, p2: 10 });
  assert.equal(b1!.requests.length, 0);

  p1!.healthStatus = 500;
  p2!.healthStatus = 500;
  await eventually(() => assert.ok(!healthy(harness, 'p1') && !healthy(harness, 'p2'), 'primaries still UP'));
  const onBackup = await servedBy(front, 10);
  assert.deepEqual(onBackup, Array(10).fill('b1'));

  p1!.healthStatus = 200;
  await eventually(() => assert.ok(healthy(harness, 'p1'), 'p1 still DOWN'));
  const backupSeen = b1!.requests.length;
  const afterRestore = await servedBy(front, 10);
  assert.deepEqual(afterRestore, Array(10).fill('p1'));
  assert.equal(b1!.requests.length, backupSeen, 'the backup got traffic while a primary was UP');

  // Nothing usable at all: 503.
  p1!.healthStatus = 500;
  b1!.healthStatus = 500;
  await eventually(() => assert.ok(!healthy(harness, 'p1') && !healthy(harness, 'b1'), 'servers still UP'));
  const res = await get(front, '/');
  assert.equal(res.status, 503);
  assert.match(res.body, /503 Service Unavailable/);
});

test('with primaries in maintenance only the first backup is used, unless allBackups is set', async (t) => {
  const [p1, b1, b2] = await httpServers(t, ['p1', 'b1', 'b2']);
  const port = await freePort();
  const docs = (allBackups: boolean) => [
    backend('web', { allBackups, servers: [server(p1!, { disabled: true }), server(b1!, { backup: true }), server(b2!, { backup: true })] }),
    listener('web', port, 'web'),
  ];
  const harness = await startProxy(t, docs(false));
  assert.deepEqual(await servedBy(harness.port('web'), 6), Array(6).fill('b1'));
  await harness.apply(yaml(...docs(true)));
  assert.deepEqual(tally(await servedBy(harness.port('web'), 6)), { b1: 3, b2: 3 });
  assert.equal(p1!.requests.length, 0);
});

test('no usable server answers 503 and never connects anywhere', async (t) => {
  const [only] = await httpServers(t, ['only']);
  const port = await freePort();
  const harness = await startProxy(t, [backend('web', { servers: [server(only!, { disabled: true })] }), listener('web', port, 'web')]);
  const res = await get(harness.port('web'), '/');
  assert.equal(res.status, 503);
  assert.equal(res.headers.connection, 'close');
  assert.equal(only!.requests.length, 0);
});

test('an empty Backend answers 503', async (t) => {
  const port = await freePort();
  const harness = await startProxy(t, [backend('web', { servers: [] }), listener('web', port, 'web')]);
  const res = await get(harness.port('web'), '/');
  assert.equal(res.status, 503);
});
