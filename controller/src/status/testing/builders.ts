/** Small builders for status tests: results, versioned snapshots, a snapshot cache. */
import type { ir } from '@switchyard/api';
import type { VersionedSnapshot } from '../../channel/versioned-snapshot.ts';
import type { ResourceResult, ResultCondition } from '../../translator/types.ts';

export const ACCEPTED: ResultCondition = { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'valid' };
export const RESOLVED: ResultCondition = { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'all references resolved' };

export function result(kind: string, name: string, generation: number | null, conditions: ResultCondition[] = [ACCEPTED, RESOLVED], namespace = 'default'): ResourceResult {
  return { kind, namespace, name, generation, source: null, conditions, errors: [] };
}

export function invalid(kind: string, name: string, generation: number, message: string): ResourceResult {
  return result(kind, name, generation, [
    { type: 'Accepted', status: 'False', reason: 'Invalid', message },
    { type: 'ResolvedRefs', status: 'Unknown', reason: 'Invalid', message: 'references not checked: the object is not accepted' },
  ]);
}

export function server(name: string, fields: Partial<ir.Server> = {}): ir.Server {
  return { name, id: 1, address: '10.0.0.1', port: 80, weight: 1, maxConnections: 0, backup: false, disabled: false, slowStartMs: null, cookie: null, proxyProtocol: null, ...fields } as ir.Server;
}

export function cluster(name: string, servers: ir.Server[]): ir.Cluster {
  return { name, mode: 'http', servers } as unknown as ir.Cluster;
}

export function listener(frontend: string, port: number): ir.Listener {
  return { name: `${frontend}#0`, frontend, mode: 'http', address: '0.0.0.0', port } as unknown as ir.Listener;
}

/** A VersionedSnapshot; contents as `Kind/ns/name` -> generation. */
export function versioned(version: string, contents: Record<string, number | null>, clusters: ir.Cluster[] = [], listeners: ir.Listener[] = []): VersionedSnapshot {
  return { version, snapshot: { listeners, clusters, stickTables: [] }, contents: new Map(Object.entries(contents)) };
}

export function cacheOf(...snapshots: VersionedSnapshot[]): Map<string, VersionedSnapshot> {
  return new Map(snapshots.map((s) => [s.version, s]));
}
