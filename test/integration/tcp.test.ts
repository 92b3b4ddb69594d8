/**
 * TCP mode (layer 4): balancing per connection, bytes both ways, source persistence, and a close
 * when no server is usable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { eventually } from '../helpers/eventually.ts';
import type { FakeTcpServer } from '../helpers/fake-upstream.ts';
import { backend, freePort, healthPolicy, listener, server, startProxy, tcpServers, type Spec } from '../helpers/manifests.ts';
import { queueLength } from '../helpers/runtime-peek.ts';
import { tcpConnect, type TcpClient } from '../helpers/tcp-client.ts';

async function tcpProxy(t: TestContext, servers: FakeTcpServer[], spec: Spec, perServer: Spec[] = []) {
  const port = await freePort();
  const harness = await startProxy(t, [
    backend('db', { mode: 'tcp', servers: servers.map((s, i) => server(s, perServer[i] ?? {})), ...spec }),
    listener('db', port, 'db', { mode: 'tcp' }),
  ]);
  return { harness, port: harness.port('db') };
}

/** Opens a connection, reads the greeting line, closes. */
async function greeting(port: number): Promise<string> {
  const client = await tcpConnect(port);
  try {
    const data = await client.waitFor((d) => d.includes('\n'), 3000);
    return data.trim();
  } finally {
    client.close();
  }
}

test('roundrobin: each new connection gets the next server greeting', async (t) => {
  const servers = await tcpServers(t, ['t1', 't2']);
  const { port } = await tcpProxy(t, servers, { balance: 'roundrobin' });
  const greetings: string[] = [];
  for (let i = 0; i < 6; i++) greetings.push(await greeting(port));
  const first = greetings[0]!;
  const second = first === 't1' ? 't2' : 't1';
  assert.deepEqual(greetings, [first, second, first, second, first, second]);
});

test('bytes flow both ways and a client half-close is passed through', async (t) => {
  const servers = await tcpServers(t, ['echo']);
  const { port } = await tcpProxy(t, servers, { balance: 'roundrobin' });
  const client: TcpClient = await tcpConnect(port);
  t.after(() => client.close());
  await client.waitFor('echo\n');
  client.write('hello\n');
  await client.waitFor('echo\nhello\n');
  // A larger payload, to go through backpressure on both sides.
  const big = 'x'.repeat(256 * 1024) + '\n';
  client.write(big);
  const all = await client.waitFor((d) => d.length >= 'echo\nhello\n'.length + big.length, 10_000);
  assert.equal(all, 'echo\nhello\n' + big);
  // Client FIN -> server FIN (the echo server ends when its input ends) -> proxy ends the client.
  client.socket.end();
  await client.waitEnd();
});

test('balance source pins a client to one server across new connections', async (t) => {
  const servers = await tcpServers(t, ['t1', 't2', 't3']);
  const { port } = await tcpProxy(t, servers, { balance: 'source' });
  const greetings = new Set<string>();
  for (let i = 0; i < 8; i++) greetings.add(await greeting(port));
  assert.equal(greetings.size, 1, [...greetings].join(','));
});

test('leastconn: a long-lived connection keeps its server busy, new connections go elsewhere', async (t) => {
  const servers = await tcpServers(t, ['t1', 't2']);
  const { harness, port } = await tcpProxy(t, servers, { balance: 'leastconn' });
  const held = await tcpConnect(port);
  t.after(() => held.close());
  const busy = (await held.waitFor('\n')).trim();
  const others: string[] = [];
  for (let i = 0; i < 4; i++) {
    others.push(await greeting(port));
    // Wait until the proxy has seen that connection end, so only the held one counts.
    await eventually(() => assert.equal(harness.dataplane.servers().reduce((n, s) => n + s.active, 0), 1));
  }
  assert.ok(others.every((g) => g !== busy), `${busy} is busy but got ${others.join(',')}`);
});

test('no usable server: the connection is closed without data', async (t) => {
  const servers = await tcpServers(t, ['t1']);
  const { port } = await tcpProxy(t, servers, {}, [{ disabled: true }]);
  const client = await tcpConnect(port);
  t.after(() => client.close());
  const data = await client.waitEnd();
  assert.equal(data, '');
  assert.equal(servers[0]!.connections, 0);
});

test('maxConnections 1 in TCP mode queues the second connection until the first ends', async (t) => {
  const servers = await tcpServers(t, ['only']);
  const { harness, port } = await tcpProxy(t, servers, { timeouts: { queue: '5s' } }, [{ maxConnections: 1 }]);
  const first = await tcpConnect(port);
  t.after(() => first.close());
  await first.waitFor('only\n');
  const second = await tcpConnect(port);
  t.after(() => second.close());
  second.write('queued\n');
  // While the first connection lives, the second waits in the proxy's queue.
  await eventually(() => assert.equal(queueLength(harness, 'default/db'), 1));
  assert.equal(servers[0]!.connections, 1);
  assert.equal(second.data, '');
  first.close();
  const data = await second.waitFor('only\nqueued\n');
  assert.equal(data, 'only\nqueued\n');
  assert.equal(servers[0]!.connections, 2);
});

test('a TCP health check takes a stopped server out: new connections all reach the live one', async (t) => {
  const servers = await tcpServers(t, ['t1', 't2']);
  const port = await freePort();
  const harness = await startProxy(t, [
    healthPolicy('tcp-check', { interval: '100ms', timeout: '500ms', rise: 2, fall: 2, tcp: {} }),
    backend('db', { mode: 'tcp', healthPolicyRef: { name: 'tcp-check' }, servers: servers.map((s) => server(s)) }),
    listener('db', port, 'db', { mode: 'tcp' }),
  ]);
  const before = new Set<string>();
  for (let i = 0; i < 4; i++) before.add(await greeting(harness.port('db')));
  assert.deepEqual([...before].sort(), ['t1', 't2']);
  await servers[1]!.stop();
  await eventually(() => assert.equal(harness.dataplane.servers().find((s) => s.name === 't2')?.healthy, false));
  const after: string[] = [];
  for (let i = 0; i < 6; i++) after.push(await greeting(harness.port('db')));
  assert.deepEqual(after, Array(6).fill('t1'));
});

test('TCP queue timeout: a connection that waits longer than timeouts.queue is closed without data', async (t) => {
  const servers = await tcpServers(t, ['only']);
  const { port } = await tcpProxy(t, servers, { timeouts: { queue: '200ms' } }, [{ maxConnections: 1 }]);
  const first = await tcpConnect(port);
  t.after(() => first.close());
  await first.waitFor('only\n');
  const second = await tcpConnect(port);
  t.after(() => second.close());
  const data = await second.waitEnd(5000);
  assert.equal(data, '');
  assert.equal(servers[0]!.connections, 1);
  // The first connection was not disturbed.
  first.write('still\n');
  await first.waitFor('only\nstill\n');
});
