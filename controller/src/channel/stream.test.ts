import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode, PROTOCOL_VERSION } from '@switchyard/api';
import { SnapshotCache } from './snapshot-cache.ts';
import { encodePush, MISSED_PONGS_LIMIT, Stream, truncateReason, type AckEvent, type HealthEvent, type NackEvent } from './stream.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { RecordingTransport } from './test-support.ts';
import { silentLogger, tcpSnapshot } from '../../../test/helpers/snapshots.ts';
import type { VersionedSnapshot } from './versioned-snapshot.ts';

const HEARTBEAT = 1000;
const HELLO_TIMEOUT = 5000;

interface Rig {
  stream: Stream;
  transport: RecordingTransport;
  clock: ManualClock;
  cache: SnapshotCache;
  acks: AckEvent[];
  nacks: NackEvent[];
  health: HealthEvent[];
  changes: number;
  identified: number;
  /** Publishes a snapshot whose only server listens on `port` and offers it to the stream. */
  publish(port: number): VersionedSnapshot;
  say(message: Record<string, unknown>): void;
  hello(lastVersion?: string | null): void;
}

function rig(): Rig {
  const transport = new RecordingTransport();
  const clock = new ManualClock();
  const cache = new SnapshotCache();
  let n = 0;
  const r: Rig = {
    transport,
    clock,
    cache,
    acks: [],
    nacks: [],
    health: [],
    changes: 0,
    identified: 0,
    stream: undefined as unknown as Stream,
    publish(port) {
      const published = cache.publish(tcpSnapshot(port), [])!;
      r.stream.offer(published);
      return published;
    },
    say(message) {
      r.stream.receive(JSON.stringify(message));
    },
    hello(lastVersion = null) {
      r.say({ type: 'hello', protocol: PROTOCOL_VERSION, node: 'dp-1', lastVersion });
    },
  };
  r.stream = new Stream({
    replica: 'controller-0',
    transport,
    clock,
    logger: silentLogger(),
    heartbeatMs: HEARTBEAT,
    helloTimeoutMs: HELLO_TIMEOUT,
    current: () => cache.current,
    nonce: () => `n${++n}`,
    events: {
      identified: () => r.identified++,
      changed: () => r.changes++,
      ack: (e) => r.acks.push(e),
      nack: (e) => r.nacks.push(e),
      health: (e) => r.health.push(e),
    },
  });
  return r;
}

