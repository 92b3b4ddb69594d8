import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerHealth } from '@switchyard/api';
import type { DataplaneStatus } from '../channel/fleet.ts';
import { dataplane } from '../fleet/testing/fake-local-fleet.ts';
import { FleetEvents } from './fleet-events.ts';
import type { FleetEvent } from './fleet-events.ts';
import { cacheOf, cluster, listener, server, versioned } from './testing/builders.ts';

const V1 = 'aaaaaaaaaaaaaaaa';
const V2 = 'bbbbbbbbbbbbbbbb';
const V3 = 'cccccccccccccccc';
const base = { 'Frontend/shop/web': 1, 'Frontend/shop/admin': 1, 'Backend/shop/app': 1, 'HealthPolicy/shop/hc': 1 };
const v1 = versioned(V1, base, [cluster('shop/app', [server('s1'), server('s2')])], [listener('shop/web', 80), listener('shop/admin', 81)]);
// v2: web edited (generation 2), app unchanged.
const v2 = versioned(V2, { ...base, 'Frontend/shop/web': 2 }, [cluster('shop/app', [server('s1'), server('s2')])], [listener('shop/web', 8080), listener('shop/admin', 81)]);
// v3: same generations as v1, but app's endpoints changed (a discovered server).
const v3 = versioned(V3, base, [cluster('shop/app', [server('s1'), server('s2'), server('s3')])], [listener('shop/web', 80), listener('shop/admin', 81)]);
const cache = cacheOf(v1, v2, v3);

const fmt = (events: FleetEvent[]) => events.map((e) => `${e.target.kind}/${e.target.name} ${e.type} ${e.reason}: ${e.message}`);

describe('FleetEvents: NACKs', () => {
  const nacking = (node: string, acked: string | null, version: string, error = 'listener shop/web#0 on 0.0.0.0:8080: EADDRINUSE'): DataplaneStatus =>
    dataplane(node, { ackedVersion: acked, nack: { version, error } });

  it('the first observation is a baseline: nothing', () => {
    const fe = new FleetEvents();
    assert.deepEqual(fe.observe([nacking('dp-b', V1, V2)], v2, cache), []);
  });

  it('names the objects the rejected version would have changed on that data plane', () => {
    const fe = new FleetEvents();
    fe.observe([dataplane('dp-b', { ackedVersion: V1 })], v2, cache);
    assert.deepEqual(fmt(fe.observe([nacking('dp-b', V1, V2)], v2, cache)), [
      'Frontend/web Warning Rejected: data plane dp-b rejected version bbbbbbbb…: listener shop/web#0 on 0.0.0.0:8080: EADDRINUSE',
    ]);
  });

  it('once per NACK: the same one again is quiet, a new error or a NACK after an ACK is told again', () => {
    const fe = new FleetEvents();
    fe.observe([], v2, cache);
    assert.equal(fe.observe([nacking('dp-b', V1, V2)], v2, cache).length, 1);
    assert.equal(fe.observe([nacking('dp-b', V1, V2)], v2, cache).length, 0);
    assert.equal(fe.observe([nacking('dp-b', V1, V2, 'other error')], v2, cache).length, 1);
    assert.equal(fe.observe([dataplane('dp-b', { ackedVersion: V1 })], v2, cache).length, 0);
    assert.equal(fe.observe([nacking('dp-b', V1, V2, 'other error')], v2, cache).length, 1);
    // Disconnected, then back with the same NACK: told again (it is a new attempt).
    assert.equal(fe.observe([], v2, cache).length, 0);
    assert.equal(fe.observe([nacking('dp-b', V1, V2, 'other error')], v2, cache).length, 1);
  });

  it('a data plane that runs nothing yet: every object of the rejected version, up to the cap', () => {
    const fe = new FleetEvents({ maxTargets: 3 });
    fe.observe([], v2, cache);
    assert.deepEqual(
      fe.observe([nacking('dp-new', null, V2, 'boom')], v2, cache).map((e) => `${e.target.kind}/${e.target.name}`),
      ['Frontend/web', 'Frontend/admin', 'Backend/app'],
    );
  });

  it('a version that changes no generation (endpoints): the Backends whose clusters differ', () => {
    const fe = new FleetEvents();
    fe.observe([], v3, cache);
    assert.deepEqual(
      fe.observe([nacking('dp-b', V1, V3, 'too many servers')], v3, cache).map((e) => `${e.target.kind}/${e.target.namespace}/${e.target.name}`),
      ['Backend/shop/app'],
    );
  });

  it('a version the cache does not hold: nobody', () => {
    const fe = new FleetEvents();
    fe.observe([], v2, cache);
    assert.deepEqual(fe.observe([nacking('dp-b', V1, 'ffffffffffffffff')], v2, cache), []);
  });
});

