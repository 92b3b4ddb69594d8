/**
 * The compact fleet report each controller replica publishes in its own Lease, so the leader
 * knows about data planes connected to other replicas (pure: encode, decode, expand).
 *
 * Annotation `switchyard.dev/dataplanes` holds `{"v":1,"dataplanes":[...]}`, one entry per data
 * plane connected to the replica:
 *
 *   { "node": "dp-a", "acked": "3f2a...", "nack": null | {"version","error"}, "updatedAt": 1700000000000,
 *     "notUp": null | { "default/web": { "web-1": "down", "web-2": "maint" } },
 *     "reasons": { "default/web": { "web-1": "L4CON: connection refused" } },
 *     "peer": "ws://10.0.0.5:7946/" }
 *
 * Only servers that are NOT up are listed: every other server of the acked snapshot is up. `notUp`
 * is null until the data plane's first health report. A report that would exceed the size budget
 * first loses its `reasons`, then the health of its largest data planes (`notUp: null`, "unknown"),
 * so it always fits in an annotation (the API server caps all annotations at 256 KiB).
 *
 * `peer` is the data plane's stick-table peer URL (absent when it has none), so that every replica
 * can tell its data planes about those connected elsewhere; it is never dropped for size (without
 * it, replication between the two sides would stop).
 */
import { z } from 'zod';
import type { ServerHealth } from '@switchyard/api';
import type { DataplaneStatus } from '../channel/fleet.ts';
import type { VersionedSnapshot } from '../channel/versioned-snapshot.ts';

export const FLEET_REPORT_LABEL = 'switchyard.dev/fleet-report';
export const DATAPLANES_ANNOTATION = 'switchyard.dev/dataplanes';
export const FLEET_LEASE_PREFIX = 'switchyard-fleet-';
/** Default size budget of the annotation value, well under the API server's 256 KiB for all annotations. */
export const MAX_REPORT_BYTES = 200_000;
const MAX_ERROR_CHARS = 1024;

/** Finds a published snapshot by version (the controller's SnapshotCache). */
export interface SnapshotLookup {
  get(version: string): VersionedSnapshot | undefined;
}

const NotUpState = z.enum(['down', 'maint']);
const CompactDataplaneSchema = z.object({
  node: z.string().min(1),
  acked: z.string().min(1).nullable(),
  nack: z.object({ version: z.string().min(1), error: z.string() }).nullable(),
  updatedAt: z.number(),
  notUp: z.record(z.string(), z.record(z.string(), NotUpState)).nullable(),
  reasons: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  peer: z.string().min(1).max(2048).optional(),
});
const FleetReportSchema = z.object({ v: z.literal(1), dataplanes: z.array(CompactDataplaneSchema) });

export type CompactDataplane = z.infer<typeof CompactDataplaneSchema>;

/** The Lease name of a replica's report: `switchyard-fleet-<replica>`, made a valid object name. */
export function fleetLeaseName(replica: string): string {
  const safe = replica
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `${FLEET_LEASE_PREFIX}${safe || 'replica'}`.slice(0, 253).replace(/[^a-z0-9]+$/, '');
}

/** One data plane in compact form. */
export function compactDataplane(dp: DataplaneStatus): CompactDataplane {
  let notUp: CompactDataplane['notUp'] = null;
  let reasons: CompactDataplane['reasons'];
  if (dp.health.length > 0) {
    notUp = {};
    for (const s of dp.health) {
      if (s.state === 'up') continue;
      (notUp[s.cluster] ??= {})[s.server] = s.state;
      if (s.reason !== '') ((reasons ??= {})[s.cluster] ??= {})[s.server] = s.reason;
    }
  }
  const nack = dp.nack === null ? null : { version: dp.nack.version, error: dp.nack.error.slice(0, MAX_ERROR_CHARS) };
  const peer = typeof dp.peerUrl === 'string' && dp.peerUrl !== '' ? { peer: dp.peerUrl } : {};
  return { node: dp.node, acked: dp.ackedVersion, nack, updatedAt: dp.updatedAt, notUp, ...(reasons ? { reasons } : {}), ...peer };
}

/** The annotation value for a replica's data planes, within `maxBytes` (UTF-8). */
export function encodeReport(dataplanes: readonly DataplaneStatus[], maxBytes = MAX_REPORT_BYTES): string {
  const compact = [...dataplanes].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)).map(compactDataplane);
  const text = (): string => JSON.stringify({ v: 1, dataplanes: compact });
  let out = text();
  if (Buffer.byteLength(out) <= maxBytes) return out;
  for (const c of compact) delete c.reasons;
  out = text();
  // Still too big: forget the health of the data planes with the most servers down first.
  const bySize = [...compact].sort((a, b) => countNotUp(b) - countNotUp(a));
  for (const c of bySize) {
    if (Buffer.byteLength(out) <= maxBytes) break;
    c.notUp = null;
    out = text();
  }
  return out;
}

function countNotUp(c: CompactDataplane): number {
  let n = 0;
  for (const servers of Object.values(c.notUp ?? {})) n += Object.keys(servers).length;
  return n;
}

export type DecodeReportResult = { ok: true; dataplanes: CompactDataplane[] } | { ok: false; error: string };

export function decodeReport(text: string | undefined): DecodeReportResult {
  if (text === undefined || text === '') return { ok: true, dataplanes: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  const parsed = FleetReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, error: `${issue.path.join('.') || '(report)'}: ${issue.message}` };
  }
  return { ok: true, dataplanes: parsed.data.dataplanes };
}

/**
 * A compact entry back as a DataplaneStatus. Health is rebuilt in full when the acked version is
 * in `snapshots`: every server of that snapshot, `up` unless listed. Otherwise (a version this
 * replica does not hold) only the listed servers are known. Returns whether the version was found,
 * so a caller can retry the expansion once the cache has it.
 */
export function expandDataplane(c: CompactDataplane, replica: string, snapshots?: SnapshotLookup): { status: DataplaneStatus; complete: boolean } {
  const health: ServerHealth[] = [];
  let complete = true;
  if (c.notUp !== null) {
    const listed = (cluster: string, server: string): ServerHealth | undefined => {
      const state = c.notUp?.[cluster]?.[server];
      return state === undefined ? undefined : { cluster, server, state, reason: c.reasons?.[cluster]?.[server] ?? '' };
    };
    const snapshot = c.acked === null ? undefined : snapshots?.get(c.acked)?.snapshot;
    const seen = new Set<string>();
    if (snapshot !== undefined) {
      for (const cluster of snapshot.clusters) {
        for (const server of cluster.servers) {
          seen.add(`${cluster.name}\n${server.name}`);
          health.push(listed(cluster.name, server.name) ?? { cluster: cluster.name, server: server.name, state: 'up', reason: '' });
        }
      }
    } else if (c.acked !== null) {
      complete = false;
    }
    for (const [cluster, servers] of Object.entries(c.notUp)) {
      for (const server of Object.keys(servers)) {
        if (!seen.has(`${cluster}\n${server}`)) health.push(listed(cluster, server)!);
      }
    }
  }
  return {
    status: { node: c.node, replica, ackedVersion: c.acked, nack: c.nack, health, updatedAt: c.updatedAt, ...(c.peer === undefined ? {} : { peerUrl: c.peer }) },
    complete,
  };
}
