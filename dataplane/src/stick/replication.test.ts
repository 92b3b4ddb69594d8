import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ir } from '@switchyard/api';
import { parseStickUpdate } from './parse-update.ts';
import { StickTables, type StickUpdate } from './replication.ts';
import { exchange, ManualClock, overTheWire, stickTableConfig } from './testing.ts';

const A = 'dp-a/aaaa/w0';
const B = 'dp-b/bbbb/w0';
const C = 'dp-c/cccc/w0';
const NAME = 'frontend:default/web';

const STORE: ir.StickData[] = [
  { type: 'conn_cur' },
  { type: 'gpc0' },
  { type: 'http_req_cnt' },
  { type: 'http_req_rate', periodMs: 10_000 },
  { type: 'server_id' },
];

function instances(clock: ManualClock, configs: ir.StickTable[] = [stickTableConfig(STORE, { replicate: true })], origins = [A, B]): StickTables[] {
  return origins.map((origin) => {
    const tables = new StickTables(origin, clock);
    tables.apply(configs);
    return tables;
  });
}

function requests(tables: StickTables, key: string, n: number, name = NAME): void {
  const entry = tables.get(name)!.track(key)!;
  for (let i = 0; i < n; i++) entry.httpRequest();
}

function read(tables: StickTables, key: string, type: ir.StickData['type'], name = NAME): number {
  return tables.get(name)!.lookup(key)?.read(type) ?? -1;
}

test('rates and counters of several origins add up once exchanged', () => {
  const clock = new ManualClock(1_000_000);
  const [a, b] = instances(clock);
  requests(a, '10.0.0.1', 60);
  requests(b, '::ffff:10.0.0.1', 60);
  assert.equal(read(a, '10.0.0.1', 'http_req_rate'), 60);
  exchange([a, b]);
  for (const t of [a, b]) {
    assert.equal(read(t, '10.0.0.1', 'http_req_rate'), 120);
    assert.equal(read(t, '10.0.0.1', 'http_req_cnt'), 120);
  }
  // Remote states slide with the local clock: half a period into the next one, each weighs half.
  clock.advance(15_000);
  assert.equal(read(a, '10.0.0.1', 'http_req_rate'), 60);
  assert.equal(read(b, '10.0.0.1', 'http_req_rate'), 60);
});

test('server_id: the latest write wins, the larger origin id on a tie', () => {
  const clock = new ManualClock(1_000_000);
  const [a, b] = instances(clock);
  a.get(NAME)!.track('10.0.0.1')!.setServerId(1);
  clock.advance(5);
  b.get(NAME)!.track('10.0.0.1')!.setServerId(2);
  clock.advance(5);
  // A later update of A that does not write server_id changes nothing.
  a.get(NAME)!.track('10.0.0.1')!.httpRequest();
  exchange([a, b]);
  assert.equal(a.get(NAME)!.lookup('10.0.0.1')!.serverId(), 2);
  assert.equal(b.get(NAME)!.lookup('10.0.0.1')!.serverId(), 2);

  a.get(NAME)!.track('10.0.0.2')!.setServerId(7);
  b.get(NAME)!.track('10.0.0.2')!.setServerId(8);
  exchange([a, b]);
  assert.equal(a.get(NAME)!.lookup('10.0.0.2')!.serverId(), 8);
  assert.equal(b.get(NAME)!.lookup('10.0.0.2')!.serverId(), 8);
});

test('merging is idempotent and an older update arriving late is ignored', () => {
  const clock = new ManualClock(1_000_000);
  const [a, b] = instances(clock);
  requests(a, '10.0.0.1', 5);
  const first = overTheWire(a.takeLocalChanges()!);
  clock.advance(10);
  requests(a, '10.0.0.1', 3);
  const second = overTheWire(a.takeLocalChanges()!);
  assert.equal(b.merge(second), 1);
  assert.equal(b.merge(second), 0);
  assert.equal(b.merge(first), 0);
  assert.equal(read(b, '10.0.0.1', 'http_req_cnt'), 8);
  assert.equal(a.takeLocalChanges(), null);
});

test("a remote update never overwrites this process's own origin", () => {
  const clock = new ManualClock(1_000_000);
  const [a, b] = instances(clock);
  requests(a, '10.0.0.1', 5);
  const update = overTheWire(a.takeLocalChanges()!);
  // Forged: A's own state, newer and bigger, coming back from elsewhere.
  const row = update.tables[0].rows[0];
  row[2] = (row[2] as number) - 1_000; // version 1000 higher
  row[6] = 999; // http_req_cnt
  assert.equal(a.merge({ ...update, origin: B }), 0);
  assert.equal(read(a, '10.0.0.1', 'http_req_cnt'), 5);
  // Nor does relaying A's state through B's full state.
  b.merge(overTheWire(update));
  for (const u of b.fullState()) a.merge(overTheWire(u));
  assert.equal(read(a, '10.0.0.1', 'http_req_cnt'), 5);
});

