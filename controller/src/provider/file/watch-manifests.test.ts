import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { watchManifests } from './watch-manifests.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-watch-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Resolves when `count()` reaches `n`, or rejects after `ms`. */
async function until(count: () => number, n: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (count() < n) {
    if (Date.now() > end) throw new Error(`expected ${n} changes, saw ${count()}`);
    await sleep(10);
  }
}

test('a folder: changes in subfolders reload, a burst reloads once', async () => {
  const root = join(dir, 'folder');
  await mkdir(join(root, 'sub'), { recursive: true });
  let changes = 0;
  const w = watchManifests(root, () => changes++, { debounceMs: 100 });
  try {
    await sleep(50);
    for (let i = 0; i < 5; i++) await writeFile(join(root, 'sub', `f${i}.yaml`), `a: ${i}\n`);
    await until(() => changes, 1);
    await sleep(300);
    assert.equal(changes, 1);
    await writeFile(join(root, 'new.yaml'), 'b: 1\n');
    await until(() => changes, 2);
  } finally {
    w.close();
  }
});

test('a file: replaced by rename (as editors do) still reloads; other files do not', async () => {
  const root = join(dir, 'file');
  await mkdir(root);
  const file = join(root, 'config.yaml');
  await writeFile(file, 'a: 1\n');
  let changes = 0;
  const w = watchManifests(file, () => changes++, { debounceMs: 50 });
  try {
    await sleep(50);
    await writeFile(join(root, 'other.txt'), 'x');
    await sleep(200);
    assert.equal(changes, 0);
    await writeFile(join(root, 'config.yaml.tmp'), 'a: 2\n');
    await rename(join(root, 'config.yaml.tmp'), file);
    await until(() => changes, 1);
    await writeFile(file, 'a: 3\n');
    await until(() => changes, 2);
  } finally {
    w.close();
  }
});

test('a steady stream of writes still reloads within maxWaitMs', async () => {
  const root = join(dir, 'stream');
  await mkdir(root);
  let changes = 0;
  const w = watchManifests(root, () => changes++, { debounceMs: 200, maxWaitMs: 300 });
  try {
    await sleep(50);
    const end = Date.now() + 700;
    while (Date.now() < end) {
      await writeFile(join(root, 'x.yaml'), `t: ${Date.now()}\n`);
      await sleep(50);
    }
    assert.ok(changes >= 1, `expected a reload during the stream, saw ${changes}`);
  } finally {
    w.close();
  }
});

test('close() stops reloads', async () => {
  const root = join(dir, 'closed');
  await mkdir(root);
  let changes = 0;
  const w = watchManifests(root, () => changes++, { debounceMs: 20 });
  w.close();
  await writeFile(join(root, 'x.yaml'), 'a: 1\n');
  await sleep(150);
  assert.equal(changes, 0);
});

test('a path that does not exist yet is picked up when it appears', async () => {
  const file = join(dir, 'later.yaml');
  let changes = 0;
  const w = watchManifests(file, () => changes++, { debounceMs: 20 });
  try {
    await sleep(50);
    await writeFile(file, 'a: 1\n');
    await until(() => changes, 1);
  } finally {
    w.close();
  }
});
