/**
 * A cluster's session persistence as sessions apply it (HAProxy's order): a valid persistence
 * cookie picks the server first; otherwise a stick-table match (`stick on`); otherwise the
 * balancer. The chosen server is then stored under the request's stick key (store-request), and
 * the response's key (store-response) once the response head arrives.
 */
import type { CookiePersistence } from '../persistence/cookie.ts';
import type { CompiledSample } from '../rules/sample.ts';
import type { HttpTransaction, Transaction } from '../rules/transaction.ts';
import { toText } from '../rules/values.ts';
import type { StickTableHandle } from '../stick/types.ts';
import { stickId, type Cluster } from '../upstream/cluster.ts';
import type { ServerState } from '../upstream/server-state.ts';

export interface StickPersistence {
  /** `stick on`: matched on each request and stored with the server it went to. */
  readonly on: CompiledSample;
  /** `stick store-response`, or null. */
  readonly storeResponse: CompiledSample | null;
  readonly table: StickTableHandle;
}

export interface ClusterPersistence {
  readonly cookie: CookiePersistence | null;
  readonly stick: StickPersistence | null;
}

/** The request's `stick on` key, evaluated once per request for both the match and the store. */
export function stickKey(stick: StickPersistence, tx: Transaction): string | null {
  const key = stick.on.value(tx);
  return key === null ? null : toText(key);
}

/**
 * The server the stick entry for `key` names, or null. A server that is down is used only when
 * the cluster does not redispatch, as a cookie would be.
 */
export function stickMatch(cluster: Cluster, stick: StickPersistence, key: string | null): ServerState | null {
  if (key === null) return null;
  const id = stick.table.lookup(key)?.serverId() ?? 0;
  if (id === 0) return null;
  const server = cluster.serverByStickId(id);
  if (server === undefined) return null;
  return server.usable || !cluster.config.redispatch ? server : null;
}

/** store-request: remembers the server under the request's key. */
export function stickStoreRequest(stick: StickPersistence, server: ServerState, key: string | null): void {
  if (key !== null) stick.table.track(key)?.setServerId(stickId(server.name));
}

/** store-response: remembers the server under the key the response carries (e.g. a new session cookie). */
export function stickStoreResponse(stick: StickPersistence, server: ServerState, tx: HttpTransaction): void {
  if (stick.storeResponse === null) return;
  const key = stick.storeResponse.value(tx);
  if (key !== null) stick.table.track(toText(key))?.setServerId(stickId(server.name));
}
