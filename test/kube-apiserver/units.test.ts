/**
 * The emulator's pure parts on their own: patches, selectors, JSONPath, durations, version order,
 * schema pruning and defaulting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { compileJsonPath } from './jsonpath.ts';
import { humanDuration } from './table.ts';
import { compareKubeVersions } from './registry.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { applyDefaults, prune, validateSchema } from './schema.ts';
import type { Schema } from './schema.ts';
import { ApiError } from './errors.ts';
import type { KubeObject } from './types.ts';

test('merge patch (RFC 7386): objects merge, null deletes, arrays replace', () => {
  assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] }), { a: { c: 2, d: 3 }, l: [3] });
});

test('JSON patch (RFC 6902): every op, pointer escapes, errors', () => {
  const doc = { a: { 'x/y': 1, 'm~n': 2 }, l: [1, 2] };
  assert.deepEqual(
    jsonPatch(doc, [
      { op: 'add', path: '/l/-', value: 3 },
      { op: 'add', path: '/l/0', value: 0 },
      { op: 'replace', path: '/a/x~1y', value: 10 },
      { op: 'remove', path: '/a/m~0n' },
      { op: 'copy', from: '/a', path: '/b' },
      { op: 'move', from: '/b/x~1y', path: '/c' },
      { op: 'test', path: '/c', value: 10 },
    ]),
    { a: { 'x/y': 10 }, l: [0, 1, 2, 3], b: {}, c: 10 },
  );
  assert.deepEqual(doc, { a: { 'x/y': 1, 'm~n': 2 }, l: [1, 2] }, 'the input is not modified');
  const code = (fn: () => unknown): number | undefined => {
    try {
      fn();
    } catch (e) {
      return e instanceof ApiError ? e.code : undefined;
    }
    return undefined;
  };
  assert.equal(code(() => jsonPatch(doc, { op: 'add' })), 400);
  assert.equal(code(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }])), 422);
  assert.equal(code(() => jsonPatch(doc, [{ op: 'test', path: '/l/0', value: 9 }])), 422);
});

test('strategic merge patch: merge keys, directives, primitive lists', () => {
  const deployment = {
    metadata: { finalizers: ['a'] },
    spec: { template: { spec: { containers: [{ name: 'app', image: 'v1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }, { name: 'side', image: 's' }] } } },
  };
  // What helm upgrade sent in the reference (§2.7), plus a delete directive.
  const patched = strategicMergePatch(deployment, {
    metadata: { finalizers: ['b'] },
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'app' }, { name: 'side' }],
          containers: [{ '$setElementOrder/env': [{ name: 'B' }, { name: 'C' }], env: [{ name: 'C', value: '3' }, { name: 'A', $patch: 'delete' }], image: 'v2', name: 'app' }],
        },
      },
    },
  }) as typeof deployment;
  assert.deepEqual(patched.metadata.finalizers, ['a', 'b'], 'finalizers merge as a set');
  const [app, side] = patched.spec.template.spec.containers;
  assert.equal(app.image, 'v2');
  assert.deepEqual(app.env, [{ name: 'B', value: '2' }, { name: 'C', value: '3' }]);
  assert.deepEqual(side, { name: 'side', image: 's' });

  assert.deepEqual(strategicMergePatch({ data: { a: '1', b: '2' } }, { data: { b: null, c: '3' } }), { data: { a: '1', c: '3' } });
  assert.deepEqual(strategicMergePatch({ spec: { x: 1, y: 2 } }, { spec: { $patch: 'replace', z: 3 } }), { spec: { z: 3 } });
  assert.deepEqual(strategicMergePatch({ spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } }, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }), {
    spec: { strategy: { type: 'Recreate' } },
  });
  assert.deepEqual(strategicMergePatch({ args: ['a', 'b'] }, { args: ['c'] }), { args: ['c'] }, 'plain primitive lists replace');
  assert.deepEqual(strategicMergePatch({ f: ['a', 'b', 'c'] }, { '$deleteFromPrimitiveList/f': ['b'] }), { f: ['a', 'c'] });
});

test('label selectors: equality, sets, existence; parse errors are 400', () => {
  const obj = (labels: Record<string, string>): KubeObject => ({ metadata: { labels } });
  const sel = parseLabelSelector('app=web,tier in (front, back),env!=prod,!legacy,team');
  assert.equal(sel(obj({ app: 'web', tier: 'back', team: 'x' })), true);
  assert.equal(sel(obj({ app: 'web', tier: 'back', team: 'x', env: 'prod' })), false);
  assert.equal(sel(obj({ app: 'web', tier: 'back', team: 'x', legacy: '' })), false);
  assert.equal(sel(obj({ app: 'web', tier: 'mid', team: 'x' })), false);
  assert.equal(parseLabelSelector('k notin (a)')(obj({})), true);
  assert.throws(() => parseLabelSelector('in (a)'), (e: ApiError) => e.code === 400);
});

test('field selectors: declared fields only, escapes, != ', () => {
  const fields = { 'spec.type': (o: KubeObject) => String((o.spec as { type: string }).type) };
  const o: KubeObject = { metadata: { name: 'a,b', namespace: 'ns' }, spec: { type: 'x' } };
  assert.equal(parseFieldSelector('metadata.name=a\\,b,spec.type!=y', fields)(o), true);
  assert.equal(parseFieldSelector('metadata.namespace==other', fields)(o), false);
  assert.throws(() => parseFieldSelector('spec.other=1', fields), (e: ApiError) => e.code === 400 && e.message === 'field label not supported: spec.other');
});

test('JSONPath subset of printer columns', () => {
  const obj = { status: { conditions: [{ type: 'Accepted', status: 'True' }, { type: 'Programmed', status: 'False' }] }, spec: { binds: [{ port: 80 }, { port: 81 }] } };
  assert.deepEqual(compileJsonPath('.status.conditions[?(@.type=="Programmed")].status')(obj), ['False']);
  assert.deepEqual(compileJsonPath('.spec.binds[*].port')(obj), [80, 81]);
  assert.deepEqual(compileJsonPath('{.spec.binds[1].port}')(obj), [81]);
  assert.deepEqual(compileJsonPath('.spec.missing.x')(obj), []);
});

test('human durations as kubectl prints them', () => {
  const s = 1000;
  assert.deepEqual(
    [59 * s, 119 * s, 150 * s, 600 * s, 3 * 3600 * s + 120 * s, 9 * 3600 * s, 50 * 3600 * s, 400 * 86400 * s, 3 * 365 * 86400 * s].map(humanDuration),
    ['59s', '119s', '2m30s', '10m', '3h2m', '9h', '2d2h', '400d', '3y'],
  );
});

test('Kubernetes version priority', () => {
  assert.deepEqual(['v1alpha1', 'v2', 'foo', 'v1beta2', 'v1', 'v1beta1', 'v10'].sort(compareKubeVersions), ['v10', 'v2', 'v1', 'v1beta2', 'v1beta1', 'v1alpha1', 'foo']);
});

test('schema: pruning keeps what is declared or preserved, defaults fill where the parent exists', () => {
  const schema: Schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          a: { type: 'integer', default: 1 },
          opt: { type: 'object', properties: { x: { type: 'string', default: 'd' } } },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          map: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'integer', default: 0 } } } },
          n: { type: 'string', nullable: true },
          nn: { type: 'string', default: 'was-null' },
        },
      },
    },
  };
  const obj = { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'n', bogus: 1 }, spec: { free: { any: { thing: 1 } }, map: { k: { v: 5, drop: 1 }, j: {} }, n: null, nn: null, gone: 1 }, top: 1 };
  const unknown = prune(obj, schema);
  assert.deepEqual(unknown.sort(), ['metadata.bogus', 'spec.gone', 'spec.map.k.drop', 'top']);
  applyDefaults(obj, schema);
  assert.deepEqual(obj.spec, { a: 1, free: { any: { thing: 1 } }, map: { k: { v: 5 }, j: { v: 0 } }, n: null, nn: 'was-null' } as unknown);
  assert.deepEqual(validateSchema({ spec: { a: 'x' } }, schema).map((c) => c.message), ['Invalid value: "string": spec.a in body must be of type integer: "string"']);
});
