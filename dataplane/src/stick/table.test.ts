import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ir } from '@switchyard/api';
import { StickTable } from './table.ts';
import { ManualClock, stickTableConfig } from './testing.ts';

const ORIGIN = 'dp-a/1/w0';

function table(store: ir.StickData[], overrides: Partial<ir.StickTable> = {}, clock = new ManualClock(0)): StickTable {
  return new StickTable(stickTableConfig(store, overrides), ORIGIN, clock);
}

function keys(t: StickTable): string[] {
  return [...t.entries()].map((e) => e.key);
}

test('ip tables take IPv4 and IPv4-mapped text as one key, and nothing else', () => {
  const t = table([{ type: 'conn_cnt' }]);
  const a = t.track('::ffff:10.0.0.1');
  assert.ok(a);
  assert.equal(a.key, '10.0.0.1');
  assert.equal(t.track('10.0.0.1'), a);
  assert.equal(t.lookup('::FFFF:10.0.0.1'), a);
  assert.equal(t.track('2001:db8::1'), null);
  assert.equal(t.lookup('nope'), null);
  assert.equal(t.size, 1);
});

test('ipv6, integer and string tables convert their keys', () => {
  const v6 = table([], { type: 'ipv6' });
  assert.equal(v6.track('2001:DB8:0::1')?.key, '2001:db8::1');
  assert.equal(v6.track('10.0.0.1')?.key, '::ffff:10.0.0.1');
  assert.equal(v6.track('fe80::1%eth0'), null);
  const int = table([], { type: 'integer' });
  assert.equal(int.track('+0042')?.key, '42');
  assert.equal(int.track('42'), int.lookup('42'));
  assert.equal(int.track('4294967296'), null);
  const str = table([], { type: 'string', keyLength: 4 });
  const e = str.track('abcdef');
  assert.equal(e?.key, 'abcd');
  assert.equal(str.lookup('abcdXYZ'), e);
  assert.equal(str.track('')?.key, '');
});

test('tracking counts connections; conn_cur of an origin never goes below 0', () => {
  const t = table([{ type: 'conn_cur' }, { type: 'conn_cnt' }, { type: 'conn_rate', periodMs: 10_000 }]);
  const e = t.track('10.0.0.1')!;
  e.trackStart();
  e.trackStart();
  assert.equal(e.read('conn_cur'), 2);
  assert.equal(e.read('conn_cnt'), 2);
  assert.equal(e.read('conn_rate'), 2);
  e.trackStop();
  e.trackStop();
  e.trackStop();
  assert.equal(e.read('conn_cur'), 0);
  assert.equal(e.read('conn_cnt'), 2);
  // Not stored: 0.
  assert.equal(e.read('http_req_cnt'), 0);
});

test('requests, errors, bytes, gpc0 and server_id', () => {
  const clock = new ManualClock(100_000);
  const t = table(
    [
      { type: 'bytes_out_cnt' },
      { type: 'bytes_out_rate', periodMs: 1_000 },
      { type: 'gpc0' },
      { type: 'gpc0_rate', periodMs: 1_000 },
      { type: 'http_err_cnt' },
      { type: 'http_err_rate', periodMs: 1_000 },
      { type: 'http_req_cnt' },
      { type: 'http_req_rate', periodMs: 1_000 },
      { type: 'server_id' },
    ],
    {},
    clock,
  );
  const e = t.track('10.0.0.1')!;
  for (let i = 0; i < 5; i++) e.httpRequest();
  e.httpError();
  e.bytesOut(1_500);
  e.bytesOut(0);
  e.bytesOut(-3);
  e.incGpc0();
  e.incGpc0();
  assert.equal(e.read('http_req_cnt'), 5);
  assert.equal(e.read('http_req_rate'), 5);
  assert.equal(e.read('http_err_cnt'), 1);
  assert.equal(e.read('http_err_rate'), 1);
  assert.equal(e.read('bytes_out_cnt'), 1_500);
  assert.equal(e.read('bytes_out_rate'), 1_500);
  assert.equal(e.read('gpc0'), 2);
  e.clearGpc0();
  assert.equal(e.read('gpc0'), 0);
  assert.equal(e.read('gpc0_rate'), 2);
  assert.equal(e.serverId(), 0);
  e.setServerId(3);
  e.setServerId(-1);
  e.setServerId(1.5);
  assert.equal(e.serverId(), 3);
  assert.equal(e.read('server_id'), 3);
  // Half a period later the 5 requests of the previous period weigh half.
  clock.advance(1_500);
  assert.equal(e.read('http_req_rate'), 2);
  assert.equal(e.read('http_req_cnt'), 5);
});

