import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from '../fleet/api-errors.ts';
import { ManualClock, settle } from '../testing/manual-clock.ts';
import type { DesiredStatus } from './compute.ts';
import type { EventTarget, EventType } from './event-recorder.ts';
import { StatusWriter } from './status-writer.ts';
import { FakeStatusClient } from './testing/fake-status-client.ts';

const APP = { kind: 'Backend', namespace: 'default', name: 'app' };

function desired(name: string, message: string, fields: Partial<DesiredStatus> = {}, programmed: 'True' | 'False' = 'False'): DesiredStatus {
  return {
    kind: 'Backend',
    namespace: 'default',
    name,
    generation: 1,
    conditions: [
      { type: 'Accepted', status: 'True', observedGeneration: 1, reason: 'Accepted', message: 'valid' },
      { type: 'Programmed', status: programmed, observedGeneration: 1, reason: programmed === 'True' ? 'Programmed' : 'Pending', message },
    ],
    ...fields,
  };
}

function setup(options: { concurrency?: number; maxConflictRetries?: number } = {}) {
  const client = new FakeStatusClient();
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 10, 0, 0));
  const events: string[] = [];
  const targets: EventTarget[] = [];
  const warnings: string[] = [];
  const writer = new StatusWriter({
    client,
    clock,
    concurrency: options.concurrency ?? 4,
    maxConflictRetries: options.maxConflictRetries ?? 5,
    events: {
      record: (target: EventTarget, type: EventType, reason: string, message: string) => {
        targets.push(target);
        events.push(`${type} ${reason} ${message}`);
      },
    },
    logger: { warn: (_o, msg) => warnings.push(msg) },
  });
  const term = new AbortController();
  const puts = () => client.calls.filter((c) => c.startsWith('put')).length;
  const gets = () => client.calls.filter((c) => c.startsWith('get')).length;
  return { client, clock, writer, term, events, targets, warnings, puts, gets };
}