test('changes are coalesced: a key updated 10,000 times is one row of one state', () => {
  const clock = new ManualClock(1_000_000);
  const [a] = instances(clock);
  const entry = a.get(NAME)!.track('10.0.0.1')!;
  for (let i = 0; i < 10_000; i++) {
    entry.httpRequest();
    if (i % 100 === 0) clock.advance(1);
  }
  const update = a.takeLocalChanges()!;
  assert.equal(update.tables.length, 1);
  assert.equal(update.tables[0].rows.length, 1);
  assert.deepEqual(update.tables[0].origins, [A]);
  assert.ok(JSON.stringify(update).length < 300, JSON.stringify(update));
  assert.equal(a.takeLocalChanges(), null);
});

test('a fresh instance learns everything from a full state, in chunks', () => {
  const clock = new ManualClock(1_000_000);
  const [a, b] = instances(clock);
  for (let i = 1; i <= 5; i++) requests(a, `10.0.0.${i}`, i);
  requests(b, '10.0.0.1', 10);
  b.get(NAME)!.track('10.0.0.9')!.setServerId(4);
  exchange([a, b]);
  const chunks = a.fullState(undefined, { maxRows: 2 });
  assert.equal(chunks.length, 3);
  const c = instances(clock, undefined, [C])[0];
  for (const chunk of chunks) c.merge(overTheWire(chunk));
  for (const key of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.9']) {
    for (const type of ['http_req_cnt', 'http_req_rate', 'server_id'] as const) assert.equal(read(c, key, type), read(a, key, type), `${key} ${type}`);
  }
  assert.equal(read(c, '10.0.0.1', 'http_req_cnt'), 11);
  assert.equal(read(c, '10.0.0.9', 'server_id'), 4);
  // C wrote nothing: nothing to send.
  assert.equal(c.takeLocalChanges(), null);
});

test('filters: tables not selected are neither taken nor sent in full; feeds are independent consumers', () => {
  const clock = new ManualClock(1_000_000);
  const configs = [stickTableConfig(STORE, { name: 'frontend:ns/shared', replicate: true }), stickTableConfig(STORE, { name: 'frontend:ns/local' })];
  const [a, b] = instances(clock, configs);
  const pods = a.changeFeed({ tables: (t) => t.replicate });
  requests(a, '10.0.0.1', 2, 'frontend:ns/shared');
  requests(a, '10.0.0.1', 3, 'frontend:ns/local');
  const toPods = pods.take()!;
  assert.deepEqual(
    toPods.tables.map((t) => t.name),
    ['frontend:ns/shared'],
  );
  assert.equal(pods.take(), null);
  // The default consumer did not see those go: it gets both tables.
  const toWorkers = a.takeLocalChanges()!;
  assert.deepEqual(toWorkers.tables.map((t) => t.name).sort(), ['frontend:ns/local', 'frontend:ns/shared']);
  assert.deepEqual(
    a.fullState((t) => t.replicate).flatMap((u) => u.tables.map((t) => t.name)),
    ['frontend:ns/shared'],
  );
  // With a filter, the default consumer's other tables stay pending.
  requests(a, '10.0.0.2', 1, 'frontend:ns/shared');
  requests(a, '10.0.0.2', 1, 'frontend:ns/local');
  assert.deepEqual(a.takeLocalChanges((t) => t.replicate)!.tables.map((t) => t.name), ['frontend:ns/shared']);
  assert.deepEqual(a.takeLocalChanges()!.tables.map((t) => t.name), ['frontend:ns/local']);
  // restrict keeps what a relay may forward.
  assert.deepEqual(a.restrict(toWorkers, (t) => t.replicate)!.tables.map((t) => t.name), ['frontend:ns/shared']);
  assert.equal(a.restrict(toWorkers, () => false), null);
  b.merge(overTheWire(toPods));
  assert.equal(read(b, '10.0.0.1', 'http_req_cnt', 'frontend:ns/shared'), 2);
  assert.equal(read(b, '10.0.0.1', 'http_req_cnt', 'frontend:ns/local'), -1);
});

