/**
 * `make dev-cluster`: the test Kubernetes API server emulator (test/kube-apiserver), by hand, so the
 * controller can be tried with kubectl without a cluster:
 *
 *   make dev-cluster                      # 127.0.0.1:${DEV_CLUSTER_PORT:-16443}, .dev-cluster/kubeconfig
 *   export KUBECONFIG=$PWD/.dev-cluster/kubeconfig
 *   kubectl apply -f crds/ && kubectl apply -f examples/quickstart/
 *
 * Options: --port N (default $DEV_CLUSTER_PORT or 16443), --dir PATH (default .dev-cluster),
 * --verbose (log every request to stderr). State lives in memory and goes with the process.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startKubeApiServer } from '../test/kube-apiserver/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.DEV_CLUSTER_PORT ?? '16443' },
    dir: { type: 'string', default: join(root, '.dev-cluster') },
    verbose: { type: 'boolean', default: false },
  },
  strict: true,
});

const dir = resolve(values.dir);
await mkdir(dir, { recursive: true });
const kubeconfig = join(dir, 'kubeconfig');
const api = await startKubeApiServer({
  host: '127.0.0.1',
  port: Number(values.port),
  log: values.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
});
await api.writeKubeconfig(kubeconfig);
process.stdout.write(`kube-apiserver listening on ${api.url}\n`);
process.stdout.write(`kubeconfig: ${kubeconfig}\n  export KUBECONFIG=${kubeconfig}\n  kubectl apply -f crds/ && kubectl apply -f examples/quickstart/\n`);

const stop = (): void => {
  void api.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
