/**
 * The plain Node proxy of the target ("at least 3x a proxy built on node-http-proxy with a
 * keep-alive agent"): node-http-proxy (`http-proxy`) on `http.Server`, round robin over the
 * backends, one keep-alive `http.Agent` for the upstream connections. The same timeouts as the
 * other contenders (contenders.ts TIMEOUTS), no X-Forwarded-For. With `--workers N` > 1, N
 * processes share the port through node:cluster, as a Node user would scale it.
 *
 *   node bench/node-http-proxy.ts --port 24035 --backends 24001,24002,24003 [--workers 2]
 */
import cluster from 'node:cluster';
import http from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

/** The part of http-proxy's API used here (the package has no types of its own). */
interface ProxyServer {
  web(req: http.IncomingMessage, res: http.ServerResponse, options: { target: string }): void;
  on(event: 'error', listener: (err: Error, req: http.IncomingMessage, res: http.ServerResponse) => void): void;
}
interface HttpProxyModule {
  createProxyServer(options: { agent: http.Agent; proxyTimeout: number; timeout: number; xfwd: boolean }): ProxyServer;
}

const { values } = parseArgs({ options: { port: { type: 'string' }, backends: { type: 'string' }, workers: { type: 'string', default: '1' } } });
const port = Number(values.port);
const backends = (values.backends ?? '').split(',').filter(Boolean).map((p) => `http://127.0.0.1:${p}`);
const workers = Number(values.workers);
if (!Number.isInteger(port) || backends.length === 0 || !Number.isInteger(workers) || workers < 1) {
  console.error('usage: node-http-proxy.ts --port P --backends P1,P2,P3 [--workers N]');
  process.exit(2);
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    console.error(`node-http-proxy worker ${worker.process.pid} exited (${signal ?? code})`);
    process.exit(1);
  });
} else {
  const httpProxy = createRequire(import.meta.url)('http-proxy') as HttpProxyModule;
  const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000, maxFreeSockets: 1024 });
  // server 30s (HAProxy timeout server); client-side timeouts are on the http.Server below.
  const proxy = httpProxy.createProxyServer({ agent, proxyTimeout: 30_000, timeout: 60_000, xfwd: false });
  proxy.on('error', (_err, _req, res) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway\n');
  });
  let next = 0;
  const server = http.createServer((req, res) => {
    const target = backends[next]!;
    next = (next + 1) % backends.length;
    proxy.web(req, res, { target });
  });
  server.keepAliveTimeout = 60_000; // http-keep-alive 60s
  server.headersTimeout = 10_000; // http-request 10s
  server.requestTimeout = 0;
  server.listen({ host: '127.0.0.1', port, backlog: 4096 });
}
