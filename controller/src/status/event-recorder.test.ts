import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from '../fleet/api-errors.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { EventRecorder } from './event-recorder.ts';
import { FakeEventClient } from './testing/fake-status-client.ts';

const WEB = { kind: 'Frontend', namespace: 'shop', name: 'web', uid: 'uid-web' };

function setup(options: { windowMs?: number; maxEntries?: number } = {}) {
  const client = new FakeEventClient();
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const warnings: string[] = [];
  const recorder = new EventRecorder({ client, clock, instance: 'ctrl-0', ...options, logger: { warn: (_o, msg) => warnings.push(msg) } });
  const term = new AbortController();
  recorder.start(term.signal);
  return { client, clock, recorder, term, warnings };
}

describe('EventRecorder', () => {
  it('creates a core/v1 Event naming the object, its uid, the component and the replica', async () => {
    const { client, recorder } = setup();
    recorder.record(WEB, 'Warning', 'Invalid', 'spec.binds[0].port: must be 1-65535, got 0');
    await recorder.idle();
    const [e] = client.list();
    assert.ok(e);
    assert.match(e.metadata.name, /^web\.[0-9a-f]+$/);
    assert.deepEqual({ ...e, metadata: { ...e.metadata, name: 'x' } }, {
      metadata: { name: 'x', namespace: 'shop' },
      involvedObject: { apiVersion: 'switchyard.dev/v1alpha1', kind: 'Frontend', namespace: 'shop', name: 'web', uid: 'uid-web' },
      type: 'Warning',
      reason: 'Invalid',
      message: 'spec.binds[0].port: must be 1-65535, got 0',
      source: { component: 'switchyard-controller' },
      reportingComponent: 'switchyard-controller',
      reportingInstance: 'ctrl-0',
      firstTimestamp: '2026-01-01T12:00:00Z',
      lastTimestamp: '2026-01-01T12:00:00Z',
      count: 1,
    });
  });

  it('the same event again within the window bumps count and lastTimestamp; another message is another Event', async () => {
    const { client, clock, recorder } = setup();
    recorder.record(WEB, 'Warning', 'Rejected', 'dp-b rejected version 1: x');
    await recorder.idle();
    await clock.advance(30_000);
    recorder.record(WEB, 'Warning', 'Rejected', 'dp-b rejected version 1: x');
    await clock.advance(30_000);
    recorder.record(WEB, 'Warning', 'Rejected', 'dp-b rejected version 1: x');
    recorder.record(WEB, 'Warning', 'Rejected', 'dp-b rejected version 2: y');
    await recorder.idle();
    const events = client.list();
    assert.equal(events.length, 2);
    assert.deepEqual([events[0]!.count, events[0]!.firstTimestamp, events[0]!.lastTimestamp], [3, '2026-01-01T12:00:00Z', '2026-01-01T12:01:00Z']);
    assert.equal(events[1]!.count, 1);
    assert.deepEqual(recorder.stats, { created: 2, patched: 2, dropped: 0, failed: 0 });
  });

  it('after the window, or for another object or type, a new Event', async () => {
    const { client, clock, recorder } = setup({ windowMs: 60_000 });
    recorder.record(WEB, 'Warning', 'ServerDown', 'm');
    await recorder.idle();
    await clock.advance(60_001);
    recorder.record(WEB, 'Warning', 'ServerDown', 'm');
    recorder.record({ ...WEB, name: 'api', uid: 'uid-api' }, 'Warning', 'ServerDown', 'm');
    recorder.record(WEB, 'Normal', 'ServerDown', 'm');
    await recorder.idle();
    assert.equal(client.list().length, 4);
  });

  it('an Event expired on the server (404 on patch) is created again', async () => {
    const { client, recorder } = setup();
    recorder.record(WEB, 'Normal', 'ServerUp', 'm');
    await recorder.idle();
    const first = client.list()[0]!.metadata.name;
    client.events.clear();
    recorder.record(WEB, 'Normal', 'ServerUp', 'm');
    await recorder.idle();
    assert.deepEqual(client.calls, ['create ServerUp', `patch ${first}`, 'create ServerUp']);
    assert.notEqual(client.list()[0]!.metadata.name, first);
    assert.equal(client.list()[0]!.count, 1);
  });

  it('looks the uid up once when the caller does not know it; an object that is gone gets no Event', async () => {
    const { client, recorder } = setup();
    client.uids.set('Backend/shop/app', 'uid-app');
    const app = { kind: 'Backend', namespace: 'shop', name: 'app' };
    recorder.record(app, 'Warning', 'ServerDown', 'a');
    recorder.record(app, 'Warning', 'ServerDown', 'b');
    recorder.record({ ...app, name: 'gone' }, 'Warning', 'ServerDown', 'c');
    await recorder.idle();
    assert.deepEqual(client.calls, ['lookup Backend/app', 'create ServerDown', 'create ServerDown', 'lookup Backend/gone']);
    assert.ok(client.list().every((e) => e.involvedObject.uid === 'uid-app'));
  });

  it('records only during a term; a new term starts a fresh correlation', async () => {
    const client = new FakeEventClient();
    const recorder = new EventRecorder({ client, instance: 'ctrl-0', clock: new ManualClock() });
    recorder.record(WEB, 'Warning', 'Invalid', 'm');
    await recorder.idle();
    assert.equal(client.calls.length, 0);
    const t1 = new AbortController();
    recorder.start(t1.signal);
    recorder.record(WEB, 'Warning', 'Invalid', 'm');
    await recorder.idle();
    t1.abort();
    recorder.record(WEB, 'Warning', 'Invalid', 'm');
    await recorder.idle();
    assert.equal(recorder.active, false);
    const t2 = new AbortController();
    recorder.start(t2.signal);
    recorder.record(WEB, 'Warning', 'Invalid', 'm');
    await recorder.idle();
    assert.deepEqual(client.calls, ['create Invalid', 'create Invalid']);
    t2.abort();
  });

  it('a failure is logged and dropped; the next records go on', async () => {
    const { client, recorder, warnings } = setup();
    client.failNext.push(new HttpError(403, 'forbidden'));
    recorder.record(WEB, 'Warning', 'A', 'm');
    recorder.record(WEB, 'Warning', 'B', 'm');
    await recorder.idle();
    assert.deepEqual(client.list().map((e) => e.reason), ['B']);
    assert.deepEqual(warnings, ['event: cannot record']);
    assert.equal(recorder.stats.failed, 1);
  });

  it('a taken name gets another one', async () => {
    const { client, recorder } = setup();
    client.failNext.push(new HttpError(409, 'already exists'));
    recorder.record(WEB, 'Warning', 'A', 'm');
    await recorder.idle();
    assert.equal(client.list().length, 1);
  });

  it('the correlation cache is bounded (oldest key dropped)', async () => {
    const { client, recorder } = setup({ maxEntries: 2 });
    for (const m of ['a', 'b', 'c', 'a']) recorder.record(WEB, 'Warning', 'X', m);
    await recorder.idle();
    assert.deepEqual(client.calls.map((c) => c.split(' ')[0]), ['create', 'create', 'create', 'create']);
  });

  it('long messages are cut to 1024 characters', async () => {
    const { client, recorder } = setup();
    recorder.record(WEB, 'Warning', 'X', 'y'.repeat(5000));
    await recorder.idle();
    assert.equal(client.list()[0]!.message.length, 1024);
  });
});
