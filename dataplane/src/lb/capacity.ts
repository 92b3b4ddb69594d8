import type { LbServer } from './algorithm.ts';

/** True when the server has a connection limit and has reached it (HAProxy: served >= maxconn). */
export function isFull(server: LbServer): boolean {
  return server.maxConnections > 0 && server.active >= server.maxConnections;
}
