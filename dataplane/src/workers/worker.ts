/**
 * Entry point of a worker thread (started by coordinator.ts with `new Worker(new URL(...))`; Node 24
 * strips the types of this file and its imports as it does in the main thread).
 */
import { flushCompileCache } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import { SharedMemory } from './shared-memory.ts';
import { WorkerPlane } from './worker-plane.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const logger = createLogger({ level: init.logLevel }).child({ ...init.logBindings, worker: init.index });
const post = (message: FromWorker): void => port.postMessage(message);
const plane = new WorkerPlane({ memory: new SharedMemory(init.buffers), index: init.index, post, logger, origin: init.origin, stickFlushMs: init.stickFlushMs });

port.on('message', (message: ToWorker) => {
  plane.handle(message).catch((err: unknown) => {
    // A failure here leaves this thread out of step with the others: let the main thread know.
    queueMicrotask(() => {
      throw err;
    });
  });
});
post({ t: 'ready' });
// This thread's modules are loaded: write them to Node's compile cache now (each thread writes its
// own, else only when it exits), so that the next start's workers find them even if this process is
// killed. The cache is on when the main thread set NODE_COMPILE_CACHE (cli/bin/compile-cache.js).
flushCompileCache();
