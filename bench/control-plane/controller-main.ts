/**
 * The controller under test, as its own process: exactly `switchyard controller ARGS...` (the CLI
 * command's function, cli/src/commands/controller.ts, with the same flags), plus an IPC channel so
 * the benchmark can ask for `process.memoryUsage()` (heap vs RSS) without touching product code.
 *
 *   node bench/control-plane/controller-main.ts --kubeconfig F --listen H:P --admin-listen H:P \
 *     --token-file F --name N --namespace NS [--log-level info]
 *
 * Started by run.ts with an IPC channel; messages: `{ type: 'memory', gc?: boolean }` answered with
 * `{ type: 'memory', usage }` (with `gc`, after a full collection when node runs with --expose-gc).
 */
import { parseArgs } from 'node:util';
import { controller } from '../../cli/src/commands/controller.ts';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    listen: { type: 'string' },
    'admin-listen': { type: 'string' },
    'token-file': { type: 'string' },
    'token-secret': { type: 'string' },
    namespace: { type: 'string' },
    name: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
  },
});

process.on('message', (message: { type?: string; gc?: boolean }) => {
  if (message?.type !== 'memory' || !process.send) return;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (message.gc && gc) gc();
  process.send({ type: 'memory', usage: process.memoryUsage(), collected: Boolean(message.gc && gc) });
});
// The IPC channel must not keep the process alive once the controller has stopped.
process.channel?.unref();

const code = await controller({
  kubeconfig: values.kubeconfig,
  listen: values.listen,
  adminListen: values['admin-listen'],
  tokenFile: values['token-file'],
  tokenSecret: values['token-secret'],
  namespace: values.namespace,
  name: values.name,
  leaseDuration: undefined,
  renewDeadline: undefined,
  retryPeriod: undefined,
  logLevel: values['log-level'],
});
process.exit(code);
