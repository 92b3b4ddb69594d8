#!/usr/bin/env node
/**
 * The root's postinstall (npm ci, npm install): fills the switchyard command's compile cache
 * (node_modules/.cache/switchyard, or $NODE_COMPILE_CACHE; cli/bin/compile-cache.js says why) so
 * that even the first start after an install finds it warm. It loads what the commands load:
 * cli/src/main.ts (run, validate, dataplane, all side-effect free to import), the entry points
 * loaded on demand (control channel, peers, controller, demo), and the worker threads' modules,
 * by starting a data plane with two workers and no configuration (no sockets) and closing it.
 *
 * The cache is per Node version, V8 flags and user id: warmed for whoever runs the install.
 * Best effort: it never fails the install (plain JavaScript, so an older Node on the PATH, as with
 * `npm ci --omit=dev`, which leaves out the Node 24 devDependency, only skips it). npm shows its
 * stderr only with --foreground-scripts.
 */
import { runsTypeScript } from '../cli/bin/node-version.js';

// Without it the switchyard command does not run at all (cli/bin/switchyard.js).
if (!runsTypeScript()) process.exit(0);

try {
  const { flushCompileCache } = await import('node:module');
  // The same V8 flags as the command: the cache is keyed by them (cli/bin/v8-tuning.js).
  const { tuneV8ForProxying } = await import('../cli/bin/v8-tuning.js');
  tuneV8ForProxying();
  const { enableCompileCache } = await import('../cli/bin/compile-cache.js');
  const cache = enableCompileCache();
  if (cache.directory === undefined) {
    process.stderr.write(`switchyard: compile cache not warmed: ${cache.message}\n`);
  } else {
    await import('../cli/src/main.ts');
    await import('../cli/src/commands/controller.ts');
    await import('../cli/src/commands/demo.ts');
    await import('@switchyard/dataplane/channel');
    await import('@switchyard/dataplane/peers');
    const { Dataplane, createLogger } = await import('@switchyard/dataplane');
    const dataplane = new Dataplane({ logger: createLogger({ level: 'silent' }), workers: 2 });
    await dataplane.close();
    flushCompileCache();
  }
} catch (err) {
  process.stderr.write(`switchyard: compile cache not warmed: ${err instanceof Error ? err.message : String(err)}\n`);
}
