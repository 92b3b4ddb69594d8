/**
 * `switchyard run` serves from one process whose memory users compare with HAProxy's, so what it
 * loads is watched: node:http and its kin (tls, http2, undici...: about 14 MiB of RSS) and the
 * ws package come only with the commands and flags that talk websocket (dataplane, --peers).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

test('loading the switchyard command (what run uses) loads neither node:http nor ws', () => {
  const probe = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(main)});
    const builtins = process.moduleLoadList.filter((m) => /^NativeModule (http|https|http2|tls|_http_server|_http_client)$/.test(m));
    const ws = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/node_modules/ws/'));
    console.log(JSON.stringify({ builtins, ws }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { builtins: [], ws: [] });
});

test('the probe sees node:http when something does load it', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `await import('node:http'); console.log(process.moduleLoadList.includes('NativeModule http'))`], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'true');
});
