import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StickTable } from './table.ts';
import { SessionTrackers } from './trackers.ts';
import { ManualClock, stickTableConfig } from './testing.ts';

function table(name: string): StickTable {
  const store = [{ type: 'conn_cur' as const }, { type: 'http_req_cnt' as const }, { type: 'http_err_cnt' as const }, { type: 'bytes_out_cnt' as const }];
  return new StickTable(stickTableConfig(store, { name }), 'dp-a/1/w0', new ManualClock(0));
}

test('track starts tracking, updates reach every tracked entry, release stops each once', () => {
  const a = table('frontend:ns/a');
  const b = table('backend:ns/b');
  const trackers = new SessionTrackers();
  assert.equal(trackers.active, false);
  trackers.track(0, a, '10.0.0.1');
  trackers.track(2, b, '::ffff:10.0.0.1');
  const sc0 = trackers.get(0)!;
  const sc2 = trackers.get(2)!;
  assert.equal(sc0.key, '10.0.0.1');
  assert.equal(trackers.get(1), null);
  assert.equal(trackers.get(7), null);
  assert.equal(trackers.active, true);
  assert.equal(sc0.read('conn_cur'), 1);
  trackers.httpRequest();
  trackers.httpError();
  trackers.bytesOut(100);
  for (const e of [sc0, sc2]) {
    assert.equal(e.read('http_req_cnt'), 1);
    assert.equal(e.read('http_err_cnt'), 1);
    assert.equal(e.read('bytes_out_cnt'), 100);
  }
  trackers.release();
  trackers.release();
  assert.equal(sc0.read('conn_cur'), 0);
  assert.equal(sc2.read('conn_cur'), 0);
  assert.equal(trackers.get(0), null);
  assert.equal(trackers.active, false);
  // After release nothing is tracked any more.
  trackers.httpRequest();
  assert.equal(sc0.read('http_req_cnt'), 1);
});

test('a busy slot ignores further tracks until released; the object is reused', () => {
  const t = table('frontend:ns/a');
  const trackers = new SessionTrackers();
  trackers.track(1, t, '10.0.0.1');
  trackers.track(1, t, '10.0.0.2');
  assert.equal(trackers.get(1)?.key, '10.0.0.1');
  assert.equal(t.lookup('10.0.0.2'), null);
  trackers.release();
  trackers.track(1, t, '10.0.0.2');
  assert.equal(trackers.get(1)?.key, '10.0.0.2');
  assert.equal(t.lookup('10.0.0.1')!.read('conn_cur'), 0);
  assert.equal(t.lookup('10.0.0.2')!.read('conn_cur'), 1);
});

test('a key that does not convert leaves the slot free; two slots on one entry count twice', () => {
  const t = table('frontend:ns/a');
  const trackers = new SessionTrackers();
  trackers.track(0, t, 'not-an-address');
  assert.equal(trackers.get(0), null);
  trackers.track(0, t, '10.0.0.1');
  trackers.track(1, t, '10.0.0.1');
  assert.equal(trackers.get(0), trackers.get(1));
  trackers.httpRequest();
  assert.equal(trackers.get(0)!.read('conn_cur'), 2);
  assert.equal(trackers.get(0)!.read('http_req_cnt'), 2);
  trackers.release();
  assert.equal(t.lookup('10.0.0.1')!.read('conn_cur'), 0);
});
