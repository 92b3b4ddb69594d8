import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { tcpSnapshot } from '../../../test/helpers/snapshots.ts';
import type { ListenerRuntime } from '../proxy/listener-runtime.ts';
import { ACCEPT_SOCKETS, Listener } from './listener.ts';

/** A held listener (connections wait, unread, and are counted in `parked`) on a free port. */
async function heldListener(): Promise<Listener> {
  const runtime: ListenerRuntime = {
    config: tcpSnapshot(1).listeners[0]!,
    cluster: null,
    clusters: new Map(),
    forwardFor: null,
    rules: null,
    tables: { get: () => undefined },
    accessLog: null,
  };
  const listener = new Listener(runtime, { held: true });
  await listener.listen();
  return listener;
}

const nextCheckPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a burst of connections is accepted several per event-loop iteration, not one', async (t) => {
  const listener = await heldListener();
  t.after(() => listener.drain());
  // Another thread opens the connections while this one's loop is blocked, so they all wait in
  // the kernel's accept queues when the loop resumes.
  const count = 64;
  const done = new Int32Array(new SharedArrayBuffer(4));
  const client = new Worker(
    `const net = require('node:net');
     const { workerData: { port, count, done } } = require('node:worker_threads');
     const sockets = [];
     let connected = 0;
     for (let i = 0; i < count; i++) {
       const s = net.connect(port, '127.0.0.1', () => { if (++connected === count) { Atomics.store(done, 0, 1); Atomics.notify(done, 0); } });
       s.on('error', () => {});
       sockets.push(s);
     }`,
    { eval: true, workerData: { port: listener.port, count, done } },
  );
  t.after(() => client.terminate());
  assert.equal(Atomics.wait(done, 0, 0, 10_000), 'ok', 'the client thread connected');

  // Between two check phases the loop polls exactly once.
  await nextCheckPhase();
  const before = listener.parked.value;
  await nextCheckPhase();
  const inOnePoll = listener.parked.value - before;
  // One listening socket gives exactly 1 (libuv accepts once per socket and wakeup); 64
  // connections hashed over ACCEPT_SOCKETS sockets leave several of them with one waiting.
  assert.ok(inOnePoll > 1 && inOnePoll <= ACCEPT_SOCKETS, `accepted ${inOnePoll} in one poll`);
  // And none is lost: every connection is accepted in the end.
  while (listener.parked.value < count) await nextCheckPhase();
  assert.equal(listener.parked.value, count);
});

test('the sockets share the port the first one got, and a port taken by another socket fails the listener', async (t) => {
  const listener = await heldListener();
  t.after(() => listener.drain());
  assert.notEqual(listener.port, 0);

  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const taken = (blocker.address() as net.AddressInfo).port;
  const runtime: ListenerRuntime = { ...listener.runtime, config: tcpSnapshot(1, taken).listeners[0]! };
  await assert.rejects(new Listener(runtime).listen(), /EADDRINUSE/);
});
