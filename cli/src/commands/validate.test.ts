import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { validate } from './validate.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-validate-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const V = 'apiVersion: switchyard.dev/v1alpha1';

/** Writes `files` into a fresh fixture folder and returns its path. */
async function fixture(name: string, files: Record<string, string>): Promise<string> {
  const root = join(dir, name);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(root, file, '..'), { recursive: true });
    await writeFile(join(root, file), text);
  }
  return root;
}

async function run(...paths: string[]): Promise<{ code: number; out: string; err: string; lines: string[] }> {
  let out = '';
  let err = '';
  const code = await validate(paths, { write: (s) => void (out += s) }, { write: (s) => void (err += s) });
  return { code, out, err, lines: err.split('\n').filter((l) => l !== '') };
}

const GOOD = {
  'frontend.yaml': `${V}
kind: Frontend
metadata: { name: www }
spec:
  binds: [ { port: 8080 } ]
  defaultBackend: { name: web }
`,
  'backends/web.yaml': `${V}
kind: Backend
metadata: { name: web }
spec:
  healthPolicyRef: { name: http }
  servers:
    - { name: web1, address: 127.0.0.1, port: 9001 }
    - { name: web2, address: 127.0.0.1, port: 9002 }
---
${V}
kind: HealthPolicy
metadata: { name: http }
spec:
  http: { path: /healthz }
`,
  'service.yaml': 'apiVersion: v1\nkind: Service\nmetadata: { name: other }\n',
};

test('a valid folder: exit 0, "Configuration file is valid" on stdout, nothing on stderr', async () => {
  const root = await fixture('good', GOOD);
  const r = await run(root);
  assert.equal(r.code, 0);
  assert.equal(r.out, 'Configuration file is valid\n');
  assert.equal(r.err, '');
});

test('files given one by one are validated together (references cross files)', async () => {
  const root = await fixture('good-files', GOOD);
  const r = await run(join(root, 'frontend.yaml'), join(root, 'backends'));
  assert.equal(r.code, 0, r.err);
});

test('every problem of the issue, one line each: FILE: Kind/name: field.path: reason', async () => {
  const root = await fixture('bad', {
    'ports.yaml': `${V}
kind: Backend
metadata: { name: ports }
spec:
  servers:
    - { name: a, address: 10.0.0.1, port: abc }
    - { name: b, address: 10.0.0.2, port: 70000 }
`,
    'algo.yaml': `${V}
kind: Backend
metadata: { name: algo }
spec:
  balance: foo
`,
    'refs.yaml': `${V}
kind: Frontend
metadata: { name: to-missing }
spec:
  binds: [ { port: 8080 } ]
  defaultBackend: { name: nowhere }
---
${V}
kind: Backend
metadata: { name: no-check }
spec:
  healthPolicyRef: { name: missing-check }
`,
    'binds.yaml': `${V}
kind: Frontend
metadata: { name: first }
spec:
  binds: [ { port: 9000 } ]
---
${V}
kind: Frontend
metadata: { name: second }
spec:
  binds: [ { address: 127.0.0.1, port: 9000 } ]
`,
    'servers.yaml': `${V}
kind: Backend
metadata: { name: dup }
spec:
  servers:
    - { name: web1, address: 10.0.0.1, port: 80 }
    - { name: web1, address: 10.0.0.2, port: 80 }
`,
  });
  const r = await run(root);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  const f = (name: string): string => join(root, name);
  assert.deepEqual(r.lines, [
    `${f('algo.yaml')}: Backend/algo: spec.balance: unknown balance algorithm "foo"; expected one of roundrobin, static-rr, leastconn, first, source, uri, hdr, url_param, random`,
    `${f('binds.yaml#1')}: Frontend/second: spec.binds[0].port: 127.0.0.1:9000 overlaps 0.0.0.0:9000 of Frontend default/first (spec.binds[0])`,
    `${f('ports.yaml')}: Backend/ports: spec.servers[0].port: must be an integer 1-65535, got "abc"`,
    `${f('ports.yaml')}: Backend/ports: spec.servers[1].port: must be 1-65535, got 70000`,
    `${f('refs.yaml')}: Frontend/to-missing: spec.defaultBackend.name: Backend "nowhere" not found in namespace "default"`,
    `${f('refs.yaml#1')}: Backend/no-check: spec.healthPolicyRef.name: HealthPolicy "missing-check" not found in namespace "default"`,
    `${f('servers.yaml')}: Backend/dup: spec.servers[1].name: duplicate server name "web1" (also spec.servers[0].name)`,
    '7 errors',
  ]);
});

test('unsupported fields count as errors: they would not be served', async () => {
  const root = await fixture('unsupported', {
    'b.yaml': `${V}
kind: Backend
metadata: { name: proxied, namespace: shop }
spec:
  servers: [{ name: a, address: 10.0.0.1, port: 80, proxyProtocol: v2 }]
`,
  });
  const r = await run(root);
  assert.equal(r.code, 1);
  assert.deepEqual(r.lines, [`${join(root, 'b.yaml')}: Backend/shop/proxied: spec.servers[0].proxyProtocol: not supported yet`, '1 error']);
});

test('a syntax error: FILE:LINE:COL: reason, and the file\'s other documents are still checked', async () => {
  const root = await fixture('syntax', {
    'mixed.yaml': `${V}
kind: Backend
metadata: { name: ok }
spec: {}
---
kind: Backend
metadata: { name: x }
  spec: {}
---
${V}
kind: Backend
metadata: { name: bad }
spec: { balance: nope }
`,
  });
  const r = await run(root);
  assert.equal(r.code, 1);
  assert.match(r.lines[0]!, new RegExp(`^${join(root, 'mixed.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: \\S`));
  assert.ok(r.lines.some((l) => l.includes('mixed.yaml#2: Backend/bad: spec.balance: unknown balance algorithm "nope"')), r.err);
  assert.ok(!r.lines.some((l) => l.includes('Backend/ok')));
  assert.match(r.lines.at(-1)!, /^\d+ errors$/);
});

test('a missing path, and a folder without Switchyard objects, are errors', async () => {
  const missing = await run(join(dir, 'does-not-exist'));
  assert.equal(missing.code, 1);
  assert.deepEqual(missing.lines, [`${join(dir, 'does-not-exist')}: no such file or directory`, '1 error']);

  const root = await fixture('empty', { 'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: { name: x }\n' });
  const empty = await run(root);
  assert.equal(empty.code, 1);
  assert.deepEqual(empty.lines, [`${root}: no switchyard.dev/v1alpha1 objects found`, '1 error']);
});
