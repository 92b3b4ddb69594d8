#!/usr/bin/env node
// The switchyard command. Its sources are TypeScript run directly by Node 24's type stripping;
// `npm ci` installs Node 24 (the `node` devDependency) and npm scripts put it first on the PATH.
import { runsTypeScript } from './node-version.js';

if (!runsTypeScript()) {
  console.error(`switchyard needs Node 24 (this is Node ${process.versions.node}). Run it through npm (npm run switchyard -- ...) or npx switchyard, which use the Node 24 that npm ci installed.`);
  process.exit(1);
}
// V8 flags first: the compile cache is keyed by them (v8-tuning.js says which and why).
const { tuneV8ForProxying } = await import('./v8-tuning.js');
tuneV8ForProxying();
// Node's compile cache, before anything from src loads, in node_modules/.cache/switchyard (or
// $NODE_COMPILE_CACHE): with it warm, Node never loads its type stripper, about 30 MiB of RSS that
// is never given back (idle `run --workers 1`: 84 MiB instead of 112). See compile-cache.js.
const { enableCompileCache } = await import('./compile-cache.js');
enableCompileCache();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
