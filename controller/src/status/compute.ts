/**
 * Status computation (pure): what every Switchyard object's status should say, from the
 * translator's results, the published snapshot, the snapshot cache and the merged fleet.
 *
 *   computeStatuses({ results, current, cache, fleet }) -> DesiredStatus[]
 *
 * - `Accepted` and `ResolvedRefs` come from the translator, with `observedGeneration`.
 * - `Programmed` (every kind) is True only when every connected data plane has ACKed a version
 *   whose `contents` hold the object at its current generation (looked up in `cache`; a version
 *   the cache does not hold does not count): `3/3 data planes`. Otherwise False with reason
 *   - `Invalid`: the object is not accepted (`not accepted; see the Accepted condition`);
 *   - the ResolvedRefs reason: accepted but left out of the snapshot until its references resolve;
 *   - `NoDataPlanes`: `0 data planes connected`;
 *   - `Rejected`: a data plane that does not run the object NACKed a version that holds it:
 *     `dp-b rejected version 3f2a1b2c…: listener default/web#0 on 0.0.0.0:80: EADDRINUSE`;
 *   - `Pending`: `1/3 data planes; waiting for dp-b, dp-c` (or no published snapshot holds the
 *     current generation yet).
 * - Backend `servers: {total, up, down, maintenance}`: `total` = the servers of the cluster
 *   `namespace/name` in the current snapshot; each server's fleet state is the WORST across the
 *   connected data planes whose health report lists it, maint > down > up: a server one data plane
 *   cannot reach is down for the clients of that data plane, so the status says so, and a server
 *   any data plane holds in maintenance was taken out deliberately. A server no data plane has
 *   reported yet counts in `total` only (maintenance if its spec disables it), so
 *   `up + down + maintenance <= total`.
 */
import { ConditionType, Reason } from '@switchyard/api';
import type { ir, ServerHealthState } from '@switchyard/api';
import type { DataplaneStatus } from '../channel/fleet.ts';
import { objectKey } from '../channel/versioned-snapshot.ts';
import type { VersionedSnapshot } from '../channel/versioned-snapshot.ts';
import type { SnapshotLookup } from '../fleet/report.ts';
import type { ConditionStatus, ResourceResult } from '../translator/types.ts';

export type { SnapshotLookup } from '../fleet/report.ts';

/** A metav1.Condition without lastTransitionTime (the writer keeps or sets it). */
export interface DesiredCondition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  reason: string;
  message: string;
}

export interface ServerCounts {
  total: number;
  up: number;
  down: number;
  maintenance: number;
}

export interface DesiredStatus {
  kind: string;
  namespace: string;
  name: string;
  generation: number | null;
  /** Accepted, ResolvedRefs, Programmed. */
  conditions: DesiredCondition[];
  /** Backends only. */
  servers?: ServerCounts;
}

export interface ComputeInput {
  results: readonly ResourceResult[];
  /** The snapshot published from these results (the cache's current one), or null before the first. */
  current: VersionedSnapshot | null | undefined;
  cache: SnapshotLookup;
  /** Every connected data plane, merged across replicas (FleetView.list()). */
  fleet: readonly DataplaneStatus[];
}

/** At most this many data planes are named in a message; the rest are counted. */
const MAX_NAMED = 5;
const MAX_ERROR_CHARS = 512;

