// The control channel client against a scripted fake controller over real websockets; time (backoff,
// heartbeat deadline, health coalescing) runs on a FakeClock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { PROTOCOL_VERSION } from '@switchyard/api';
import type { ServerHealth } from '@switchyard/api';
import { FakeClock, refusedPort } from '../health/test-support.ts';
import { backoffDelay, ControlChannelClient, type ClientEvent, type ControlChannelClientOptions, type HealthSource } from './control-channel-client.ts';
import type { ApplyOutcome, VersionedPush } from './snapshot-applier.ts';
import { FakeController } from './test-support.ts';
import { silentLogger, tcpSnapshot } from '../../../test/helpers/snapshots.ts';

/** An applier that records pushes and answers as told. */
class FakeApplier {
  version: string | null = null;
  readonly pushes: VersionedPush[] = [];
  fail: string | null = null;
  async apply(push: VersionedPush): Promise<ApplyOutcome> {
    this.pushes.push(push);
    if (this.fail !== null) return { ok: false, version: push.version, error: this.fail };
    const skipped = push.version === this.version;
    this.version = push.version;
    return { ok: true, version: push.version, skipped };
  }
}

class FakeHealth implements HealthSource {
  servers: ServerHealth[] = [{ cluster: 'default/web', server: 's1', state: 'up', reason: '' }];
  readonly #listeners = new Set<() => void>();
  healthReport(): ServerHealth[] {
    return this.servers.map((s) => ({ ...s }));
  }
  onHealthChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  change(state: ServerHealth['state']): void {
    this.servers = [{ ...this.servers[0]!, state }];
    for (const l of this.#listeners) l();
  }
  get subscribers(): number {
    return this.#listeners.size;
  }
}

interface Rig {
  client: ControlChannelClient;
  clock: FakeClock;
  applier: FakeApplier;
  health: FakeHealth;
  events: ClientEvent[];
}

function startClient(t: TestContext, options: Partial<ControlChannelClientOptions> & { urls: string[] }): Rig {
  const clock = new FakeClock();
  const applier = new FakeApplier();
  const health = new FakeHealth();
  const client = new ControlChannelClient({
    token: 'tok',
    node: 'dp-1',
    applier,
    health,
    logger: silentLogger(),
    clock,
    random: () => 0,
    backoff: { initialMs: 100, maxMs: 1000 },
    healthCoalesceMs: 200,
    ...options,
  });
  const events: ClientEvent[] = [];
  client.onEvent((e) => events.push(e));
  client.start();
  t.after(() => client.stop());
  return { client, clock, applier, health, events };
}

async function controller(t: TestContext, port = 0): Promise<FakeController> {
  const c = await FakeController.start(port);
  t.after(() => c.close());
  return c;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
}

function ofType<T extends ClientEvent['type']>(events: ClientEvent[], type: T): Extract<ClientEvent, { type: T }>[] {
  return events.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
}

describe('backoffDelay', () => {
  it('is uniform in [ceiling/2, ceiling), the ceiling doubling per attempt up to maxMs', () => {
    const b = { initialMs: 100, maxMs: 1000 };
    const ceilings = [100, 200, 400, 800, 1000, 1000, 1000];
    for (const [attempt, ceiling] of ceilings.entries()) {
      assert.equal(backoffDelay(attempt, b, () => 0), ceiling / 2);
      const high = backoffDelay(attempt, b, () => 0.999999);
      assert.ok(high < ceiling && high > ceiling * 0.99, `attempt ${attempt}: ${high}`);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, b, Math.random);
        assert.ok(d >= ceiling / 2 && d < ceiling, `attempt ${attempt}: ${d} outside [${ceiling / 2}, ${ceiling})`);
      }
    }
    assert.equal(backoffDelay(60, b, () => 0.5), 750, 'no overflow for large attempts');
    assert.equal(backoffDelay(0, b, () => Number.NaN), 50, 'a broken random counts as 0');
    assert.equal(backoffDelay(0, b, () => 1), 50);
  });
});

