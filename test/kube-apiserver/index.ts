/**
 * A Kubernetes API server emulator for tests (issue 4, item 1): real HTTP, the protocol kubectl,
 * helm and @kubernetes/client-node speak, and the semantics they rely on
 * (`/work/shared/reference/kube-api-emulator.md`; what is and is not covered: README.md here).
 * Test support only: product code never imports it.
 *
 *   const api = await startKubeApiServer();
 *   await api.writeKubeconfig(path);   // for kubectl/helm (KUBECONFIG) or client-node (loadFromString)
 *   …
 *   await api.close();
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { chmod, writeFile } from 'node:fs/promises';
import { kubeconfigYaml } from './kubeconfig.ts';
import type { RequestRecord } from './server.ts';
import { ApiServer } from './server.ts';

export type { RequestRecord } from './server.ts';
export { EMULATOR_TOKEN } from './kubeconfig.ts';

export interface KubeApiServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Kubeconfig YAML: cluster `server: url` (insecure-skip-tls-verify), a token user, current context set. */
  kubeconfig(): string;
  /** Writes the kubeconfig with mode 0600 (helm warns about group/world-readable files). */
  writeKubeconfig(path: string): Promise<void>;
  close(): Promise<void>;

  // Test knobs beyond the stable contract above.
  /** Ends every open watch cleanly (clients re-watch from their last resourceVersion). */
  closeWatches(): void;
  /** Forgets the retained watch history (an etcd compaction): older resourceVersions get 410 Gone. */
  compactHistory(): void;
  /** The current cluster-wide resourceVersion. */
  resourceVersion(): string;
  /** Requests received so far (method, url, Accept, Content-Type, status), oldest first. */
  requests(): readonly RequestRecord[];
}

export interface KubeApiServerOptions {
  host?: string;
  port?: number;
  /** Events kept per resource type for watches (default 1000); older resourceVersions get 410. */
  historyLimit?: number;
  /** Called with one line per request (and internal errors). */
  log?: (line: string) => void;
  /** Watch length when the client sends no timeoutSeconds (default 1800). */
  watchTimeoutSeconds?: number;
  /** BOOKMARK cadence for watches that allow them (default 60 000 ms). */
  bookmarkIntervalMs?: number;
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const host = options.host ?? '127.0.0.1';
  const api = new ApiServer({
    historyLimit: options.historyLimit ?? 1000,
    watchTimeoutSeconds: options.watchTimeoutSeconds ?? 1800,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    log: options.log,
  });
  const server = createServer(api.handle);
  // Watches are long-lived; close() must not wait for clients to hang up.
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('kube-apiserver: no TCP address');
  const port = address.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  api.serverAddress = `${urlHost}:${port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    port,
    kubeconfig: () => kubeconfigYaml(url),
    async writeKubeconfig(path) {
      await writeFile(path, kubeconfigYaml(url), { mode: 0o600 });
      await chmod(path, 0o600);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        api.closeWatches();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
    closeWatches: () => api.closeWatches(),
    compactHistory: () => api.store.compact(),
    resourceVersion: () => String(api.store.rv),
    requests: () => api.requests,
  };
}