export function computeStatuses(input: ComputeInput): DesiredStatus[] {
  const fleet = [...input.fleet].sort((a, b) => compare(a.node, b.node));
  const acked = fleet.map((dp) => (dp.ackedVersion === null ? undefined : input.cache.get(dp.ackedVersion)?.contents));
  const nacked = fleet.map((dp) => (dp.nack === null ? undefined : input.cache.get(dp.nack.version)?.contents));
  const clusters = new Map((input.current?.snapshot.clusters ?? []).map((c) => [c.name, c]));
  const health = fleetServerHealth(fleet);

  const out: DesiredStatus[] = [];
  const seen = new Set<string>();
  for (const r of input.results) {
    const key = objectKey(r.kind, r.namespace, r.name);
    if (seen.has(key)) continue; // a duplicate (file mode only): the first is the real one
    seen.add(key);
    const generation = r.generation;
    const withGeneration = (c: Omit<DesiredCondition, 'observedGeneration'>): DesiredCondition =>
      generation === null ? { ...c } : { type: c.type, status: c.status, observedGeneration: generation, reason: c.reason, message: c.message };
    const conditions = r.conditions.map((c) => withGeneration({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
    conditions.push(withGeneration(programmed(r, key, input.current, fleet, acked, nacked)));
    const desired: DesiredStatus = { kind: r.kind, namespace: r.namespace, name: r.name, generation, conditions };
    if (r.kind === 'Backend') {
      const cluster = clusters.get(`${r.namespace}/${r.name}`);
      if (cluster !== undefined && isTrue(r, ConditionType.Accepted)) desired.servers = countServers(cluster, health.get(cluster.name));
    }
    out.push(desired);
  }
  return out;
}

function programmed(
  r: ResourceResult,
  key: string,
  current: VersionedSnapshot | null | undefined,
  fleet: readonly DataplaneStatus[],
  acked: readonly (ReadonlyMap<string, number | null> | undefined)[],
  nacked: readonly (ReadonlyMap<string, number | null> | undefined)[],
): Omit<DesiredCondition, 'observedGeneration'> {
  const type = ConditionType.Programmed;
  if (!isTrue(r, ConditionType.Accepted)) {
    return { type, status: 'False', reason: Reason.Invalid, message: 'not accepted; see the Accepted condition' };
  }
  if (current === null || current === undefined) {
    return { type, status: 'False', reason: Reason.Pending, message: 'no snapshot published yet' };
  }
  if (!current.contents.has(key)) {
    const refs = r.conditions.find((c) => c.type === ConditionType.ResolvedRefs);
    if (refs !== undefined && refs.status === 'False') {
      return { type, status: 'False', reason: refs.reason, message: 'not served until its references resolve; see the ResolvedRefs condition' };
    }
    return { type, status: 'False', reason: Reason.Pending, message: 'not in the published snapshot yet' };
  }
  const generation = r.generation;
  if (current.contents.get(key) !== generation) {
    return { type, status: 'False', reason: Reason.Pending, message: `waiting for a snapshot with generation ${generation ?? '(none)'}` };
  }
  if (fleet.length === 0) {
    return { type, status: 'False', reason: Reason.NoDataPlanes, message: '0 data planes connected' };
  }
  let done = 0;
  const waiting: string[] = [];
  const rejecting: DataplaneStatus[] = [];
  fleet.forEach((dp, i) => {
    const contents = acked[i];
    if (contents !== undefined && contents.has(key) && contents.get(key) === generation) {
      done++;
      return;
    }
    const n = nacked[i];
    if (dp.nack !== null && n !== undefined && n.has(key) && n.get(key) === generation) rejecting.push(dp);
    else waiting.push(dp.node);
  });
  const total = fleet.length;
  if (done === total) return { type, status: 'True', reason: Reason.Programmed, message: `${total}/${total} data planes` };
  if (rejecting.length > 0) {
    const first = rejecting[0]!;
    const more = rejecting.length > 1 ? ` (and ${rejecting.length - 1} more data plane${rejecting.length > 2 ? 's' : ''})` : '';
    return {
      type,
      status: 'False',
      reason: Reason.Rejected,
      message: `${first.node} rejected version ${shortVersion(first.nack!.version)}: ${truncate(first.nack!.error, MAX_ERROR_CHARS)}${more}`,
    };
  }
  return { type, status: 'False', reason: Reason.Pending, message: `${done}/${total} data planes; waiting for ${nameList(waiting)}` };
}

function isTrue(r: ResourceResult, type: string): boolean {
  return r.conditions.find((c) => c.type === type)?.status === 'True';
}

/** `3f2a1b2c…`: enough to recognize a version in a message. */
export function shortVersion(version: string): string {
  return version.length > 8 ? `${version.slice(0, 8)}…` : version;
}

/** `a, b, c`, or `a, b, c, d, e and 3 more`. */
export function nameList(names: readonly string[]): string {
  if (names.length <= MAX_NAMED) return names.join(', ');
  return `${names.slice(0, MAX_NAMED).join(', ')} and ${names.length - MAX_NAMED} more`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const SEVERITY: Record<ServerHealthState, number> = { up: 0, down: 1, maint: 2 };

/** A server's state across the fleet: the worst any connected data plane reports. */
export interface ServerFleetHealth {
  state: ServerHealthState;
  /** The data planes reporting that (worst) state, sorted. */
  nodes: string[];
  /** The first non-empty reason among them. */
  reason: string;
  /** How many data planes report the server at all. */
  reporters: number;
}

/** cluster (`namespace/backend`) -> server name -> fleet health, from every data plane's last health report. */
export function fleetServerHealth(fleet: readonly DataplaneStatus[]): Map<string, Map<string, ServerFleetHealth>> {
  const out = new Map<string, Map<string, ServerFleetHealth>>();
  for (const dp of [...fleet].sort((a, b) => compare(a.node, b.node))) {
    for (const s of dp.health) {
      let servers = out.get(s.cluster);
      if (servers === undefined) out.set(s.cluster, (servers = new Map()));
      const h = servers.get(s.server);
      if (h === undefined) {
        servers.set(s.server, { state: s.state, nodes: [dp.node], reason: s.reason, reporters: 1 });
        continue;
      }
      h.reporters++;
      if (SEVERITY[s.state] > SEVERITY[h.state]) {
        h.state = s.state;
        h.nodes = [dp.node];
        h.reason = s.reason;
      } else if (s.state === h.state && h.nodes.at(-1) !== dp.node) {
        h.nodes.push(dp.node);
        if (h.reason === '') h.reason = s.reason;
      }
    }
  }
  return out;
}

function countServers(cluster: ir.Cluster, health: ReadonlyMap<string, ServerFleetHealth> | undefined): ServerCounts {
  const counts: ServerCounts = { total: cluster.servers.length, up: 0, down: 0, maintenance: 0 };
  for (const server of cluster.servers) {
    const state = health?.get(server.name)?.state ?? (server.disabled ? 'maint' : undefined);
    if (state === 'up') counts.up++;
    else if (state === 'down') counts.down++;
    else if (state === 'maint') counts.maintenance++;
  }
  return counts;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
