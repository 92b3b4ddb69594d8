import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatLoadError, loadManifests, parseManifests } from './load-manifests.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-load-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const backend = (name: string): string => `apiVersion: switchyard.dev/v1alpha1\nkind: Backend\nmetadata: { name: ${name} }\nspec: {}\n`;

test('multi-document YAML: sources name the document, empty documents are skipped', () => {
  const text = `${backend('a')}---\n---\n# only a comment\n---\n${backend('b')}---\n`;
  const { objects, errors } = parseManifests(text, 'x.yaml');
  assert.deepEqual(errors, []);
  assert.deepEqual(
    objects.map((o) => [o.source, (o.object as { metadata: { name: string } }).metadata.name]),
    [
      ['x.yaml', 'a'],
      ['x.yaml#3', 'b'],
    ],
  );
});

test('a leading comment and --- do not shift the numbering', () => {
  const { objects } = parseManifests(`# header\n---\n${backend('a')}---\n${backend('b')}`, 'x.yaml');
  assert.deepEqual(
    objects.map((o) => o.source),
    ['x.yaml', 'x.yaml#1'],
  );
});

test('a syntax error costs only its document, and says where', () => {
  const text = `${backend('a')}---\nkind: Backend\nmetadata: { name: b\nspec: {}\n---\n${backend('c')}`;
  const { objects, errors } = parseManifests(text, 'x.yaml');
  assert.deepEqual(
    objects.map((o) => o.source),
    ['x.yaml', 'x.yaml#2'],
  );
  assert.ok(errors.length >= 1);
  assert.equal(errors[0]!.source, 'x.yaml');
  // The unclosed flow map opens on line 7; the parser notices on line 8.
  assert.ok(errors[0]!.line === 7 || errors[0]!.line === 8, `line ${errors[0]!.line}`);
  assert.match(formatLoadError(errors[0]!), /^x\.yaml:[78]:\d+: \S/);
  assert.doesNotMatch(errors[0]!.message, /at line/);
});

test('duplicate keys are an error, not a silent overwrite', () => {
  const { objects, errors } = parseManifests('kind: Backend\nkind: Frontend\n', 'dup.yaml');
  assert.equal(objects.length, 0);
  assert.equal(errors[0]!.line, 2);
  assert.match(errors[0]!.message, /unique/);
});

test('a document that is not an object is reported', () => {
  const { objects, errors } = parseManifests('just a string\n---\n- a\n- b\n', 'odd.yaml');
  assert.equal(objects.length, 0);
  assert.equal(errors.length, 2);
  assert.equal(errors[0]!.line, 1);
  assert.equal(errors[1]!.line, 3);
  assert.match(errors[1]!.message, /got a list/);
});

test('JSON is read too, with positions for errors', () => {
  assert.equal(parseManifests('{"apiVersion": "v1", "kind": "Service"}', 'a.json').objects.length, 1);
  const bad = parseManifests('{"apiVersion": "v1",, }', 'b.json');
  assert.equal(bad.objects.length, 0);
  assert.equal(bad.errors[0]!.line, 1);
});

test('a folder: recursive, sorted, *.yaml *.yml *.json only, dot names skipped, sources relative', async () => {
  const root = join(dir, 'tree');
  await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
  await mkdir(join(root, '.hidden'), { recursive: true });
  await writeFile(join(root, 'b.yaml'), backend('b'));
  await writeFile(join(root, 'a.yml'), `${backend('a1')}---\n${backend('a2')}`);
  await writeFile(join(root, 'sub', 'c.json'), JSON.stringify({ apiVersion: 'switchyard.dev/v1alpha1', kind: 'Backend', metadata: { name: 'c' }, spec: {} }));
  await writeFile(join(root, 'sub', 'deeper', 'd.yaml'), backend('d'));
  await writeFile(join(root, 'sub', 'broken.yaml'), 'a: [1, 2\n');
  await writeFile(join(root, 'README.md'), '# not a manifest');
  await writeFile(join(root, '.hidden', 'e.yaml'), backend('e'));
  await writeFile(join(root, '.swap.yaml'), backend('swap'));
  await symlink(join(root, 'sub'), join(root, 'sub', 'deeper', 'loop')); // a cycle is read once

  const { objects, errors, base } = await loadManifests(root);
  assert.equal(base, root);
  assert.deepEqual(
    objects.map((o) => o.source),
    ['a.yml', 'a.yml#1', 'b.yaml', 'sub/c.json', 'sub/deeper/d.yaml'],
  );
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.source, 'sub/broken.yaml');
  assert.equal(formatLoadError(errors[0]!, root).startsWith(join(root, 'sub/broken.yaml:')), true);
});

test('a single file: sources relative to its folder', async () => {
  const file = join(dir, 'single.yaml');
  await writeFile(file, `${backend('x')}---\n${backend('y')}`);
  const { objects, errors, base } = await loadManifests(file);
  assert.deepEqual(errors, []);
  assert.equal(base, dir);
  assert.deepEqual(
    objects.map((o) => o.source),
    ['single.yaml', 'single.yaml#1'],
  );
});

test('a missing path is reported, not thrown', async () => {
  const { objects, errors } = await loadManifests(join(dir, 'nope'));
  assert.equal(objects.length, 0);
  assert.deepEqual(errors, [{ source: 'nope', line: null, column: null, message: 'no such file or directory' }]);
});