test("dropOrigin zeroes the gone writer's conn_cur, now and later, and keeps its rates and server id", () => {
  const clock = new ManualClock(1_000_000);
  const [a, b] = instances(clock);
  const entry = b.get(NAME)!.track('10.0.0.1')!;
  entry.trackStart();
  entry.trackStart();
  entry.httpRequest();
  entry.setServerId(3);
  const early = overTheWire(b.takeLocalChanges()!);
  a.get(NAME)!.track('10.0.0.1')!.trackStart();
  a.merge(early);
  assert.equal(read(a, '10.0.0.1', 'conn_cur'), 3);
  a.dropOrigin(B);
  assert.equal(read(a, '10.0.0.1', 'conn_cur'), 1);
  assert.equal(read(a, '10.0.0.1', 'http_req_rate'), 1);
  assert.equal(read(a, '10.0.0.1', 'server_id'), 3);
  // A state of the gone origin still in flight.
  clock.advance(1);
  entry.httpRequest();
  a.merge(overTheWire(b.takeLocalChanges()!));
  assert.equal(read(a, '10.0.0.1', 'conn_cur'), 1);
  assert.equal(read(a, '10.0.0.1', 'http_req_cnt'), 2);
  // Never the own origin.
  a.dropOrigin(A);
  assert.equal(read(a, '10.0.0.1', 'conn_cur'), 1);
});

test('remote updates create entries within the size bound and refresh expiry; stale states create nothing', () => {
  const clock = new ManualClock(1_000_000);
  const config = stickTableConfig(STORE, { size: 2, expireMs: 1_000 });
  const [a, b] = instances(clock, [config]);
  requests(a, '10.0.0.1', 1);
  clock.advance(500);
  requests(b, '10.0.0.1', 1);
  requests(b, '10.0.0.2', 1);
  requests(b, '10.0.0.3', 1);
  a.merge(overTheWire(b.takeLocalChanges()!));
  // Size 2: the merged entries pushed out the least recently used.
  assert.equal(a.get(NAME)!.size, 2);
  // B's update at +500 refreshed the entry of A created at +0.
  requests(b, '10.0.0.3', 1);
  a.merge(overTheWire(b.takeLocalChanges()!));
  clock.advance(900);
  assert.equal(read(a, '10.0.0.3', 'http_req_cnt'), 2);

  // A state older than expire (relayed late) does not bring an entry back.
  const c = instances(clock, [config], [C])[0];
  const old = b.fullState();
  clock.advance(1_000);
  for (const u of old) c.merge(overTheWire(u));
  assert.equal(c.get(NAME)!.size, 0);
});

test('unknown tables, other key types and columns not stored here are skipped', () => {
  const clock = new ManualClock(1_000_000);
  const [a] = instances(clock, [stickTableConfig(STORE), stickTableConfig(STORE, { name: 'frontend:ns/other' })]);
  const [b] = instances(clock, [stickTableConfig([{ type: 'http_req_cnt' }, { type: 'conn_cnt' }]), stickTableConfig(STORE, { name: 'frontend:ns/other', type: 'integer' })], [B]);
  requests(a, '10.0.0.1', 4);
  requests(a, '10.0.0.1', 4, 'frontend:ns/other');
  a.get(NAME)!.track('10.0.0.1')!.setServerId(2);
  const update = overTheWire(a.takeLocalChanges()!);
  assert.equal(b.merge({ ...update, tables: [...update.tables, { ...update.tables[0], name: 'backend:ns/unknown' }] }), 1);
  assert.equal(read(b, '10.0.0.1', 'http_req_cnt'), 4);
  assert.equal(read(b, '10.0.0.1', 'conn_cnt'), 0);
  assert.equal(read(b, '10.0.0.1', 'server_id'), 0);
  assert.equal(b.get('frontend:ns/other')!.size, 0);
});

test("a relay (a pod's main thread) can send on its workers' states, coalesced", () => {
  const clock = new ManualClock(1_000_000);
  const [w0, w1, main, remote] = instances(clock, undefined, ['dp-a/aaaa/w0', 'dp-a/aaaa/w1', 'dp-a/aaaa/main', 'dp-b/bbbb/w0']);
  const toPods = main.changeFeed({ tables: (t) => t.replicate, origins: (o) => o.startsWith('dp-a/aaaa/') });
  requests(remote, '10.0.0.1', 100);
  main.merge(overTheWire(remote.takeLocalChanges()!));
  requests(w0, '10.0.0.1', 1);
  requests(w1, '10.0.0.1', 2);
  main.merge(overTheWire(w0.takeLocalChanges()!));
  main.merge(overTheWire(w1.takeLocalChanges()!));
  requests(w0, '10.0.0.1', 1);
  main.merge(overTheWire(w0.takeLocalChanges()!));
  const update = toPods.take()!;
  assert.deepEqual(update.tables[0].origins.sort(), ['dp-a/aaaa/w0', 'dp-a/aaaa/w1']);
  assert.equal(update.tables[0].rows.length, 1);
  remote.merge(overTheWire(update));
  assert.equal(read(remote, '10.0.0.1', 'http_req_cnt'), 104);
  assert.equal(toPods.take(), null);
});

