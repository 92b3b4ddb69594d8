/**
 * Preloaded into the data plane's worker threads by tests (`workerExecArgv: ['--import', URL]`):
 * with SWITCHYARD_TEST_FAIL_LISTEN=`worker:port` in the environment when the Dataplane is created,
 * that one worker thread cannot listen on that port (EACCES), as if it alone had hit a limit.
 * Every other thread and port is untouched.
 */
import net from 'node:net';
import { isMainThread, workerData } from 'node:worker_threads';

const spec = process.env.SWITCHYARD_TEST_FAIL_LISTEN;
if (!isMainThread && spec) {
  const [worker, port] = spec.split(':').map(Number);
  if ((workerData as { index: number }).index === worker) {
    const listen = net.Server.prototype.listen;
    net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]): net.Server {
      const options = args[0];
      if (typeof options === 'object' && options !== null && (options as net.ListenOptions).port === port) {
        const err = Object.assign(new Error(`listen EACCES 127.0.0.1:${port} (injected in worker ${worker})`), { code: 'EACCES' });
        process.nextTick(() => this.emit('error', err));
        return this;
      }
      return (listen as (...a: unknown[]) => net.Server).apply(this, args);
    } as typeof listen;
  }
}
