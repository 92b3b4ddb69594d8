import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LbServer } from './algorithm.ts';
import { hashString } from './hash-fn.ts';
import { buildWeightTable, MapHashLookup } from './hash-map.ts';
import { server, servers } from './testkit.ts';

function lookup(list: LbServer[]): MapHashLookup {
  const map = new MapHashLookup();
  for (const s of list) map.onServerUp(s);
  return map;
}

const keys = Array.from({ length: 40_000 }, (_, i) => hashString(`session-${i}`));

function owners(map: MapHashLookup): (string | undefined)[] {
  return keys.map((h) => map.lookup(h, null)?.name);
}

describe('map-based hash lookup', () => {
  it('expands weights into an interleaved table', () => {
    const names = buildWeightTable(servers([3, 2, 1])).map((s) => s.name);
    assert.deepEqual(names, ['s1', 's2', 's1', 's3', 's2', 's1']);
    assert.equal(buildWeightTable(servers([0, 2])).length, 2);
    assert.equal(buildWeightTable([]).length, 0);
    // Fractional weights are rounded, any positive weight gets a slot.
    assert.equal(buildWeightTable(servers([0.2, 2.6])).length, 4);
  });

  it('indexes the table by hash modulo the total weight', () => {
    const map = lookup(servers([3, 2, 1]));
    const table = buildWeightTable(servers([3, 2, 1])).map((s) => s.name);
    assert.equal(map.size, 6);
    for (let h = 0; h < 60; h++) assert.equal(map.lookup(h, null)?.name, table[h % 6]);
    assert.equal(map.lookup(0xffffffff, null)?.name, table[0xffffffff % 6]);
  });

  it('maps a key to the same server every time, whatever order servers came up in', () => {
    const list = servers([1, 2, 3, 1]);
    const a = lookup(list);
    const b = lookup([...list].reverse());
    assert.deepEqual(owners(a), owners(b));
    assert.deepEqual(owners(a), owners(a));
  });

  it('distributes keys in proportion to weight (within 1.5 points)', () => {
    const map = lookup(servers([1, 2, 3, 4]));
    const counts = new Map<string, number>();
    for (const name of owners(map)) counts.set(name as string, (counts.get(name as string) ?? 0) + 1);
    [0.1, 0.2, 0.3, 0.4].forEach((want, i) => {
      const got = (counts.get(`s${i + 1}`) ?? 0) / keys.length;
      assert.ok(Math.abs(got - want) < 0.015, `s${i + 1}: ${got}`);
    });
  });

  it('rebuilds on down, up and weight change', () => {
    const list = servers([1, 1, 1]);
    const map = lookup(list);
    const before = owners(map);
    map.onServerDown(list[1]);
    assert.equal(map.size, 2);
    assert.ok(!owners(map).includes('s2'));
    map.onServerUp(list[1]);
    assert.deepEqual(owners(map), before);
    list[2].weight = 0;
    map.onWeightChange(list[2]);
    assert.ok(!owners(map).includes('s3'));
    list[2].weight = 2;
    map.onWeightChange(list[2]);
    assert.equal(map.size, 4);
    const share = owners(map).filter((n) => n === 's3').length / keys.length;
    assert.ok(Math.abs(share - 0.5) < 0.015, `s3 share ${share}`);
  });

  it('returns null when no server has weight', () => {
    assert.equal(new MapHashLookup().lookup(1, null), null);
    assert.equal(lookup([server(1, 0)]).lookup(1, null), null);
  });

  it('walks to another server when the key owner is avoided, and keeps a sole server', () => {
    const list = servers([5, 1, 1]);
    const map = lookup(list);
    for (let h = 0; h < 7; h++) {
      const owner = map.lookup(h, null) as LbServer;
      const other = map.lookup(h, owner);
      assert.ok(other !== null && other !== owner, `slot ${h}`);
      assert.equal(map.lookup(h, list[0] === owner ? list[1] : list[0]), owner, 'avoiding another server changes nothing');
    }
    const single = lookup([list[0]]);
    assert.equal(single.lookup(3, list[0]), list[0]);
  });

  it('returns the owner even when it is full (the request waits for it)', () => {
    const list = servers([1, 1], 1);
    list[0].active = 1;
    list[1].active = 1;
    const map = lookup(list);
    assert.notEqual(map.lookup(0, null), null);
  });
});