test('parseStickUpdate names the field at fault', () => {
  const clock = new ManualClock(1_000_000);
  const [a] = instances(clock);
  requests(a, '10.0.0.1', 1);
  const good = JSON.parse(JSON.stringify(a.takeLocalChanges())) as StickUpdate;
  assert.ok(!('error' in parseStickUpdate(good)));
  const bad = (mutate: (u: StickUpdate & Record<string, unknown>) => void): string => {
    const copy = structuredClone(good) as StickUpdate & Record<string, unknown>;
    mutate(copy);
    const result = parseStickUpdate(copy);
    assert.ok('error' in result);
    return result.error;
  };
  assert.match(bad((u) => (u.v = 2 as 1)), /^v: /);
  assert.match(bad((u) => (u.sentAt = -1)), /^sentAt: /);
  assert.match(bad((u) => (u.tables[0].type = 'mac' as 'ip')), /^tables\.0\.type: /);
  assert.match(bad((u) => (u.tables[0].columns[0] = 'conn_curr')), /^tables\.0\.columns\.0: unknown data type/);
  assert.match(bad((u) => (u.tables[0].columns[3] = 'http_req_rate')), /^tables\.0\.columns\.3: /);
  assert.match(bad((u) => u.tables[0].rows[0].push(1)), /^tables\.0\.rows\.0: expected the key and states/);
  assert.match(bad((u) => (u.tables[0].rows[0][0] = 5 as unknown as string)), /^tables\.0\.rows\.0\.0: /);
  assert.match(bad((u) => (u.tables[0].rows[0][1] = 1)), /^tables\.0\.rows\.0\.1: origin index 1 out of range/);
  assert.match(bad((u) => (u.tables[0].rows[0][4] = 1.5)), /^tables\.0\.rows\.0\.4: expected an integer/);
  assert.match(bad((u) => (u.tables[0].rows[0][4] = -1)), /^tables\.0\.rows\.0\.4: expected a non-negative count/);
  // gpc0 may be negative (after a clear), a rate's count may not.
  assert.ok(!('error' in parseStickUpdate({ ...good, tables: [{ ...good.tables[0], rows: [[...good.tables[0].rows[0]].fill(-1, 5, 6)] }] })));
  assert.match(bad((u) => (u.tables[0].rows[0][8] = -1)), /^tables\.0\.rows\.0\.8: expected a non-negative count/);
  assert.equal((parseStickUpdate('nope') as { error: string }).error.startsWith('(update): '), true);
});

test('apply creates, reconfigures and removes tables by name; a reconfigured table still exchanges', () => {
  const clock = new ManualClock(1_000_000);
  const [a, b] = instances(clock);
  const kept = a.get(NAME)!;
  requests(a, '10.0.0.1', 2);
  a.apply([stickTableConfig([{ type: 'http_req_cnt' }], { replicate: true }), stickTableConfig([], { name: 'backend:ns/new' })]);
  assert.equal(a.get(NAME), kept);
  assert.ok(a.get('backend:ns/new'));
  assert.equal(read(a, '10.0.0.1', 'http_req_cnt'), 2);
  b.merge(overTheWire(a.takeLocalChanges()!));
  assert.equal(read(b, '10.0.0.1', 'http_req_cnt'), 2);
  assert.equal(read(b, '10.0.0.1', 'http_req_rate'), 0);
  a.apply([]);
  assert.equal(a.get(NAME), undefined);
  assert.equal(a.takeLocalChanges(), null);
});

test('stage leaves the live tables alone until commit', () => {
  const clock = new ManualClock(1_000_000);
  const [a] = instances(clock);
  const live = a.get(NAME)!;
  requests(a, '10.0.0.1', 1);
  const staged = a.stage([stickTableConfig([{ type: 'http_req_cnt' }]), stickTableConfig([], { name: 'backend:ns/new' })]);
  assert.equal(staged.get(NAME), live);
  assert.ok(staged.get('backend:ns/new'));
  assert.equal(a.get('backend:ns/new'), undefined);
  assert.equal(read(a, '10.0.0.1', 'http_req_rate'), 1);
  a.commit(staged);
  assert.equal(a.get('backend:ns/new'), staged.get('backend:ns/new'));
  assert.equal(read(a, '10.0.0.1', 'http_req_rate'), 0);
  assert.equal(read(a, '10.0.0.1', 'http_req_cnt'), 1);
});