describe('FleetEvents: server health', () => {
  const h = (s: string, state: ServerHealth['state'], reason = ''): ServerHealth => ({ cluster: 'shop/app', server: s, state, reason });
  const dp = (node: string, ...health: ServerHealth[]) => dataplane(node, { ackedVersion: V1, health });

  it('tells transitions of the fleet state, naming backend, server and data planes', () => {
    const fe = new FleetEvents();
    assert.deepEqual(fe.observe([dp('dp-a', h('s1', 'up'), h('s2', 'down', 'L4CON'))], v1, cache), [], 'baseline, even with a server down');
    const steps: [DataplaneStatus[], string[]][] = [
      [[dp('dp-a', h('s1', 'down', 'L4CON: connection refused'), h('s2', 'down')), dp('dp-b', h('s1', 'up'), h('s2', 'down'))], ['Backend/app Warning ServerDown: server s1 of backend shop/app is down on dp-a: L4CON: connection refused']],
      [[dp('dp-a', h('s1', 'down'), h('s2', 'down')), dp('dp-b', h('s1', 'down', 'L7STS: 503'), h('s2', 'down'))], []],
      [[dp('dp-a', h('s1', 'up'), h('s2', 'down')), dp('dp-b', h('s1', 'down', 'L7STS: 503'), h('s2', 'down'))], []],
      [[dp('dp-a', h('s1', 'up'), h('s2', 'down')), dp('dp-b', h('s1', 'up'), h('s2', 'down'))], ['Backend/app Normal ServerUp: server s1 of backend shop/app is up on dp-a, dp-b']],
      [[dp('dp-a', h('s1', 'up'), h('s2', 'maint')), dp('dp-b', h('s1', 'up'), h('s2', 'down'))], ['Backend/app Normal ServerMaintenance: server s2 of backend shop/app is in maintenance on dp-a']],
    ];
    for (const [fleet, expected] of steps) assert.deepEqual(fmt(fe.observe(fleet, v1, cache)), expected);
  });

  it('a server first seen up is no news; first seen down is', () => {
    const fe = new FleetEvents();
    fe.observe([], v1, cache);
    assert.deepEqual(fmt(fe.observe([dp('dp-a', h('s1', 'up'), h('s2', 'down'))], v1, cache)), ['Backend/app Warning ServerDown: server s2 of backend shop/app is down on dp-a']);
  });

  it('a server nobody reports for a while keeps its state: no repeat when the data planes come back', () => {
    const fe = new FleetEvents();
    fe.observe([], v1, cache);
    assert.equal(fe.observe([dp('dp-a', h('s1', 'down'))], v1, cache).length, 1);
    assert.equal(fe.observe([], v1, cache).length, 0);
    assert.equal(fe.observe([dp('dp-b', h('s1', 'down'))], v1, cache).length, 0);
  });

  it('only servers of the published snapshot count; one that leaves it is forgotten', () => {
    const fe = new FleetEvents();
    const without = versioned('x', base, [cluster('shop/app', [server('s1')])]);
    const withS9 = versioned('y', base, [cluster('shop/app', [server('s1'), server('s9')])]);
    fe.observe([], without, cache);
    assert.equal(fe.observe([dp('dp-a', h('s9', 'down'))], without, cache).length, 0, 'a lagging report of a removed server');
    assert.equal(fe.observe([dp('dp-a', h('s9', 'down'))], withS9, cache).length, 1);
    assert.equal(fe.observe([dp('dp-a', h('s9', 'down'))], withS9, cache).length, 0);
    fe.observe([dp('dp-a', h('s9', 'down'))], without, cache); // removed: forgotten
    assert.equal(fe.observe([dp('dp-a', h('s9', 'down'))], withS9, cache).length, 1, 'added again, down: news');
  });

  it('reset makes the next observation a baseline again', () => {
    const fe = new FleetEvents();
    fe.observe([], v1, cache);
    fe.reset();
    assert.deepEqual(fe.observe([dp('dp-a', h('s1', 'down'))], v1, cache), []);
  });
});
