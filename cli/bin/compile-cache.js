// Node's module compile cache for the switchyard command (https://nodejs.org/api/module.html#module-compile-cache),
// shared by the bin (switchyard.js) and the install-time warm-up (scripts/warm-compile-cache.js).
//
// Why: the first .ts module loaded brings Node's type stripper (amaro, swc in wasm), about 30 MiB
// of resident memory that is never given back, and a few MiB more in each worker thread that loads
// it too. The compile cache also keeps the type-stripped code, so a start with a warm cache never
// loads the stripper: idle `switchyard run` measured 84 MiB instead of 112 (--workers 1), 144
// instead of 184 (--workers 2), and 145 instead of 165 MiB holding 10,000 idle connections,
// against a target of 150.
import module from 'node:module';
import { join } from 'node:path';

/** The installation's own cache (<repo root>/node_modules/.cache/switchyard): every start from it shares it, and it survives restarts. */
export const CACHE_DIR = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'switchyard');

/**
 * Enables the compile cache in CACHE_DIR, unless NODE_COMPILE_CACHE is set: then Node enabled it
 * in that directory when it started (this only reports ALREADY_ENABLED), or could not, and it is
 * not replaced by ours: an operator's choice wins (NODE_DISABLE_COMPILE_CACHE=1 turns it off).
 * Never throws; an unwritable directory (a read-only installation) only means no cache: the
 * result's status is FAILED with a message, nothing is printed.
 *
 * Worker threads (--workers N) do not inherit a cache enabled by this call, only the environment
 * variable (a Worker's env is a copy of process.env by default): hence it is set for them.
 */
export function enableCompileCache() {
  // Without an argument Node uses $NODE_COMPILE_CACHE; with one, it would fall back to ours if
  // NODE_COMPILE_CACHE names a directory it cannot use.
  const result = process.env.NODE_COMPILE_CACHE ? module.enableCompileCache() : module.enableCompileCache(CACHE_DIR);
  if (result.status === module.constants.compileCacheStatus.ENABLED) process.env.NODE_COMPILE_CACHE = result.directory;
  return result;
}
