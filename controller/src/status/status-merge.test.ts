import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DesiredStatus } from './compute.ts';
import { buildStatus, canonical, fingerprint, sameStatus, statusEvents } from './status-merge.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';

function desired(accepted: 'True' | 'False', programmed: 'True' | 'False', extra: Partial<DesiredStatus> = {}): DesiredStatus {
  return {
    kind: 'Backend',
    namespace: 'default',
    name: 'app',
    generation: 2,
    conditions: [
      { type: 'Accepted', status: accepted, observedGeneration: 2, reason: accepted === 'True' ? 'Accepted' : 'Invalid', message: accepted === 'True' ? 'valid' : 'spec.port: bad' },
      { type: 'Programmed', status: programmed, observedGeneration: 2, reason: programmed === 'True' ? 'Programmed' : 'Pending', message: programmed === 'True' ? '2/2 data planes' : '1/2 data planes; waiting for dp-b' },
    ],
    ...extra,
  };
}

describe('buildStatus', () => {
  it('a condition whose status is unchanged keeps its lastTransitionTime; a changed one takes now', () => {
    const live = buildStatus(desired('True', 'False'), undefined, T0);
    assert.ok(live.conditions.every((c) => c.lastTransitionTime === T0));
    const next = buildStatus(desired('True', 'True'), live, T1);
    assert.deepEqual(
      next.conditions.map((c) => [c.type, c.lastTransitionTime]),
      [
        ['Accepted', T0],
        ['Programmed', T1],
      ],
    );
  });

  it('a message or observedGeneration change alone keeps the time (metav1 semantics)', () => {
    const live = buildStatus(desired('True', 'False'), undefined, T0);
    const d = desired('True', 'False');
    d.conditions[1] = { ...d.conditions[1]!, observedGeneration: 3, message: '0/2 data planes; waiting for dp-a, dp-b' };
    assert.ok(buildStatus(d, live, T1).conditions.every((c) => c.lastTransitionTime === T0));
  });

  it('conditions not desired any more are dropped; servers are copied', () => {
    const live = { conditions: [{ type: 'Old', status: 'True', reason: 'X', message: '', lastTransitionTime: T0 }], extra: 1 };
    const out = buildStatus(desired('True', 'True', { servers: { total: 2, up: 1, down: 1, maintenance: 0 } }), live, T1);
    assert.deepEqual(Object.keys(out), ['conditions', 'servers']);
    assert.deepEqual(out.conditions.map((c) => c.type), ['Accepted', 'Programmed']);
  });

  it('tolerates a live status of any shape', () => {
    for (const live of [null, 'x', { conditions: 'nope' }, { conditions: [null, 3, { type: 'Accepted' }] }]) {
      assert.equal(buildStatus(desired('True', 'True'), live, T1).conditions[0]!.lastTransitionTime, T1);
    }
  });
});

describe('sameStatus and fingerprint', () => {
  it('ignore key order and undefined fields; see any value difference', () => {
    assert.ok(sameStatus({ a: 1, b: [1, { c: 2, d: undefined }] }, { b: [1, { c: 2 }], a: 1 }));
    assert.ok(!sameStatus({ a: [1, 2] }, { a: [2, 1] }));
    assert.ok(sameStatus(undefined, {}));
    assert.equal(canonical({ b: 1, a: 'x' }), '{"a":"x","b":1}');
  });

  it('a fingerprint has no times, so equal desired statuses match', () => {
    assert.equal(fingerprint(desired('True', 'True')), fingerprint(desired('True', 'True')));
    assert.notEqual(fingerprint(desired('True', 'True')), fingerprint(desired('True', 'False')));
    assert.notEqual(fingerprint(desired('True', 'True')), fingerprint(desired('True', 'True', { servers: { total: 1, up: 1, down: 0, maintenance: 0 } })));
  });
});

describe('statusEvents', () => {
  const accepted = buildStatus(desired('True', 'True'), undefined, T0);
  const rejected = buildStatus(desired('False', 'False'), undefined, T0);
  const otherField = buildStatus(
    { ...desired('False', 'False'), conditions: [{ type: 'Accepted', status: 'False', reason: 'Unsupported', message: 'spec.persistence.stick.replicate: not supported yet' }] },
    undefined,
    T0,
  );
  const cases: [string, unknown, typeof accepted, string[]][] = [
    ['accepted -> not accepted: Warning with the reason and the field', accepted, rejected, ['Warning Invalid spec.port: bad']],
    ['no status yet -> not accepted', undefined, rejected, ['Warning Invalid spec.port: bad']],
    ['still not accepted for the same reason: nothing', rejected, rejected, []],
    ['still not accepted, another field: told again', rejected, otherField, ['Warning Unsupported spec.persistence.stick.replicate: not supported yet']],
    ['not accepted -> accepted: nothing', rejected, accepted, []],
    ['accepted -> accepted: nothing', accepted, accepted, []],
  ];
  for (const [name, before, after, expected] of cases) {
    it(name, () => {
      assert.deepEqual(
        statusEvents(before, after).map((e) => `${e.type} ${e.reason} ${e.message}`),
        expected,
      );
    });
  }
});