test('when full, creating evicts the least recently used entry; track and updates are uses, lookups are not', () => {
  const t = table([{ type: 'http_req_cnt' }], { size: 2 });
  t.track('10.0.0.1');
  t.track('10.0.0.2');
  t.track('10.0.0.1');
  t.track('10.0.0.3');
  assert.deepEqual(keys(t), ['10.0.0.3', '10.0.0.1']);

  // A lookup leaves 10.0.0.1 least recently used.
  t.lookup('10.0.0.1');
  t.track('10.0.0.4');
  assert.deepEqual(keys(t), ['10.0.0.4', '10.0.0.3']);

  // An update through an entry held since tracking is a use.
  const held = t.lookup('10.0.0.3')!;
  t.track('10.0.0.4');
  held.httpRequest();
  t.track('10.0.0.5');
  assert.deepEqual(keys(t), ['10.0.0.5', '10.0.0.3']);
  assert.equal(t.size, 2);
});

test('an entry a session tracks is not evicted; with every entry tracked a new key is not tracked', () => {
  const t = table([{ type: 'conn_cur' }], { size: 1 });
  const a = t.track('10.0.0.1')!;
  a.trackStart();
  assert.equal(t.track('10.0.0.2'), null);
  assert.equal(t.lookup('10.0.0.1'), a);
  a.trackStop();
  assert.equal(t.track('10.0.0.2')?.key, '10.0.0.2');
  assert.equal(t.lookup('10.0.0.1'), null);
});

test('entries expire expireMs after their last use; lookups do not refresh', () => {
  const clock = new ManualClock(0);
  const t = table([{ type: 'http_req_cnt' }], { expireMs: 1_000 }, clock);
  t.track('10.0.0.1');
  const b = t.track('10.0.0.2')!;
  clock.set(800);
  b.httpRequest();
  t.lookup('10.0.0.1');
  clock.set(999);
  assert.ok(t.lookup('10.0.0.1'));
  clock.set(1_000);
  assert.equal(t.lookup('10.0.0.1'), null);
  assert.equal(t.size, 1);
  clock.set(1_799);
  assert.equal(t.lookup('10.0.0.2'), b);
  // Tracking an expired key starts over.
  clock.set(1_800);
  const again = t.track('10.0.0.2')!;
  assert.notEqual(again, b);
  assert.equal(again.read('http_req_cnt'), 0);
});

test('sweep removes expired entries that no session tracks', () => {
  const clock = new ManualClock(0);
  const t = table([{ type: 'conn_cur' }], { expireMs: 1_000 }, clock);
  t.track('10.0.0.1');
  clock.set(100);
  const tracked = t.track('10.0.0.2')!;
  tracked.trackStart();
  clock.set(500);
  t.track('10.0.0.3');
  clock.set(900);
  t.track('10.0.0.4');
  assert.equal(t.sweep(1_499), 1);
  assert.deepEqual(keys(t), ['10.0.0.4', '10.0.0.3', '10.0.0.2']);
  clock.set(5_000);
  assert.equal(t.sweep(), 2);
  assert.deepEqual(keys(t), ['10.0.0.2']);
  // Once released it expires from its release.
  tracked.trackStop();
  assert.equal(t.sweep(5_999), 0);
  assert.equal(t.sweep(6_000), 1);
  assert.equal(t.size, 0);
  assert.equal(new StickTable(stickTableConfig([]), ORIGIN, clock).sweep(), 0);
});

