import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataplaneStatus } from '../channel/fleet.ts';
import { dataplane, FakeLocalFleet } from '../fleet/testing/fake-local-fleet.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import type { EventTarget, EventType } from './event-recorder.ts';
import { StatusPipeline } from './status-pipeline.ts';
import { StatusWriter } from './status-writer.ts';
import { cacheOf, cluster, result, server, versioned } from './testing/builders.ts';
import { FakeStatusClient } from './testing/fake-status-client.ts';

const V1 = '1111111111111111';
const v1 = versioned(V1, { 'Backend/default/app': 1 }, [cluster('default/app', [server('s1')])]);

class SyncingFleet extends FakeLocalFleet {
  synced = false;
  sync(list: DataplaneStatus[]): void {
    this.synced = true;
    this.set(list);
  }
}

function setup() {
  const client = new FakeStatusClient();
  client.add({ kind: 'Backend', namespace: 'default', name: 'app' });
  const clock = new ManualClock();
  const writer = new StatusWriter({ client, clock });
  const fleet = new SyncingFleet();
  const events: string[] = [];
  const terms: AbortSignal[] = [];
  const recorder = {
    record: (t: EventTarget, type: EventType, reason: string, message: string) => events.push(`${t.kind}/${t.name} ${type} ${reason}: ${message}`),
    start: (signal: AbortSignal) => terms.push(signal),
  };
  const pipeline = new StatusPipeline({ writer, recorder, fleet, cache: cacheOf(v1), clock, holdoffMs: 100 });
  const programmed = () => (client.status({ kind: 'Backend', namespace: 'default', name: 'app' }) as { conditions: { type: string; message: string }[] } | undefined)?.conditions.find((c) => c.type === 'Programmed')?.message;
  return { client, clock, writer, fleet, events, terms, pipeline, programmed };
}

describe('StatusPipeline', () => {
  it('computes and writes only during a term, once the fleet is synced, after the holdoff', async () => {
    const { clock, writer, fleet, pipeline, programmed, terms } = setup();
    pipeline.setTranslation([result('Backend', 'app', 1)], v1);
    await clock.advance(1000);
    assert.equal(pipeline.computations, 0, 'not leader');
    const term = new AbortController();
    pipeline.start(term.signal);
    assert.deepEqual(terms, [term.signal], 'the recorder starts with the term');
    await clock.advance(1000);
    assert.equal(pipeline.computations, 0, 'fleet not synced');
    fleet.sync([dataplane('dp-a', { ackedVersion: V1 })]);
    await clock.advance(99);
    assert.equal(pipeline.computations, 0);
    await clock.advance(1);
    await writer.idle();
    assert.equal(programmed(), '1/1 data planes');
    term.abort();
  });

  it('a burst of fleet changes makes one computation; Programmed follows the fleet', async () => {
    const { clock, writer, fleet, pipeline, programmed } = setup();
    fleet.sync([dataplane('dp-a', { ackedVersion: V1 })]);
    pipeline.setTranslation([result('Backend', 'app', 1)], v1);
    const term = new AbortController();
    pipeline.start(term.signal);
    await clock.advance(100);
    await writer.idle();
    const n = pipeline.computations;
    for (const node of ['dp-b', 'dp-c', 'dp-d']) fleet.set([...fleet.list(), dataplane(node)]);
    await clock.advance(100);
    await writer.idle();
    assert.equal(pipeline.computations, n + 1);
    assert.equal(programmed(), '1/4 data planes; waiting for dp-b, dp-c, dp-d');
    term.abort();
    fleet.set([]);
    await clock.advance(1000);
    assert.equal(pipeline.computations, n + 1, 'no work after the term');
  });

  it('turns fleet changes into Events, from a fresh baseline each term', async () => {
    const { clock, writer, fleet, pipeline, events } = setup();
    const health = (state: 'up' | 'down') => [dataplane('dp-a', { ackedVersion: V1, health: [{ cluster: 'default/app', server: 's1', state, reason: state === 'down' ? 'L4TOUT' : '' }] })];
    fleet.sync(health('up'));
    pipeline.setTranslation([result('Backend', 'app', 1)], v1);
    const term = new AbortController();
    pipeline.start(term.signal);
    await clock.advance(100);
    fleet.set(health('down'));
    await clock.advance(100);
    await writer.idle();
    assert.deepEqual(events, ['Backend/app Warning ServerDown: server s1 of backend default/app is down on dp-a: L4TOUT']);
    term.abort();
    const term2 = new AbortController();
    pipeline.start(term2.signal);
    assert.equal(writer.pending, 0, 'nothing from the last term is written before this term computes');
    await clock.advance(100);
    assert.equal(events.length, 1, 'a new term starts from a baseline');
    term2.abort();
  });
});