describe('ControlChannelClient', () => {
  it('says hello with its name, protocol and bearer token; ACKs a push, then sends a health report', async (t) => {
    const fake = await controller(t);
    const rig = startClient(t, { urls: [fake.url] });
    await until(() => fake.received('hello').length === 1);
    assert.equal(fake.last.authorization, 'Bearer tok');
    assert.deepEqual(fake.received('hello')[0], { type: 'hello', protocol: PROTOCOL_VERSION, node: 'dp-1', lastVersion: null });
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    await until(() => rig.client.state.connected);
    assert.deepEqual(rig.client.state, { connected: true, replica: 'c-0', url: fake.url, ackedVersion: null, failures: 0 });
    assert.deepEqual(fake.received('health'), [], 'no report while serving nothing');

    fake.last.send({ type: 'push', version: 'v1', nonce: 'n1', snapshot: tcpSnapshot(1) });
    await until(() => fake.received('health').length === 1);
    assert.deepEqual(fake.last.received.slice(1), [
      { type: 'ack', version: 'v1', nonce: 'n1' },
      { type: 'health', servers: rig.health.servers },
    ]);
    assert.deepEqual(rig.applier.pushes, [{ version: 'v1', snapshot: tcpSnapshot(1) }]);
    assert.equal(rig.client.state.ackedVersion, 'v1');
  });

  it('with a peer server, says where in the hello and delivers peers lists (never itself) as events', async (t) => {
    const fake = await controller(t);
    const rig = startClient(t, { urls: [fake.url], peer: { url: 'ws://10.0.0.5:7946/' } });
    await until(() => fake.received('hello').length === 1);
    assert.deepEqual(fake.received('hello')[0], { type: 'hello', protocol: PROTOCOL_VERSION, node: 'dp-1', lastVersion: null, peer: { url: 'ws://10.0.0.5:7946/' } });
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    const b = { node: 'dp-2', url: 'ws://10.0.0.6:7946/' };
    fake.last.send({ type: 'peers', peers: [b, { node: 'dp-1', url: 'ws://10.0.0.5:7946/' }] });
    await until(() => ofType(rig.events, 'peers').length === 1);
    assert.deepEqual(ofType(rig.events, 'peers'), [{ type: 'peers', peers: [b] }]);
    fake.last.send({ type: 'peers', peers: [] });
    await until(() => ofType(rig.events, 'peers').length === 2);
    assert.deepEqual(ofType(rig.events, 'peers')[1]!.peers, []);
    assert.equal(rig.client.state.connected, true);
  });

  it('without a peer server but replicating, asks for peers with peer: null; without the option the hello is as before', async (t) => {
    const fake = await controller(t);
    startClient(t, { urls: [fake.url], peer: null });
    await until(() => fake.received('hello').length === 1);
    assert.equal(fake.received('hello')[0]!.peer, null);
    const old = await controller(t);
    startClient(t, { urls: [old.url] });
    await until(() => old.received('hello').length === 1);
    assert.ok(!('peer' in old.received('hello')[0]!));
  });

  it('after an ACK, reports health only when the report changed (servers added or removed)', async (t) => {
    const fake = await controller(t);
    const rig = startClient(t, { urls: [fake.url] });
    await until(() => fake.received('hello').length === 1);
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    fake.last.send({ type: 'push', version: 'v1', nonce: 'n1', snapshot: tcpSnapshot(1) });
    await until(() => fake.received('health').length === 1);
    fake.last.send({ type: 'push', version: 'v2', nonce: 'n2', snapshot: tcpSnapshot(2) });
    await until(() => fake.received('ack').length === 2);
    rig.health.servers = [...rig.health.servers, { cluster: 'default/web', server: 's2', state: 'up', reason: '' }];
    fake.last.send({ type: 'push', version: 'v3', nonce: 'n3', snapshot: tcpSnapshot(3) });
    await until(() => fake.received('health').length === 2);
    assert.deepEqual(
      fake.last.received.slice(1).map((m) => `${m.type}${'version' in m ? ` ${m.version}` : ''}`),
      ['ack v1', 'health', 'ack v2', 'ack v3', 'health'],
      'the unchanged report after v2 is not sent again',
    );
    assert.equal((fake.received('health')[1] as { servers: unknown[] }).servers.length, 2);
  });

  it('NACKs with the applier error and sends no health report for it', async (t) => {
    const fake = await controller(t);
    const rig = startClient(t, { urls: [fake.url] });
    await until(() => fake.received('hello').length === 1);
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    rig.applier.fail = 'listener default/web#0 on 127.0.0.1:80: EACCES';
    fake.last.send({ type: 'push', version: 'v1', nonce: 'n1', snapshot: {} });
    await until(() => fake.received('nack').length === 1);
    assert.deepEqual(fake.received('nack'), [{ type: 'nack', version: 'v1', nonce: 'n1', error: 'listener default/web#0 on 127.0.0.1:80: EACCES' }]);
    assert.deepEqual(fake.received('health'), []);
    assert.deepEqual(ofType(rig.events, 'answered').map((e) => e.outcome.ok), [false]);
  });

  it('coalesces health changes into one full report per window, only while connected', async (t) => {
    const fake = await controller(t);
    const rig = startClient(t, { urls: [fake.url] });
    rig.health.change('down'); // not connected yet: nothing is scheduled
    assert.equal(rig.clock.pending, 1, 'only the connect deadline is pending');
    await until(() => fake.received('hello').length === 1);
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    await until(() => rig.client.state.connected);

    rig.health.change('down');
    rig.health.change('up');
    rig.health.change('maint');
    rig.clock.advance(199);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ofType(rig.events, 'health-sent').length, 0);
    rig.clock.advance(1);
    assert.equal(ofType(rig.events, 'health-sent').length, 1);
    await until(() => fake.received('health').length === 1);
    assert.deepEqual(fake.received('health')[0], { type: 'health', servers: [{ cluster: 'default/web', server: 's1', state: 'maint', reason: '' }] });

    // The next change opens a new window.
    rig.health.change('up');
    rig.clock.advance(200);
    await until(() => fake.received('health').length === 2);
  });

  it('rotates through the controller URLs with growing jittered delays until one answers', async (t) => {
    const dead1 = `ws://127.0.0.1:${await refusedPort()}`;
    const dead2 = `ws://127.0.0.1:${await refusedPort()}/channel`;
    const fake = await controller(t);
    const rig = startClient(t, { urls: [dead1, dead2, fake.url], random: () => 0 });

    await until(() => ofType(rig.events, 'disconnected').length === 1);
    assert.deepEqual(ofType(rig.events, 'disconnected')[0]!.retryInMs, 50, 'first retry: ceiling 100, jitter 0 -> 50');
    assert.equal(rig.client.state.failures, 1);
    assert.equal(rig.client.state.url, null);
    rig.clock.advance(50);
    await until(() => ofType(rig.events, 'disconnected').length === 2);
    assert.deepEqual(ofType(rig.events, 'disconnected')[1]!.retryInMs, 100, 'second retry: ceiling 200');
    rig.clock.advance(100);
    await until(() => fake.received('hello').length === 1);
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    await until(() => rig.client.state.connected);
    assert.deepEqual(ofType(rig.events, 'connecting').map((e) => [e.url, e.attempt]), [
      [dead1, 0],
      [dead2, 1],
      [fake.url, 2],
    ]);
  });

  it('starts at a random URL, so data planes spread over the replicas', async (t) => {
    const a = await controller(t);
    const b = await controller(t);
    const rig = startClient(t, { urls: [a.url, b.url], random: () => 0.6 });
    await until(() => b.received('hello').length === 1);
    assert.equal(a.connections.length, 0);
    assert.equal(ofType(rig.events, 'connecting')[0]!.url, b.url);
  });

  it('keeps retrying with backoff when the controller refuses the token (401)', async (t) => {
    const fake = await controller(t);
    fake.refuse = true;
    const rig = startClient(t, { urls: [fake.url] });
    await until(() => ofType(rig.events, 'disconnected').length === 1);
    rig.clock.advance(50);
    await until(() => ofType(rig.events, 'disconnected').length === 2);
    assert.equal(fake.attempts, 2);
    assert.equal(rig.client.state.failures, 2);
    fake.refuse = false;
    rig.clock.advance(100);
    await until(() => fake.received('hello').length === 1);
  });

  it('judges the controller dead after three heartbeats without a ping, and reconnects announcing its version', async (t) => {
    const fake = await controller(t);
    const rig = startClient(t, { urls: [fake.url] });
    await until(() => fake.received('hello').length === 1);
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    await until(() => rig.client.state.connected);
    fake.last.send({ type: 'push', version: 'v1', nonce: 'n1', snapshot: tcpSnapshot(1) });
    await until(() => fake.received('ack').length === 1);

    // A ping moves the deadline: the client has seen it once the server has its pong.
    rig.clock.advance(2500);
    let pongs = 0;
    fake.last.ws.on('pong', () => pongs++);
    fake.last.ws.ping();
    await until(() => pongs === 1);
    rig.clock.advance(2999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(rig.client.state.connected, true, 'within three intervals of the last ping');
    rig.clock.advance(1);
    await until(() => ofType(rig.events, 'disconnected').length === 1);
    assert.equal(rig.client.state.connected, false);
    assert.equal(rig.client.state.ackedVersion, 'v1', 'still serving');
    assert.equal(rig.client.state.failures, 0, 'a healthy stream that died is not a failed attempt');

    rig.clock.advance(ofType(rig.events, 'disconnected')[0]!.retryInMs!);
    await until(() => fake.connections.length === 2 && fake.received('hello').length === 1);
    assert.deepEqual(fake.received('hello')[0], { type: 'hello', protocol: PROTOCOL_VERSION, node: 'dp-1', lastVersion: 'v1' });
    // Serving something: a health report follows the welcome.
    fake.last.send({ type: 'welcome', replica: 'c-1', heartbeatMs: 1000 });
    await until(() => fake.received('health').length === 1);
  });

  it('backs off when streams end before proving healthy (two data planes with one name replacing each other)', async (t) => {
    const fake = await controller(t);
    const rig = startClient(t, { urls: [fake.url] });
    for (let i = 1; i <= 3; i++) {
      await until(() => fake.connections.length === i && fake.received('hello').length === 1);
      fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
      await until(() => rig.client.state.connected);
      fake.last.ws.close(4002, 'replaced');
      await until(() => ofType(rig.events, 'disconnected').length === i);
      rig.clock.advance(ofType(rig.events, 'disconnected')[i - 1]!.retryInMs!);
    }
    assert.deepEqual(ofType(rig.events, 'disconnected').map((e) => [e.code, e.retryInMs]), [
      [4002, 50],
      [4002, 100],
      [4002, 200],
    ]);

    // A stream that got a ping is healthy: losing it restarts the backoff, unless the controller
    // ended it for a protocol reason (4000-4999).
    await until(() => fake.connections.length === 4 && fake.received('hello').length === 1);
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    let pongs = 0;
    fake.last.ws.on('pong', () => pongs++);
    fake.last.ws.ping();
    await until(() => pongs === 1);
    assert.equal(rig.client.state.failures, 0);
    fake.last.ws.close(4002, 'replaced');
    await until(() => ofType(rig.events, 'disconnected').length === 4);
    assert.equal(ofType(rig.events, 'disconnected')[3]!.retryInMs, 50);
    rig.clock.advance(50);
    await until(() => fake.connections.length === 5 && fake.received('hello').length === 1);
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    pongs = 0;
    fake.last.ws.on('pong', () => pongs++);
    fake.last.ws.ping();
    await until(() => pongs === 1);
    fake.last.ws.close(1001, 'going away');
    await until(() => ofType(rig.events, 'disconnected').length === 5);
    assert.equal(rig.client.state.failures, 0);
  });

  it('closes (1002) and reconnects when the controller sends an invalid message', async (t) => {
    const fake = await controller(t);
    const rig = startClient(t, { urls: [fake.url] });
    await until(() => fake.received('hello').length === 1);
    fake.last.send({ type: 'welcome', replica: 'c-0', heartbeatMs: 1000 });
    await until(() => rig.client.state.connected);
    const closed = new Promise<number>((resolve) => fake.last.ws.on('close', (code) => resolve(code)));
    fake.last.ws.send(JSON.stringify({ type: 'push', version: 'v1', nonce: '', snapshot: {} }));
    assert.equal(await closed, 1002);
    await until(() => ofType(rig.events, 'disconnected').length === 1);
    assert.deepEqual(rig.applier.pushes, [], 'nothing applied');
    rig.clock.advance(ofType(rig.events, 'disconnected')[0]!.retryInMs!);
    await until(() => fake.connections.length === 2);
  });

  it('stop() closes the connection, stops reconnecting and unsubscribes from health', async (t) => {
    const fake = await controller(t);
    const rig = startClient(t, { urls: [fake.url] });
    await until(() => fake.received('hello').length === 1);
    assert.equal(rig.health.subscribers, 1);
    const closed = new Promise<number>((resolve) => fake.last.ws.on('close', (code) => resolve(code)));
    await rig.client.stop();
    assert.equal(await closed, 1000);
    assert.equal(rig.health.subscribers, 0);
    assert.equal(rig.clock.pending, 0, 'no retry, deadline or health timer left');
    assert.deepEqual(ofType(rig.events, 'disconnected').map((e) => e.retryInMs), [null]);
  });
});