test('reconfigure keeps entries when keys mean the same, remapping the stored data', () => {
  const clock = new ManualClock(0);
  const t = table([{ type: 'gpc0' }, { type: 'http_req_cnt' }, { type: 'http_req_rate', periodMs: 1_000 }], { size: 3 }, clock);
  const a = t.track('10.0.0.1')!;
  a.httpRequest();
  a.incGpc0();
  t.track('10.0.0.2')!.httpRequest();
  t.track('10.0.0.3')!.httpRequest();
  t.reconfigure(stickTableConfig([{ type: 'conn_cnt' }, { type: 'http_req_cnt' }, { type: 'http_req_rate', periodMs: 2_000 }], { size: 2 }));
  // The least recently used went with the smaller size.
  assert.deepEqual(keys(t), ['10.0.0.3', '10.0.0.2']);
  const b = t.lookup('10.0.0.2')!;
  assert.equal(b.read('http_req_cnt'), 1);
  // Another period is another rate: it starts over; gpc0 is gone, conn_cnt new.
  assert.equal(b.read('http_req_rate'), 0);
  assert.equal(b.read('gpc0'), 0);
  b.trackStart();
  b.httpRequest();
  assert.equal(b.read('conn_cnt'), 1);
  assert.equal(b.read('http_req_cnt'), 2);
  assert.equal(b.read('http_req_rate'), 1);
  // The evicted entry keeps counting on its own, in its old layout.
  a.httpRequest();
  assert.equal(a.read('http_req_cnt'), 2);
  assert.equal(a.read('gpc0'), 1);
});

test('reconfigure with another key type empties the table', () => {
  const t = table([{ type: 'http_req_cnt' }]);
  const a = t.track('10.0.0.1')!;
  t.reconfigure(stickTableConfig([{ type: 'http_req_cnt' }], { type: 'ipv6' }));
  assert.equal(t.size, 0);
  assert.equal(t.lookup('10.0.0.1'), null);
  a.httpRequest();
  assert.equal(t.size, 0);
  assert.equal(t.track('10.0.0.1')?.key, '::ffff:10.0.0.1');
  const s = table([], { type: 'string', keyLength: 8 });
  s.track('abcdefgh');
  s.reconfigure(stickTableConfig([], { type: 'string', keyLength: 4 }));
  assert.equal(s.size, 0);
  s.track('abcdefgh');
  s.reconfigure(stickTableConfig([], { type: 'string', keyLength: 4, expireMs: 5 }));
  assert.equal(s.size, 1);
});

test('http_req_rate(10s) windows are aligned to multiples of the period: a burst of 101 straddling a boundary reads 100 at its 101st request', () => {
  // What `track-sc0 src` + `deny if { sc_http_req_rate(0) gt 100 }` sees, one request per ms.
  const P = 10_000;
  const burst = (start: number): number[] => {
    const clock = new ManualClock(start);
    const t = table([{ type: 'http_req_rate', periodMs: P }], {}, clock);
    const rates: number[] = [];
    for (let i = 0; i < 102; i++) {
      const e = t.track('10.0.0.1')!;
      e.httpRequest();
      rates.push(e.read('http_req_rate'));
      clock.advance(1);
    }
    return rates;
  };
  // Inside one aligned window every request is counted whole: the 101st is the first above 100.
  const inside = burst(100 * P + 5);
  assert.deepEqual(inside.slice(99), [100, 101, 102]);
  // Requests 1-50 in the window before 1000000, 51-102 after it. At the 101st (50 ms into the new
  // window) the 50 earlier ones weigh (10000 - 50) / 10000 each: 51 + 49.75 = 100.75, read as 100,
  // so it passes; the 102nd reads 52 + 50 * 9949 / 10000 = 101.745 -> 101 and is denied. HAProxy
  // starts a fresh counter's window at its first event and would deny the 101st here; a burst that
  // started well inside an existing window straddles HAProxy's boundaries the same way.
  const straddling = burst(100 * P - 50);
  assert.deepEqual(straddling.slice(99), [99, 100, 101]);
  assert.ok(straddling.every((r, i) => r <= i + 1), 'a rate never counts more requests than were made');
});
