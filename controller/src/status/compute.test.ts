import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerHealth } from '@switchyard/api';
import type { DataplaneStatus } from '../channel/fleet.ts';
import { dataplane } from '../fleet/testing/fake-local-fleet.ts';
import { computeStatuses, fleetServerHealth, nameList, shortVersion } from './compute.ts';
import type { DesiredCondition, DesiredStatus } from './compute.ts';
import { ACCEPTED, cacheOf, cluster, invalid, result, server, versioned } from './testing/builders.ts';

const V1 = '1111111111111111';
const V2 = '2222222222222222';
const V3 = '3333333333333333';
const app = cluster('default/app', [server('s1'), server('s2'), server('s3', { disabled: true }), server('s4')]);
const v1 = versioned(V1, { 'Frontend/default/web': 1, 'Backend/default/app': 1, 'HealthPolicy/default/hc': 1 }, [app]);
const v2 = versioned(V2, { 'Frontend/default/web': 2, 'Backend/default/app': 1, 'HealthPolicy/default/hc': 1 }, [app]);
const v3 = versioned(V3, { 'Frontend/default/web': 2, 'Backend/default/app': 2, 'HealthPolicy/default/hc': 1 }, [app]);
const cache = cacheOf(v1, v2, v3);
const results = [result('Frontend', 'web', 2), result('Backend', 'app', 1), result('HealthPolicy', 'hc', 1)];

function programmedOf(statuses: DesiredStatus[], kind: string, name: string): DesiredCondition {
  return statuses.find((s) => s.kind === kind && s.name === name)!.conditions.find((c) => c.type === 'Programmed')!;
}