describe('StatusWriter', () => {
  it('writes the status subresource of the object as read: conditions with observedGeneration and lastTransitionTime', async () => {
    const { client, writer, term } = setup();
    client.add(APP, { generation: 1 });
    const before = structuredClone(client.objects.get('Backend/default/app'))!;
    writer.start(term.signal);
    writer.update([desired('app', '0/1 data planes; waiting for dp-a', { servers: { total: 2, up: 1, down: 1, maintenance: 0 } })]);
    await writer.idle();
    assert.deepEqual(client.status(APP), {
      conditions: [
        { type: 'Accepted', status: 'True', observedGeneration: 1, lastTransitionTime: '2026-01-01T10:00:00Z', reason: 'Accepted', message: 'valid' },
        { type: 'Programmed', status: 'False', observedGeneration: 1, lastTransitionTime: '2026-01-01T10:00:00Z', reason: 'Pending', message: '0/1 data planes; waiting for dp-a' },
      ],
      servers: { total: 2, up: 1, down: 1, maintenance: 0 },
    });
    const after = client.objects.get('Backend/default/app')!;
    assert.deepEqual(after.spec, before.spec);
    assert.notEqual(after.metadata!.resourceVersion, before.metadata!.resourceVersion);
    term.abort();
  });

  it('keeps lastTransitionTime while a condition status stays, moves it when it flips', async () => {
    const { client, clock, writer, term } = setup();
    client.add(APP);
    writer.start(term.signal);
    writer.update([desired('app', '0/2 data planes; waiting for dp-a, dp-b')]);
    await writer.idle();
    await clock.advance(60_000);
    writer.update([desired('app', '1/2 data planes; waiting for dp-b')]);
    await writer.idle();
    const times = () => (client.status(APP) as { conditions: { lastTransitionTime: string }[] }).conditions.map((c) => c.lastTransitionTime);
    assert.deepEqual(times(), ['2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z']);
    await clock.advance(60_000);
    writer.update([desired('app', '2/2 data planes', {}, 'True')]);
    await writer.idle();
    assert.deepEqual(times(), ['2026-01-01T10:00:00Z', '2026-01-01T10:02:00Z']);
    term.abort();
  });

  it('skips an object whose live status already says it, and does not even read it again for the same desired status', async () => {
    const { client, writer, term, puts, gets } = setup();
    client.add(APP);
    writer.start(term.signal);
    writer.update([desired('app', 'm')]);
    await writer.idle();
    assert.equal(puts(), 1);
    // The same status already in place (another leader wrote it): read, compare, skip.
    const other = setup();
    other.client.add(APP, { status: client.status(APP) });
    other.writer.start(other.term.signal);
    other.writer.update([desired('app', 'm')]);
    await other.writer.idle();
    assert.deepEqual([other.gets(), other.puts(), other.writer.stats.skipped], [1, 0, 1]);
    // Unchanged desired status: no API call at all.
    writer.update([desired('app', 'm')]);
    await writer.idle();
    assert.deepEqual([gets(), puts()], [1, 1]);
    term.abort();
    other.term.abort();
  });

  it('on 409 reads again and retries, keeping what the concurrent writer changed', async () => {
    const { client, writer, term, puts } = setup();
    client.add(APP);
    let conflicts = 2;
    client.afterGet = (ref) => {
      if (conflicts-- > 0) client.touch(ref, { spec: true });
    };
    writer.start(term.signal);
    writer.update([desired('app', 'm')]);
    await writer.idle();
    assert.equal(writer.stats.conflicts, 2);
    assert.equal(puts(), 3);
    assert.equal(client.objects.get('Backend/default/app')!.metadata!.generation, 3, 'the other writer’s change stands');
    assert.equal((client.status(APP) as { conditions: unknown[] }).conditions.length, 2);
    term.abort();
  });

  it('bounded conflict retries, then a later retry with backoff', async () => {
    const { client, clock, writer, term, puts, warnings } = setup({ maxConflictRetries: 2 });
    client.add(APP);
    let hot = true;
    client.afterGet = (ref) => hot && client.touch(ref);
    writer.start(term.signal);
    writer.update([desired('app', 'm')]);
    await writer.idle();
    assert.equal(puts(), 3, 'the first try and two retries');
    assert.equal(client.status(APP), undefined);
    assert.deepEqual(warnings, ['status: write failed']);
    assert.equal(writer.pending, 1, 'a retry is scheduled');
    hot = false;
    await clock.advance(999);
    assert.equal(puts(), 3);
    await clock.advance(1);
    await writer.idle();
    assert.equal(puts(), 4);
    assert.ok(client.status(APP));
    assert.equal(writer.pending, 0);
    term.abort();
  });

  it('other failures back off exponentially; a newer desired status tries again at once', async () => {
    const { client, clock, writer, term, puts } = setup();
    client.add(APP);
    client.failNext.push(new HttpError(500, 'etcd timeout'), new HttpError(503, 'unavailable'));
    writer.start(term.signal);
    writer.update([desired('app', 'a')]);
    await writer.idle();
    await clock.advance(1000); // retry 1 fails (503), next in 2 s
    await writer.idle();
    assert.equal(writer.stats.failures, 2);
    writer.update([desired('app', 'b')]); // does not wait for the backoff
    await writer.idle();
    assert.equal(puts(), 1);
    assert.equal((client.status(APP) as { conditions: { message: string }[] }).conditions[1]!.message, 'b');
    await clock.advance(60_000);
    assert.equal(puts(), 1, 'the retry timer was cancelled by the success');
    term.abort();
  });

  it('never writes an object that no longer exists (404 on read or on write) and does not retry it', async () => {
    const { client, clock, writer, term, puts } = setup();
    writer.start(term.signal);
    writer.update([desired('ghost', 'm')]);
    await writer.idle();
    assert.deepEqual([puts(), writer.stats.gone, writer.pending], [0, 1, 0]);
    client.add({ ...APP, name: 'vanishing' });
    client.afterGet = (ref) => client.objects.delete(FakeStatusClient.key(ref));
    writer.update([desired('ghost', 'm'), desired('vanishing', 'm')]);
    await writer.idle();
    // ghost is read again (it might have been created since), vanishing goes between read and write.
    assert.equal(writer.stats.gone, 3);
    assert.equal(puts(), 1);
    await clock.advance(60_000);
    assert.equal(client.objects.size, 0);
    // Created again later: the next update writes it.
    client.afterGet = null;
    client.add({ ...APP, name: 'ghost' });
    writer.update([desired('ghost', 'm')]);
    await writer.idle();
    assert.ok(client.status({ ...APP, name: 'ghost' }));
    term.abort();
  });

  it('coalesces a burst per object: the newest desired status wins, never two writes of one object at once', async () => {
    const { client, writer, term, puts } = setup();
    client.add(APP);
    let release!: () => void;
    client.gate = new Promise((resolve) => (release = resolve));
    writer.start(term.signal);
    for (let i = 1; i <= 10; i++) writer.update([desired('app', `${i}/10 data planes`)]);
    await settle();
    assert.equal(client.maxInFlight, 1);
    client.gate = null;
    release();
    await writer.idle();
    assert.ok(puts() <= 2, `${puts()} writes`);
    assert.equal((client.status(APP) as { conditions: { message: string }[] }).conditions[1]!.message, '10/10 data planes');
    term.abort();
  });

  it('bounds the objects in flight', async () => {
    const { client, writer, term, puts } = setup({ concurrency: 3 });
    const names = Array.from({ length: 10 }, (_, i) => `b${i}`);
    for (const name of names) client.add({ ...APP, name });
    let release!: () => void;
    client.gate = new Promise((resolve) => (release = resolve));
    writer.start(term.signal);
    writer.update(names.map((n) => desired(n, 'm')));
    await settle();
    assert.equal(client.inFlight, 3);
    client.gate = null;
    release();
    await writer.idle();
    assert.equal(client.maxInFlight, 3);
    assert.equal(puts(), 10);
    term.abort();
  });

  it('writes only during a term; a new term rewrites what differs and skips what is equal', async () => {
    const { client, writer, puts, gets } = setup();
    client.add(APP);
    client.add({ ...APP, name: 'other' });
    writer.update([desired('app', 'm'), desired('other', 'm')]);
    await settle();
    assert.equal(client.calls.length, 0, 'not leader: nothing');
    const term1 = new AbortController();
    writer.start(term1.signal);
    await writer.idle();
    assert.equal(puts(), 2);
    term1.abort();
    writer.update([desired('app', 'n'), desired('other', 'm')]);
    await settle();
    assert.equal(puts(), 2, 'after the term: nothing');
    // Meanwhile another leader changed app's status; the next term must notice.
    client.touch(APP, { status: { conditions: [] } });
    const term2 = new AbortController();
    writer.start(term2.signal);
    await writer.idle();
    assert.equal(gets(), 4, 'everything re-read');
    assert.equal(puts(), 3, 'only app rewritten');
    term2.abort();
  });

  it('a term that ends while a read is in flight writes nothing', async () => {
    const { client, writer, puts } = setup();
    client.add(APP);
    let release!: () => void;
    client.gate = new Promise((resolve) => (release = resolve));
    const term = new AbortController();
    writer.start(term.signal);
    writer.update([desired('app', 'm')]);
    await settle();
    term.abort();
    client.gate = null;
    release();
    await writer.idle();
    assert.equal(puts(), 0);
  });

  it('forgets objects that leave the desired set, cancelling their pending writes', async () => {
    const { client, writer, term, puts } = setup({ concurrency: 1 });
    client.add(APP);
    client.add({ ...APP, name: 'b' });
    let release!: () => void;
    client.gate = new Promise((resolve) => (release = resolve));
    writer.start(term.signal);
    writer.update([desired('app', 'm'), desired('b', 'm')]);
    await settle();
    writer.update([desired('app', 'm')]); // b deleted meanwhile
    client.gate = null;
    release();
    await writer.idle();
    assert.equal(puts(), 1);
    assert.equal(client.status({ ...APP, name: 'b' }), undefined);
    term.abort();
  });

  it('records a Warning Event, with the uid, when an object becomes not Accepted', async () => {
    const { client, writer, term, events, targets } = setup();
    const obj = client.add(APP);
    writer.start(term.signal);
    writer.update([desired('app', 'm')]);
    await writer.idle();
    const bad: DesiredStatus = {
      ...desired('app', 'not accepted; see the Accepted condition'),
      conditions: [{ type: 'Accepted', status: 'False', observedGeneration: 2, reason: 'Invalid', message: 'spec.servers[0].port: must be 1-65535, got 70000' }],
    };
    writer.update([bad]);
    await writer.idle();
    writer.update([{ ...bad, generation: 3 }]); // same problem: no second event
    await writer.idle();
    assert.deepEqual(events, ['Warning Invalid spec.servers[0].port: must be 1-65535, got 70000']);
    assert.deepEqual(targets, [{ ...APP, uid: obj.metadata!.uid }]);
    term.abort();
  });
});