describe('Stream', () => {
  it('welcomes a hello with the replica and heartbeat, then pushes the current snapshot; nothing before the hello', () => {
    const r = rig();
    const v1 = r.cache.publish(tcpSnapshot(1), [])!;
    r.stream.offer(v1);
    assert.deepEqual(r.transport.sent(), [], 'nothing is sent before the hello');
    r.hello();
    assert.equal(r.identified, 1);
    assert.equal(r.stream.node, 'dp-1');
    const [welcome, push] = r.transport.sent();
    assert.deepEqual(welcome, { type: 'welcome', replica: 'controller-0', heartbeatMs: HEARTBEAT });
    assert.deepEqual(push, { type: 'push', version: v1.version, nonce: 'n1', snapshot: JSON.parse(JSON.stringify(v1.snapshot)) });
    assert.deepEqual(r.stream.status(), { node: 'dp-1', replica: 'controller-0', ackedVersion: null, nack: null, health: [], updatedAt: r.clock.now() });
  });

  it('pushes nothing until the first snapshot exists', () => {
    const r = rig();
    r.hello();
    assert.deepEqual(r.transport.sent('push'), []);
    const v1 = r.publish(1);
    assert.equal(r.transport.lastPush().version, v1.version);
  });

  it('keeps at most one push outstanding; newer snapshots replace the waiting one instead of queueing', () => {
    const r = rig();
    r.hello();
    const v1 = r.publish(1);
    r.publish(2);
    r.publish(3);
    const v4 = r.publish(4);
    assert.equal(r.transport.sent('push').length, 1, 'only the first push went out');
    assert.equal(r.stream.outstanding?.version, v1.version);

    r.clock.advanceSync(40);
    r.say({ type: 'ack', version: v1.version, nonce: 'n1' });
    // Exactly one more push, of the newest snapshot: v2 and v3 were never sent.
    const pushes = r.transport.sent('push');
    assert.deepEqual(pushes.map((p) => p.version), [v1.version, v4.version]);
    assert.equal(pushes[1]!.nonce, 'n2');
    assert.deepEqual(r.acks, [{ node: 'dp-1', version: v1.version, latencyMs: 40 }]);
    assert.equal(r.stream.status()!.ackedVersion, v1.version);

    r.say({ type: 'ack', version: v4.version, nonce: 'n2' });
    assert.equal(r.stream.outstanding, null);
    assert.equal(r.stream.status()!.ackedVersion, v4.version);
    assert.equal(r.transport.sent('push').length, 2, 'nothing more to send');
  });

  it('ignores an ack or nack whose nonce is not outstanding (stale), and keeps waiting for the real one', () => {
    const r = rig();
    r.hello();
    const v1 = r.publish(1);
    const changes = r.changes;
    r.say({ type: 'ack', version: v1.version, nonce: 'not-the-nonce' });
    r.say({ type: 'nack', version: v1.version, nonce: 'old', error: 'x' });
    assert.equal(r.stream.outstanding?.nonce, 'n1');
    assert.equal(r.stream.status()!.ackedVersion, null);
    assert.deepEqual(r.acks, []);
    assert.deepEqual(r.nacks, []);
    assert.equal(r.changes, changes);
    assert.equal(r.stream.phase, 'open', 'a stale answer is not a protocol error');

    r.say({ type: 'ack', version: v1.version, nonce: 'n1' });
    assert.equal(r.stream.status()!.ackedVersion, v1.version);
    // The same ack again is stale now.
    r.say({ type: 'ack', version: v1.version, nonce: 'n1' });
    assert.equal(r.acks.length, 1);
  });

  it('records a nack, does not push that version again, and clears the nack at the next ack', () => {
    const r = rig();
    r.hello();
    const v1 = r.publish(1);
    r.say({ type: 'ack', version: v1.version, nonce: 'n1' });
    const v2 = r.publish(2);
    r.say({ type: 'nack', version: v2.version, nonce: 'n2', error: 'listener default/web#0 on 127.0.0.1:2: EADDRINUSE' });
    assert.deepEqual(r.nacks, [{ node: 'dp-1', version: v2.version, error: 'listener default/web#0 on 127.0.0.1:2: EADDRINUSE' }]);
    const status = r.stream.status()!;
    assert.equal(status.ackedVersion, v1.version, 'still serving v1');
    assert.deepEqual(status.nack, { version: v2.version, error: 'listener default/web#0 on 127.0.0.1:2: EADDRINUSE' });
    assert.equal(r.stream.outstanding, null);
    assert.equal(r.transport.sent('push').length, 2, 'the nacked version is not pushed again');

    const v3 = r.publish(3);
    r.say({ type: 'ack', version: v3.version, nonce: 'n3' });
    assert.equal(r.stream.status()!.nack, null);
    assert.equal(r.stream.status()!.ackedVersion, v3.version);
  });

  it('counts hello.lastVersion equal to the current version as acked, without a push', () => {
    const r = rig();
    const v1 = r.cache.publish(tcpSnapshot(1), [])!;
    r.hello(v1.version);
    assert.deepEqual(r.transport.sent('push'), []);
    assert.equal(r.stream.status()!.ackedVersion, v1.version);
    assert.deepEqual(r.acks, [], 'no push, so no push-to-ack latency');
    const v2 = r.publish(2);
    assert.equal(r.transport.lastPush().version, v2.version);
  });

  it('pushes the current version to a data plane announcing an older one', () => {
    const r = rig();
    r.cache.publish(tcpSnapshot(1), []);
    const v2 = r.cache.publish(tcpSnapshot(2), [])!;
    r.hello('some-older-version');
    assert.equal(r.stream.status()!.ackedVersion, 'some-older-version');
    assert.equal(r.transport.lastPush().version, v2.version);
  });

  it('records health reports', () => {
    const r = rig();
    r.hello();
    r.clock.advanceSync(5);
    const servers = [{ cluster: 'default/web', server: 's1', state: 'down', reason: 'L4CON: Layer4 connection problem' }];
    r.say({ type: 'health', servers });
    assert.deepEqual(r.health, [{ node: 'dp-1', servers }]);
    assert.deepEqual(r.stream.status()!.health, servers);
    assert.equal(r.stream.status()!.updatedAt, r.clock.now());
  });

  it('closes with 4000 when the first message is not a hello, naming the field', () => {
    const r = rig();
    r.say({ type: 'ack', version: 'v', nonce: 'n' });
    assert.equal(r.stream.phase, 'closed');
    const [close] = r.transport.closes();
    assert.equal(close!.code, CloseCode.BadHello);
    assert.match(close!.reason, /^hello: type: /);

    const r2 = rig();
    r2.say({ type: 'hello', protocol: PROTOCOL_VERSION, node: '', lastVersion: null });
    assert.equal(r2.transport.closes()[0]!.code, CloseCode.BadHello);
    assert.match(r2.transport.closes()[0]!.reason, /^hello: node: /);

    const r3 = rig();
    r3.stream.receive('{nope');
    assert.match(r3.transport.closes()[0]!.reason, /^hello: not JSON/);
  });

  it('closes with 4000 when no hello arrives in time', () => {
    const r = rig();
    r.clock.advanceSync(HELLO_TIMEOUT - 1);
    assert.equal(r.stream.phase, 'awaiting-hello');
    r.clock.advanceSync(1);
    assert.deepEqual(r.transport.closes(), [{ code: CloseCode.BadHello, reason: `no hello within ${HELLO_TIMEOUT}ms` }]);

    const ok = rig();
    ok.hello();
    ok.clock.advanceSync(HELLO_TIMEOUT * 2);
    assert.deepEqual(ok.transport.closes(), []);
    assert.equal(ok.clock.pending, 0, 'the hello timer was cleared');
  });

  it('closes with 4001 naming the field on an invalid message, a second hello, or an answer for the wrong version', () => {
    const bad = rig();
    bad.hello();
    bad.say({ type: 'health', servers: [{ cluster: 'c', server: 's', state: 'sideways', reason: '' }] });
    assert.equal(bad.transport.closes()[0]!.code, CloseCode.BadMessage);
    assert.match(bad.transport.closes()[0]!.reason, /^servers\[0\]\.state: /);
    // Nothing is processed after the close.
    bad.say({ type: 'health', servers: [] });
    assert.deepEqual(bad.health, []);

    const twice = rig();
    twice.hello();
    twice.hello();
    assert.deepEqual(twice.transport.closes(), [{ code: CloseCode.BadMessage, reason: 'type: hello was already received on this stream' }]);

    const wrong = rig();
    wrong.hello();
    wrong.publish(1);
    wrong.say({ type: 'ack', version: 'other', nonce: 'n1' });
    assert.equal(wrong.transport.closes()[0]!.code, CloseCode.BadMessage);
    assert.match(wrong.transport.closes()[0]!.reason, /^version: /);
  });

  it('pings every heartbeat and terminates a peer that missed two pongs', () => {
    const r = rig();
    r.hello();
    r.stream.heartbeat();
    r.stream.pong();
    r.stream.heartbeat();
    r.stream.pong();
    // Two heartbeats without pongs: still alive (two missed), then the third ends it.
    for (let i = 0; i < MISSED_PONGS_LIMIT; i++) r.stream.heartbeat();
    assert.equal(r.transport.events.filter((e) => e.kind === 'ping').length, 2 + MISSED_PONGS_LIMIT);
    assert.equal(r.stream.phase, 'open');
    r.stream.heartbeat();
    assert.equal(r.transport.events.at(-1)!.kind, 'terminate');
    assert.equal(r.stream.phase, 'closed');
    r.stream.heartbeat();
    assert.equal(r.transport.events.filter((e) => e.kind === 'terminate').length, 1);
  });
});

describe('encodePush', () => {
  it('is the JSON of a push message', () => {
    const cache = new SnapshotCache();
    const v = cache.publish(tcpSnapshot(1), [])!;
    const text = Buffer.concat(encodePush(v, 'abc')).toString('utf8');
    assert.deepEqual(JSON.parse(text), { type: 'push', version: v.version, nonce: 'abc', snapshot: JSON.parse(JSON.stringify(v.snapshot)) });
    assert.equal(Buffer.concat(encodePush(v, 'abc')).toString('utf8'), text);
    assert.equal(encodePush(v, 'abc')[1], encodePush(v, 'other')[1], "every stream shares the snapshot's bytes");
  });
});

describe('truncateReason', () => {
  it('fits a close frame (123 bytes) without splitting a character', () => {
    assert.equal(truncateReason('short'), 'short');
    const long = 'é'.repeat(100);
    const cut = truncateReason(long);
    assert.ok(Buffer.byteLength(cut) <= 123);
    assert.ok(cut.endsWith('...'));
    assert.ok(!cut.includes('\uFFFD'));
  });
});
