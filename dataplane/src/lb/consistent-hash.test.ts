import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LbServer } from './algorithm.ts';
import { ConsistentHashLookup, POINTS_PER_WEIGHT, serverPoints } from './consistent-hash.ts';
import { hashString } from './hash-fn.ts';
import { server, servers } from './testkit.ts';

function ring(list: LbServer[]): ConsistentHashLookup {
  const r = new ConsistentHashLookup();
  for (const s of list) r.onServerUp(s);
  return r;
}

const keys = Array.from({ length: 10_000 }, (_, i) => hashString(`user-${i}`));

function owners(r: ConsistentHashLookup): (string | undefined)[] {
  return keys.map((h) => r.lookup(h, null)?.name);
}

function share(names: (string | undefined)[], name: string): number {
  return names.filter((n) => n === name).length / names.length;
}

describe('consistent hash lookup', () => {
  it('puts weight x POINTS_PER_WEIGHT points per server on the ring', () => {
    assert.ok(POINTS_PER_WEIGHT >= 16);
    assert.equal(ring(servers([1, 3])).size, 4 * POINTS_PER_WEIGHT);
    assert.equal(ring(servers([0, 2])).size, 2 * POINTS_PER_WEIGHT);
    // A fractional weight (slow start) gets its share of points, at least one.
    assert.equal(ring(servers([0.5])).size, POINTS_PER_WEIGHT / 2);
    assert.equal(ring(servers([0.0001])).size, 1);
    assert.deepEqual(serverPoints('web-1', 10).subarray(0, 5), serverPoints('web-1', 5), 'points do not depend on the count');
  });

  it('maps a key to the same server every time, whatever order servers came up in', () => {
    const list = servers([1, 1, 2, 1]);
    const a = ring(list);
    const b = ring([...list].reverse());
    assert.deepEqual(owners(a), owners(b));
  });

  it('owns a key by the first point at or after its hash', () => {
    const [a, b] = servers([1, 1]);
    const r = ring([a, b]);
    const pa = serverPoints(a.name, POINTS_PER_WEIGHT);
    const point = pa[0];
    assert.equal(r.lookup(point, null), a);
    // Just past the highest point of all: wraps to the lowest.
    const all = [...pa, ...serverPoints(b.name, POINTS_PER_WEIGHT)].sort((x, y) => x - y);
    const lowestOwner = pa.includes(all[0]) ? a : b;
    if (all[all.length - 1] < 0xffffffff) assert.equal(r.lookup(all[all.length - 1] + 1, null), lowestOwner);
  });

  it('adding a 5th server to 4 moves 10-30% of keys (theory 20%), all of them to the new server', () => {
    const list = servers([1, 1, 1, 1, 1]);
    const r = ring(list.slice(0, 4));
    const before = owners(r);
    r.onServerUp(list[4]);
    const after = owners(r);
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      assert.equal(after[i], 's5', `key ${i} moved from ${before[i]} to ${after[i]}`);
    }
    const fraction = moved / keys.length;
    assert.ok(fraction > 0.1 && fraction < 0.3, `moved ${fraction}`);
  });

  it('removing a server moves only that server’s keys, spread over the others', () => {
    const list = servers([1, 1, 1, 1, 1]);
    const r = ring(list);
    const before = owners(r);
    r.onServerDown(list[2]);
    const after = owners(r);
    const landed = new Set<string>();
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === 's3') {
        assert.notEqual(after[i], 's3');
        landed.add(after[i] as string);
      } else {
        assert.equal(after[i], before[i], `key ${i} of ${before[i]} moved`);
      }
    }
    assert.equal(landed.size, 4, 'the removed server’s keys spread over every other server');
    r.onServerUp(list[2]);
    assert.deepEqual(owners(r), before, 'coming back restores the same mapping');
  });

  it('a weight change moves keys only to or from that server', () => {
    const list = servers([1, 1, 1, 1]);
    const r = ring(list);
    const before = owners(r);
    list[0].weight = 3;
    r.onWeightChange(list[0]);
    const after = owners(r);
    for (let i = 0; i < keys.length; i++) if (before[i] !== after[i]) assert.equal(after[i], 's1');
    assert.ok(Math.abs(share(after, 's1') - 0.5) < 0.08, `s1 share ${share(after, 's1')}`);
    list[0].weight = 1;
    r.onWeightChange(list[0]);
    assert.deepEqual(owners(r), before);
  });

  it('distributes keys roughly in proportion to weight', () => {
    const r = ring(servers([1, 1, 2, 4]));
    const names = owners(r);
    [0.125, 0.125, 0.25, 0.5].forEach((want, i) => {
      const got = share(names, `s${i + 1}`);
      assert.ok(Math.abs(got - want) / want < 0.3, `s${i + 1}: ${got}, want ${want}`);
    });
  });

  it('depends on server names, not ids', () => {
    const a = ring([server(1, 1, 0, 'alpha'), server(2, 1, 0, 'beta')]);
    const b = ring([server(7, 1, 0, 'beta'), server(9, 1, 0, 'alpha')]);
    for (const h of keys.slice(0, 500)) assert.equal(a.lookup(h, null)?.name, b.lookup(h, null)?.name);
  });

  it('walks to the next server when the key owner is avoided, and keeps a sole server', () => {
    const list = servers([1, 1, 1]);
    const r = ring(list);
    for (const h of keys.slice(0, 500)) {
      const owner = r.lookup(h, null) as LbServer;
      const other = r.lookup(h, owner);
      assert.ok(other !== null && other !== owner);
      // The next server on the ring is where the key goes if its owner is removed.
      const without = ring(list.filter((s) => s !== owner));
      assert.equal(without.lookup(h, null), other);
    }
    assert.equal(ring([list[0]]).lookup(5, list[0]), list[0]);
  });

  it('returns null when no server has weight', () => {
    assert.equal(new ConsistentHashLookup().lookup(1, null), null);
    assert.equal(ring([server(1, 0)]).lookup(1, null), null);
  });
});
