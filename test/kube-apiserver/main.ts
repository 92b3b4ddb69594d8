/**
 * The emulator as its own process, for end-to-end tests and `make dev-cluster`:
 *
 *   node test/kube-apiserver/main.ts --port N [--host H] [--kubeconfig PATH] [--history-limit N] [--verbose]
 *
 * Prints `kube-apiserver listening on http://HOST:PORT` once ready (after the kubeconfig is
 * written) and stops on SIGTERM or SIGINT.
 */
import { parseArgs } from 'node:util';
import { startKubeApiServer } from './index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    kubeconfig: { type: 'string' },
    'history-limit': { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});

const api = await startKubeApiServer({
  host: values.host,
  port: Number(values.port),
  historyLimit: values['history-limit'] === undefined ? undefined : Number(values['history-limit']),
  log: values.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
});
if (values.kubeconfig !== undefined) await api.writeKubeconfig(values.kubeconfig);
process.stdout.write(`kube-apiserver listening on ${api.url}\n`);

const stop = (): void => {
  void api.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
