/**
 * The controller's admin endpoints (fastify):
 *   GET /healthz  200 `ok` while the process runs (liveness)
 *   GET /readyz   200 `{ ready: true }` once `readiness()` says so, else 503 `{ ready: false, reason }`
 *                 (e.g. `informers not synced`, `no snapshot yet`)
 *   GET /metrics  the prom-client registry in the Prometheus text format
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  /** Why not ready; ignored when ready. */
  reason: string;
}

export type AdminLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface AdminServerOptions {
  host: string;
  /** 0 picks a free port; read it back from `address()`. */
  port: number;
  readiness: () => Readiness | Promise<Readiness>;
  registry: Registry;
  logger?: AdminLogger;
}

export interface AdminServer {
  address(): { host: string; port: number };
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { readiness, registry, logger } = options;
  const app = Fastify({ logger: false });

  app.get('/healthz', async (_request, reply) => {
    return reply.type('text/plain; charset=utf-8').send('ok');
  });

  app.get('/readyz', async (_request, reply) => {
    let state: Readiness;
    try {
      state = await readiness();
    } catch (err) {
      logger?.warn({ err }, 'readiness check failed');
      state = { ready: false, reason: `readiness check failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (state.ready) return reply.code(200).send({ ready: true });
    return reply.code(503).send({ ready: false, reason: state.reason || 'not ready' });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });

  app.setErrorHandler((err, request, reply) => {
    logger?.error({ err, url: request.url }, 'admin request failed');
    return reply.code(500).type('text/plain; charset=utf-8').send('internal error');
  });

  await app.listen({ host: options.host, port: options.port });
  const bound = app.server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  logger?.info({ host: address.host, port: address.port }, 'admin server listening');

  let closing: Promise<void> | null = null;
  return {
    address: () => ({ ...address }),
    close: () => {
      closing ??= app.close().then(() => undefined);
      return closing;
    },
  };
}
