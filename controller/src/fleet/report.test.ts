import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ir } from '@switchyard/api';
import type { VersionedSnapshot } from '../channel/versioned-snapshot.ts';
import { compactDataplane, decodeReport, encodeReport, expandDataplane, fleetLeaseName } from './report.ts';
import { dataplane } from './testing/fake-local-fleet.ts';

function server(name: string): ir.Server {
  return { name, id: 1, address: '10.0.0.1', port: 80, weight: 1, maxConnections: 0, backup: false, disabled: false, slowStartMs: null, cookie: null, proxyProtocol: null } as ir.Server;
}
function versioned(version: string, clusters: Record<string, string[]>): VersionedSnapshot {
  return {
    version,
    snapshot: { listeners: [], clusters: Object.entries(clusters).map(([name, servers]) => ({ name, servers: servers.map(server) }) as unknown as ir.Cluster), stickTables: [] },
    contents: new Map(),
  };
}

describe('fleet report: compact form', () => {
  it('lists only servers that are not up, with their reasons; null health before the first report', () => {
    const dp = dataplane('dp-a', {
      ackedVersion: 'v1',
      nack: { version: 'v2', error: 'EADDRINUSE' },
      updatedAt: 42,
      health: [
        { cluster: 'default/web', server: 'a', state: 'up', reason: 'L7OK' },
        { cluster: 'default/web', server: 'b', state: 'down', reason: 'L4CON: connection refused' },
        { cluster: 'default/api', server: 'c', state: 'maint', reason: '' },
      ],
    });
    assert.deepEqual(compactDataplane(dp), {
      node: 'dp-a',
      acked: 'v1',
      nack: { version: 'v2', error: 'EADDRINUSE' },
      updatedAt: 42,
      notUp: { 'default/web': { b: 'down' }, 'default/api': { c: 'maint' } },
      reasons: { 'default/web': { b: 'L4CON: connection refused' } },
    });
    assert.equal(compactDataplane(dataplane('dp-b')).notUp, null);
    assert.deepEqual(compactDataplane(dataplane('dp-c', { health: [{ cluster: 'x/y', server: 's', state: 'up', reason: '' }] })).notUp, {});
  });

  it('round-trips through the annotation, sorted by node', () => {
    const text = encodeReport([dataplane('dp-b', { ackedVersion: 'v1' }), dataplane('dp-a')]);
    const decoded = decodeReport(text);
    assert.ok(decoded.ok);
    assert.deepEqual(
      decoded.dataplanes.map((d) => d.node),
      ['dp-a', 'dp-b'],
    );
  });

  it('rejects what it cannot read, naming the field; an absent annotation is an empty report', () => {
    assert.deepEqual(decodeReport(undefined), { ok: true, dataplanes: [] });
    assert.equal(decodeReport('{').ok, false);
    const bad = decodeReport(JSON.stringify({ v: 1, dataplanes: [{ node: 'x', acked: null, nack: null, updatedAt: 1, notUp: { c: { s: 'sideways' } } }] }));
    assert.ok(!bad.ok);
    assert.match(bad.error, /^dataplanes\.0\.notUp\.c\.s: /);
    assert.equal(decodeReport(JSON.stringify({ v: 2, dataplanes: [] })).ok, false);
  });

  it('shrinks to the budget: first the reasons, then the health of the data planes with most servers down', () => {
    const down = (n: number) => Array.from({ length: n }, (_, i) => ({ cluster: 'default/web', server: `s${i}`, state: 'down' as const, reason: 'L4TOUT: timeout after 2000 ms'.repeat(3) }));
    const dps = [dataplane('dp-a', { health: down(200) }), dataplane('dp-b', { health: down(5) })];
    const full = encodeReport(dps, 1e9);
    const noReasons = encodeReport(dps, full.length - 1);
    const r1 = decodeReport(noReasons);
    assert.ok(r1.ok);
    assert.ok(r1.dataplanes.every((d) => d.reasons === undefined));
    assert.equal(Object.keys(r1.dataplanes[0]!.notUp!['default/web']!).length, 200);
    const tiny = encodeReport(dps, 1000);
    assert.ok(Buffer.byteLength(tiny) <= 1000);
    const r2 = decodeReport(tiny);
    assert.ok(r2.ok);
    assert.equal(r2.dataplanes[0]!.notUp, null, 'the biggest loses its health');
    assert.equal(Object.keys(r2.dataplanes[1]!.notUp!['default/web']!).length, 5);
  });

  it("carries a data plane's stick-table peer URL, so replicas tell their data planes about each other's", () => {
    const text = encodeReport([dataplane('dp-a', { peerUrl: 'ws://10.0.0.5:7946/' }), dataplane('dp-b', { peerUrl: null }), dataplane('dp-c')]);
    const decoded = decodeReport(text);
    assert.ok(decoded.ok);
    assert.deepEqual(
      decoded.dataplanes.map((d) => d.peer),
      ['ws://10.0.0.5:7946/', undefined, undefined],
    );
    const expanded = decoded.dataplanes.map((d) => expandDataplane(d, 'r2').status.peerUrl);
    assert.deepEqual(expanded, ['ws://10.0.0.5:7946/', undefined, undefined]);
    // Under budget pressure the health goes, never the peer URL.
    const many = Array.from({ length: 300 }, (_, i) => ({ cluster: 'default/web', server: `s${i}`, state: 'down' as const, reason: '' }));
    const tiny = decodeReport(encodeReport([dataplane('dp-a', { peerUrl: 'ws://10.0.0.5:7946/', health: many })], 1000));
    assert.ok(tiny.ok);
    assert.equal(tiny.dataplanes[0]!.notUp, null);
    assert.equal(tiny.dataplanes[0]!.peer, 'ws://10.0.0.5:7946/');
  });

  it('truncates a long NACK error', () => {
    assert.equal(compactDataplane(dataplane('a', { nack: { version: 'v', error: 'x'.repeat(5000) } })).nack!.error.length, 1024);
  });
});

