/**
 * Test support for the peer mesh (used by the *.test.ts files here and the integration tests):
 * a one-thread data plane's stick tables with their relay, and a mesh around them on 127.0.0.1.
 */
import type { TestContext } from 'node:test';
import type { ir } from '@switchyard/api';
import { createLogger, type Logger } from '../logger.ts';
import { StickTables } from '../stick/replication.ts';
import { wallClock } from '../stick/wall-clock.ts';
import { StickRelay } from '../workers/stick-relay.ts';
import { newInstanceId, originOf } from './origin.ts';
import { PeerMesh, type PeerMeshOptions } from './peer-mesh.ts';

export const TOKEN = 'peer-test-token';

export const TABLE: ir.StickTable = {
  name: 'frontend:default/web',
  type: 'ip',
  keyLength: 32,
  size: 1000,
  expireMs: null,
  store: [{ type: 'conn_cur' }, { type: 'http_req_cnt' }, { type: 'http_req_rate', periodMs: 10_000 }, { type: 'server_id' }],
  replicate: true,
};

export interface TestPeer {
  node: string;
  instance: string;
  tables: StickTables;
  relay: StickRelay;
  mesh: PeerMesh;
  /** The mesh's URL. */
  url: string;
  /** Applies table definitions as a snapshot would. */
  apply(configs: ir.StickTable[]): void;
  close(): Promise<void>;
}

export function testLogger(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

/** A one-thread data plane's tables and a mesh listening on 127.0.0.1 (any port), with quick timings. */
export async function startPeer(
  t: TestContext,
  node: string,
  options: Partial<PeerMeshOptions> & { tables?: ir.StickTable[] } = {},
): Promise<TestPeer> {
  const instance = options.instance ?? newInstanceId();
  const logger = testLogger().child({ node });
  const tables = new StickTables(originOf(node, instance, 0), wallClock);
  const relay = new StickRelay({ tables, workers: null, logger, flushMs: 5 });
  const apply = (configs: ir.StickTable[]): void => {
    tables.apply(configs);
    relay.applied(configs);
  };
  apply(options.tables ?? [TABLE]);
  const mesh = new PeerMesh({
    node,
    instance,
    replica: relay,
    token: TOKEN,
    logger,
    listen: { host: '127.0.0.1', port: 0 },
    advertise: null,
    heartbeatMs: 200,
    connectTimeoutMs: 2000,
    backoff: { initialMs: 20, maxMs: 200 },
    removalGraceMs: 300,
    ...options,
  });
  await mesh.start();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await mesh.close();
    relay.close();
  };
  t.after(close);
  return { node, instance, tables, relay, mesh, url: mesh.url ?? '', apply, close };
}

/** Every peer learns every other (as the controller's `peers` messages would say). */
export function introduce(peers: readonly TestPeer[]): void {
  for (const p of peers) p.mesh.setPeers(peers.filter((q) => q !== p).map((q) => ({ node: q.node, url: q.url })));
}

/** The entry for `key` in the test table, or null. */
export function entry(peer: TestPeer, key: string, table = TABLE.name): ReturnType<NonNullable<ReturnType<StickTables['get']>>['lookup']> {
  return peer.tables.get(table)?.lookup(key) ?? null;
}