describe('computeStatuses: Programmed', () => {
  const dp = (node: string, ackedVersion: string | null, nack: DataplaneStatus['nack'] = null) => dataplane(node, { ackedVersion, nack });
  const cases: { name: string; fleet: DataplaneStatus[]; status: string; reason: string; message: string }[] = [
    { name: 'no data plane connected', fleet: [], status: 'False', reason: 'NoDataPlanes', message: '0 data planes connected' },
    { name: 'every data plane runs the generation', fleet: [dp('dp-a', V2), dp('dp-b', V2), dp('dp-c', V2)], status: 'True', reason: 'Programmed', message: '3/3 data planes' },
    {
      name: 'a later version holding the same generation counts',
      fleet: [dp('dp-a', V2), dp('dp-b', V3)],
      status: 'True',
      reason: 'Programmed',
      message: '2/2 data planes',
    },
    {
      name: 'some still run an older generation or nothing',
      fleet: [dp('dp-c', null), dp('dp-a', V2), dp('dp-b', V1)],
      status: 'False',
      reason: 'Pending',
      message: '1/3 data planes; waiting for dp-b, dp-c',
    },
    { name: 'an ACK of a version the cache does not hold does not count', fleet: [dp('dp-a', 'ffffffffffffffff')], status: 'False', reason: 'Pending', message: '0/1 data planes; waiting for dp-a' },
    {
      name: 'a NACK of the version that holds it',
      fleet: [dp('dp-a', V2), dp('dp-b', V1, { version: V2, error: 'listener default/web#0 on 0.0.0.0:80: EADDRINUSE' })],
      status: 'False',
      reason: 'Rejected',
      message: 'dp-b rejected version 22222222…: listener default/web#0 on 0.0.0.0:80: EADDRINUSE',
    },
    {
      name: 'NACKs from several data planes name the first',
      fleet: [dp('dp-c', V1, { version: V3, error: 'boom' }), dp('dp-b', V1, { version: V2, error: 'EADDRINUSE' }), dp('dp-d', V1, { version: V2, error: 'x' })],
      status: 'False',
      reason: 'Rejected',
      message: 'dp-b rejected version 22222222…: EADDRINUSE (and 2 more data planes)',
    },
    {
      name: 'a NACK of a version that does not hold this generation is not about it',
      fleet: [dp('dp-b', V1, { version: V1, error: 'boom' })],
      status: 'False',
      reason: 'Pending',
      message: '0/1 data planes; waiting for dp-b',
    },
    {
      name: 'a NACK of an unknown version blames nobody',
      fleet: [dp('dp-b', V1, { version: 'eeeeeeeeeeeeeeee', error: 'boom' })],
      status: 'False',
      reason: 'Pending',
      message: '0/1 data planes; waiting for dp-b',
    },
    {
      name: 'a data plane that runs the generation is programmed even if it NACKed a later version',
      fleet: [dp('dp-a', V2, { version: V3, error: 'boom' })],
      status: 'True',
      reason: 'Programmed',
      message: '1/1 data planes',
    },
    {
      name: 'a long waiting list is cut',
      fleet: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => dp(`dp-${n}`, V1)),
      status: 'False',
      reason: 'Pending',
      message: '0/8 data planes; waiting for dp-a, dp-b, dp-c, dp-d, dp-e and 3 more',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const statuses = computeStatuses({ results, current: v2, cache, fleet: c.fleet });
      assert.deepEqual(programmedOf(statuses, 'Frontend', 'web'), { type: 'Programmed', status: c.status, observedGeneration: 2, reason: c.reason, message: c.message });
    });
  }

  it('every kind gets it, each against its own generation', () => {
    const statuses = computeStatuses({ results, current: v2, cache, fleet: [dp('dp-a', V1)] });
    assert.equal(programmedOf(statuses, 'Frontend', 'web').status, 'False', 'web changed in v2');
    assert.equal(programmedOf(statuses, 'Backend', 'app').message, '1/1 data planes', 'app is at generation 1 in v1 and v2');
    assert.equal(programmedOf(statuses, 'HealthPolicy', 'hc').status, 'True');
  });

  const objectCases: { name: string; r: ReturnType<typeof result>; current: typeof v2 | null; reason: string; message: string }[] = [
    { name: 'not accepted', r: invalid('Frontend', 'web', 2, 'spec.binds[0].port: must be 1-65535'), current: v2, reason: 'Invalid', message: 'not accepted; see the Accepted condition' },
    { name: 'no snapshot published yet', r: result('Frontend', 'web', 2), current: null, reason: 'Pending', message: 'no snapshot published yet' },
    {
      name: 'accepted but left out until its references resolve',
      r: result('Backend', 'other', 1, [ACCEPTED, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotFound', message: 'spec.serviceRef: Service default/x not found' }]),
      current: v2,
      reason: 'RefNotFound',
      message: 'not served until its references resolve; see the ResolvedRefs condition',
    },
    { name: 'accepted, not in the published snapshot', r: result('Backend', 'new', 1), current: v2, reason: 'Pending', message: 'not in the published snapshot yet' },
    { name: 'the published snapshot has an older generation', r: result('Frontend', 'web', 3), current: v2, reason: 'Pending', message: 'waiting for a snapshot with generation 3' },
  ];
  for (const c of objectCases) {
    it(c.name, () => {
      const [s] = computeStatuses({ results: [c.r], current: c.current, cache, fleet: [dp('dp-a', V2)] });
      const p = s!.conditions.find((x) => x.type === 'Programmed')!;
      assert.deepEqual([p.status, p.reason, p.message], ['False', c.reason, c.message]);
    });
  }
});

describe('computeStatuses: conditions and observedGeneration', () => {
  it('Accepted and ResolvedRefs from the translator, then Programmed, all with observedGeneration', () => {
    const [s] = computeStatuses({ results: [invalid('Backend', 'bad', 4, 'spec.servers[0].port: must be 1-65535, got 70000')], current: v2, cache, fleet: [] });
    assert.deepEqual(s, {
      kind: 'Backend',
      namespace: 'default',
      name: 'bad',
      generation: 4,
      conditions: [
        { type: 'Accepted', status: 'False', observedGeneration: 4, reason: 'Invalid', message: 'spec.servers[0].port: must be 1-65535, got 70000' },
        { type: 'ResolvedRefs', status: 'Unknown', observedGeneration: 4, reason: 'Invalid', message: 'references not checked: the object is not accepted' },
        { type: 'Programmed', status: 'False', observedGeneration: 4, reason: 'Invalid', message: 'not accepted; see the Accepted condition' },
      ],
    });
  });

  it('no generation (file mode): no observedGeneration; a null generation in contents matches', () => {
    const v = versioned('abc', { 'Frontend/default/f': null });
    const [s] = computeStatuses({ results: [result('Frontend', 'f', null)], current: v, cache: cacheOf(v), fleet: [dataplane('dp', { ackedVersion: 'abc' })] });
    assert.ok(s!.conditions.every((c) => !('observedGeneration' in c)));
    assert.equal(s!.conditions[2]!.status, 'True');
  });

  it('a duplicate object keeps the first result', () => {
    const statuses = computeStatuses({ results: [result('Frontend', 'web', 2), invalid('Frontend', 'web', 2, 'duplicate')], current: v2, cache, fleet: [] });
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0]!.conditions[0]!.status, 'True');
  });
});

