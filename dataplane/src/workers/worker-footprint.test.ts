/**
 * Every worker thread is a V8 isolate of its own, so each module a worker loads costs memory once
 * per worker. zod and the resource schemas (@switchyard/api's index: about 100 modules and some
 * MiB of heap per thread) belong to the main thread, which validates what comes from outside;
 * worker threads load only the data path.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

/** The modules that loading `entry` resolves that are zod's or the api package's index. */
function schemaModulesLoadedBy(entry: URL): string[] {
  // Importing worker.ts outside a worker thread fails once it runs (no parentPort), after every
  // module it imports statically has loaded: what it loads is what a worker thread loads.
  const probe = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
    try { await import(${JSON.stringify(entry.href)}); } catch {}
    console.log(JSON.stringify(seen.filter((u) => u.includes('/node_modules/zod/') || u.endsWith('/api/src/index.ts'))));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

test('a worker thread loads neither zod nor the api package index', () => {
  assert.deepEqual(schemaModulesLoadedBy(new URL('./worker.ts', import.meta.url)), []);
});

test('the probe sees zod when a module does load it (the peers validate stick updates with it)', () => {
  assert.notDeepEqual(schemaModulesLoadedBy(new URL('../stick/parse-update.ts', import.meta.url)), []);
});
