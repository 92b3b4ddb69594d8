/**
 * `switchyard validate -f FILE|DIR` as a real process, like `haproxy -c`: exit 1 and one line
 * `FILE: Kind/name: field.path: reason` per problem on stderr, exit 0 and "Configuration file is
 * valid" on stdout for a good configuration, exit 2 for usage errors.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, tempDir } from '../helpers/cli-process.ts';

const V = 'apiVersion: switchyard.dev/v1alpha1';

let root: string;
let removeRoot: () => Promise<void>;
before(async () => {
  ({ path: root, remove: removeRoot } = await tempDir('switchyard-cli-validate-'));
});
after(async () => {
  await removeRoot();
});

/**
 * The problems of the issue, one manifest each, with names distinct across files (they are also
 * validated all together); `line` is what validate must print for it.
 */
const CASES: { name: string; file: string; yaml: string; line: string }[] = [
  {
    name: 'a non-numeric port',
    file: 'port-not-a-number.yaml',
    yaml: `${V}
kind: Backend
metadata: { name: api }
spec:
  servers:
    - { name: web1, address: 127.0.0.1, port: abc }
`,
    line: 'port-not-a-number.yaml: Backend/api: spec.servers[0].port: must be an integer 1-65535, got "abc"',
  },
  {
    name: 'an out-of-range port',
    file: 'port-out-of-range.yaml',
    yaml: `${V}
kind: Backend
metadata: { name: cache }
spec:
  servers:
    - { name: web1, address: 127.0.0.1, port: 8080 }
    - { name: web2, address: 127.0.0.1, port: 70000 }
`,
    line: 'port-out-of-range.yaml: Backend/cache: spec.servers[1].port: must be 1-65535, got 70000',
  },
  {
    name: 'an unknown balance algorithm',
    file: 'balance.yaml',
    yaml: `${V}
kind: Backend
metadata: { name: web }
spec:
  balance: fastest
  servers:
    - { name: web1, address: 127.0.0.1, port: 8080 }
`,
    line: 'balance.yaml: Backend/web: spec.balance: unknown balance algorithm "fastest"; expected one of roundrobin, static-rr, leastconn, first, source, uri, hdr, url_param, random',
  },
  {
    name: 'a reference to a missing Backend',
    file: 'missing-backend.yaml',
    yaml: `${V}
kind: Frontend
metadata: { name: www }
spec:
  binds: [ { address: 127.0.0.1, port: 8080 } ]
  defaultBackend: { name: nowhere }
`,
    line: 'missing-backend.yaml: Frontend/www: spec.defaultBackend.name: Backend "nowhere" not found in namespace "default"',
  },
  {
    name: 'a reference to a missing HealthPolicy',
    file: 'missing-health-policy.yaml',
    yaml: `${V}
kind: Backend
metadata: { name: images }
spec:
  healthPolicyRef: { name: web-health }
  servers:
    - { name: web1, address: 127.0.0.1, port: 8080 }
`,
    line: 'missing-health-policy.yaml: Backend/images: spec.healthPolicyRef.name: HealthPolicy "web-health" not found in namespace "default"',
  },
  {
    name: 'two Frontends binding the same address and port',
    file: 'same-bind.yaml',
    yaml: `${V}
kind: Frontend
metadata: { name: first }
spec:
  binds: [ { address: 127.0.0.1, port: 8443 } ]
---
${V}
kind: Frontend
metadata: { name: second }
spec:
  binds: [ { address: 127.0.0.1, port: 8443 } ]
`,
    line: 'same-bind.yaml#1: Frontend/second: spec.binds[0].port: 127.0.0.1:8443 overlaps 127.0.0.1:8443 of Frontend default/first (spec.binds[0])',
  },
  {
    name: 'a duplicate server name',
    file: 'duplicate-server.yaml',
    yaml: `${V}
kind: Backend
metadata: { name: static }
spec:
  servers:
    - { name: web1, address: 127.0.0.1, port: 8080 }
    - { name: web1, address: 127.0.0.1, port: 8081 }
`,
    line: 'duplicate-server.yaml: Backend/static: spec.servers[1].name: duplicate server name "web1" (also spec.servers[0].name)',
  },
];

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

for (const c of CASES) {
  test(`validate -f FILE with ${c.name}: exit 1 and "FILE: Kind/name: field.path: reason"`, async () => {
    const dir = join(root, c.file.replace(/\.yaml$/, ''));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, c.file), c.yaml);
    // Run from the fixture's folder with a relative path: the line names the file as it was given.
    const r = await runCli(['validate', '-f', c.file], { cwd: dir });
    assert.equal(r.code, 1, `exit code; stderr:\n${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.deepEqual(lines(r.stderr), [c.line, '1 error']);
  });
}

test('validate -f DIR with every problem at once: one line per problem, sorted by file, exit 1', async () => {
  const dir = join(root, 'all');
  await mkdir(dir, { recursive: true });
  for (const c of CASES) await writeFile(join(dir, c.file), c.yaml);
  const r = await runCli(['validate', '-f', dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  const expected = CASES.map((c) => join(dir, c.line)).sort();
  assert.deepEqual(lines(r.stderr), [...expected, `${CASES.length} errors`]);
});

test('validate -f examples/quickstart: exit 0 and "Configuration file is valid"', async () => {
  const r = await runCli(['validate', '-f', 'examples/quickstart']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Configuration file is valid\n');
  assert.equal(r.stderr, '');
});

test('usage errors exit 2 with the usage on stderr', async (t) => {
  await t.test('validate without -f', async () => {
    const r = await runCli(['validate']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^switchyard: validate needs -f DIR\|FILE\n/);
    assert.match(r.stderr, /Usage: switchyard <command>/);
  });
  await t.test('validate -f without a path', async () => {
    const r = await runCli(['validate', '-f']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^switchyard: .*argument missing/);
    assert.match(r.stderr, /Usage: switchyard <command>/);
  });
  await t.test('validate with an unknown option', async () => {
    const r = await runCli(['validate', '--bogus', '-f', 'examples/quickstart']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^switchyard: Unknown option '--bogus'/);
  });
  await t.test('an unknown command', async () => {
    const r = await runCli(['check', '-f', 'examples/quickstart']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^switchyard: unknown command "check"/);
  });
});