describe('computeStatuses: Backend servers', () => {
  const h = (serverName: string, state: ServerHealth['state'], reason = ''): ServerHealth => ({ cluster: 'default/app', server: serverName, state, reason });
  const serversOf = (fleet: DataplaneStatus[]) => computeStatuses({ results, current: v2, cache, fleet }).find((s) => s.kind === 'Backend')!.servers;

  it('no health report yet: only the total, and the servers the spec disables', () => {
    assert.deepEqual(serversOf([]), { total: 4, up: 0, down: 0, maintenance: 1 });
  });

  it('each server counts once, in its worst state across the data planes that report it', () => {
    const fleet = [
      dataplane('dp-a', { health: [h('s1', 'up'), h('s2', 'down'), h('s3', 'maint'), h('s4', 'up')] }),
      dataplane('dp-b', { health: [h('s1', 'up'), h('s2', 'up'), h('s3', 'maint'), h('s4', 'maint')] }),
    ];
    assert.deepEqual(serversOf(fleet), { total: 4, up: 1, down: 1, maintenance: 2 });
  });

  const worst: [ServerHealth['state'][], string | undefined][] = [
    [['up'], 'up'],
    [['up', 'up'], 'up'],
    [['up', 'down'], 'down'],
    [['down', 'up'], 'down'],
    [['down', 'maint'], 'maint'],
    [['up', 'maint'], 'maint'],
    [['maint', 'down', 'up'], 'maint'],
  ];
  for (const [states, expected] of worst) {
    it(`fleet state of [${states.join(', ')}] is ${expected}`, () => {
      const fleet = states.map((state, i) => dataplane(`dp-${i}`, { health: [h('s1', state, state === 'up' ? '' : `why ${i}`)] }));
      const s1 = fleetServerHealth(fleet).get('default/app')!.get('s1')!;
      assert.equal(s1.state, expected);
      assert.equal(s1.reporters, states.length);
      const idx = states.map((s, i) => [s, i] as const).filter(([s]) => s === expected).map(([, i]) => i);
      assert.deepEqual(s1.nodes, idx.map((i) => `dp-${i}`));
      assert.equal(s1.reason, expected === 'up' ? '' : `why ${idx[0]}`);
    });
  }

  it('servers only for accepted Backends that are in the snapshot', () => {
    const statuses = computeStatuses({ results: [invalid('Backend', 'app', 2, 'x'), result('Backend', 'gone', 1), result('Frontend', 'web', 2)], current: v2, cache, fleet: [] });
    assert.ok(statuses.every((s) => s.servers === undefined));
  });

  it('a Backend with no servers: all zero', () => {
    const v = versioned('e', { 'Backend/default/empty': 1 }, [cluster('default/empty', [])]);
    const [s] = computeStatuses({ results: [result('Backend', 'empty', 1)], current: v, cache: cacheOf(v), fleet: [] });
    assert.deepEqual(s!.servers, { total: 0, up: 0, down: 0, maintenance: 0 });
  });
});

describe('message helpers', () => {
  it('shortVersion and nameList', () => {
    assert.equal(shortVersion('3f2a1b2c4d5e6f70'), '3f2a1b2c…');
    assert.equal(shortVersion('abc'), 'abc');
    assert.equal(nameList(['a']), 'a');
    assert.equal(nameList(['a', 'b', 'c', 'd', 'e', 'f']), 'a, b, c, d, e and 1 more');
  });
});