describe('fleet report: expansion', () => {
  const snapshots = new Map([['v1', versioned('v1', { 'default/web': ['a', 'b'], 'default/api': ['c'] })]]);
  const compact = {
    node: 'dp-a',
    acked: 'v1',
    nack: null,
    updatedAt: 7,
    notUp: { 'default/web': { b: 'down' as const } },
    reasons: { 'default/web': { b: 'L4CON' } },
  };

  it('rebuilds every server of the acked snapshot: up unless listed', () => {
    const { status, complete } = expandDataplane(compact, 'r2', snapshots);
    assert.equal(complete, true);
    assert.deepEqual(status, {
      node: 'dp-a',
      replica: 'r2',
      ackedVersion: 'v1',
      nack: null,
      updatedAt: 7,
      health: [
        { cluster: 'default/web', server: 'a', state: 'up', reason: '' },
        { cluster: 'default/web', server: 'b', state: 'down', reason: 'L4CON' },
        { cluster: 'default/api', server: 'c', state: 'up', reason: '' },
      ],
    });
  });

  it('keeps only the listed servers when the version is unknown, and says so', () => {
    const { status, complete } = expandDataplane({ ...compact, acked: 'v9' }, 'r2', snapshots);
    assert.equal(complete, false);
    assert.deepEqual(status.health, [{ cluster: 'default/web', server: 'b', state: 'down', reason: 'L4CON' }]);
  });

  it('no health report yet: empty health', () => {
    assert.deepEqual(expandDataplane({ ...compact, notUp: null }, 'r2', snapshots).status.health, []);
  });
});

describe('fleetLeaseName', () => {
  const cases: [string, string][] = [
    ['switchyard-controller-7d9f-abcde', 'switchyard-fleet-switchyard-controller-7d9f-abcde'],
    ['Pod_A', 'switchyard-fleet-pod-a'],
    ['--', 'switchyard-fleet-replica'],
    ['a'.repeat(300), `switchyard-fleet-${'a'.repeat(253 - 17)}`],
  ];
  for (const [replica, name] of cases) it(`${replica.slice(0, 20)} -> ${name.slice(0, 40)}`, () => assert.equal(fleetLeaseName(replica), name));
});
