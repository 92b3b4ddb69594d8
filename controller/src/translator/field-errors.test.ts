import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackendSchema, FrontendSchema } from '@switchyard/api';
import type { z } from 'zod';
import { describeValue, issuesToFieldErrors } from './field-errors.ts';

const V = 'switchyard.dev/v1alpha1';

function errors(schema: z.ZodType, object: unknown): string[] {
  const r = schema.safeParse(object, { reportInput: true });
  assert.equal(r.success, false);
  return issuesToFieldErrors(r.error!.issues, schema, object).map((e) => `${e.path}: ${e.message}`);
}

const frontend = (spec: object): object => ({ apiVersion: V, kind: 'Frontend', metadata: { name: 'f' }, spec: { binds: [{ port: 80 }], ...spec } });
const backend = (spec: object): object => ({ apiVersion: V, kind: 'Backend', metadata: { name: 'b' }, spec });

test('unions: literal options, types, and the option that matched the type', () => {
  assert.deepEqual(errors(FrontendSchema, frontend({ httpRequest: [{ action: 'redirect', location: '/', code: 300 }] })), [
    'spec.httpRequest[0].code: must be one of 301, 302, 303, 307, 308, got 300',
  ]);
  assert.deepEqual(errors(FrontendSchema, frontend({ stickTable: { type: 'ip', size: '10x' } })), [
    'spec.stickTable.size: must be an integer, optionally with k, m or g, got "10x"',
  ]);
  assert.deepEqual(errors(FrontendSchema, frontend({ stickTable: { type: 'ip', size: true } })), ['spec.stickTable.size: must be a number or a string, got true']);
  assert.deepEqual(errors(BackendSchema, backend({ serviceRef: { name: 'web', port: 70000 } })), ['spec.serviceRef.port: must be 1-65535, got 70000']);
});

test('discriminated unions name the unknown action, or say it is missing', () => {
  assert.deepEqual(errors(FrontendSchema, frontend({ httpRequest: [{ action: 'nope' }] }))[0]?.startsWith('spec.httpRequest[0].action: unknown action "nope"; expected one of set-header,'), true);
  assert.deepEqual(errors(FrontendSchema, frontend({ httpRequest: [{ name: 'x' }] }))[0]?.startsWith('spec.httpRequest[0].action: is required; expected one of'), true);
});

test('rule fields inside a union option are checked with their own bounds', () => {
  assert.deepEqual(errors(FrontendSchema, frontend({ httpRequest: [{ action: 'deny', status: 700 }] })), ['spec.httpRequest[0].status: must be 200-599, got 700']);
});

test('unknown fields suggest the closest known one, only when it is close', () => {
  assert.deepEqual(errors(BackendSchema, backend({ balanc: 'roundrobin', zzz: 1 })), ['spec.balanc: unknown field; did you mean "balance"?', 'spec.zzz: unknown field']);
});

test('describeValue', () => {
  assert.equal(describeValue('x'), '"x"');
  assert.equal(describeValue(3), '3');
  assert.equal(describeValue(null), 'null');
  assert.equal(describeValue([1]), 'a list');
  assert.equal(describeValue({}), 'an object');
  assert.equal(describeValue('a'.repeat(100)).length, 62);
});
