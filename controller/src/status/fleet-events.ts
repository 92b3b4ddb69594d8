/**
 * FleetEvents: what in the merged fleet deserves a Kubernetes Event (pure bookkeeping; the caller
 * records the events it returns). Observed on every fleet change; the first observation after
 * `reset()` (a new leadership term) is a baseline that yields nothing, so a new leader does not
 * repeat what the previous one told.
 *
 * - A data plane NACKs a version (a new version or error): Warning `Rejected`,
 *   `data plane dp-b rejected version 3f2a1b2c…: <error>`, on each object that version would have
 *   changed on that data plane: objects whose generation in the rejected version differs from the
 *   version the data plane runs (or that it does not run at all). When the rejected version
 *   changes no generation (an endpoint change), on the Backends whose clusters differ and the
 *   Frontends whose listeners differ; when the versions are not in the cache, nobody (the channel
 *   logs and counts every NACK). At most `maxTargets` objects per NACK.
 * - A server's fleet state (the worst across the data planes serving it, see compute.ts) changes:
 *   `ServerDown` (Warning), `ServerMaintenance` (Normal) or `ServerUp` (Normal) on its Backend,
 *   naming the server and the data planes. A server no data plane reports (they all
 *   disconnected) keeps its last known state, so a reconnect does not repeat the event; a server
 *   first seen up is no news. Only servers of the published snapshot count (a data plane still
 *   running an older snapshot may report a removed server); a server that leaves it is forgotten.
 */
import { EventReason } from '@switchyard/api';
import type { ServerHealthState } from '@switchyard/api';
import type { DataplaneStatus } from '../channel/fleet.ts';
import type { VersionedSnapshot } from '../channel/versioned-snapshot.ts';
import type { SnapshotLookup } from '../fleet/report.ts';
import { fleetServerHealth, nameList, shortVersion } from './compute.ts';
import type { EventTarget, EventType } from './event-recorder.ts';

export interface FleetEvent {
  target: EventTarget;
  type: EventType;
  reason: string;
  message: string;
}

export interface FleetEventsOptions {
  /** Objects named per NACK at most. Default 100. */
  maxTargets?: number;
}

export class FleetEvents {
  readonly #maxTargets: number;
  #baseline = true;
  /** node -> `version\nerror` of its last NACK. */
  readonly #nacks = new Map<string, string>();
  /** `cluster\nserver` -> last known fleet state. */
  readonly #servers = new Map<string, ServerHealthState>();

  constructor(options: FleetEventsOptions = {}) {
    this.#maxTargets = options.maxTargets ?? 100;
  }

  /** The next `observe` is a baseline (call at the start of a leadership term). */
  reset(): void {
    this.#baseline = true;
    this.#nacks.clear();
    this.#servers.clear();
  }

  observe(fleet: readonly DataplaneStatus[], current: VersionedSnapshot | null | undefined, cache: SnapshotLookup): FleetEvent[] {
    const events: FleetEvent[] = [];
    const quiet = this.#baseline;
    this.#baseline = false;

    const nodes = new Set<string>();
    for (const dp of fleet) {
      nodes.add(dp.node);
      if (dp.nack === null) {
        this.#nacks.delete(dp.node);
        continue;
      }
      const id = `${dp.nack.version}\n${dp.nack.error}`;
      if (this.#nacks.get(dp.node) === id) continue;
      this.#nacks.set(dp.node, id);
      if (quiet) continue;
      const message = `data plane ${dp.node} rejected version ${shortVersion(dp.nack.version)}: ${dp.nack.error}`;
      for (const target of this.#rejectedTargets(dp, cache)) events.push({ target, type: 'Warning', reason: EventReason.Rejected, message });
    }
    for (const node of [...this.#nacks.keys()]) if (!nodes.has(node)) this.#nacks.delete(node);

    // Only servers of the published snapshot: a lagging data plane's report of a removed server is noise.
    let present: Set<string> | undefined;
    if (current) {
      present = new Set<string>();
      for (const c of current.snapshot.clusters) for (const s of c.servers) present.add(`${c.name}\n${s.name}`);
      for (const key of [...this.#servers.keys()]) if (!present.has(key)) this.#servers.delete(key);
    }
    const health = fleetServerHealth(fleet);
    for (const [cluster, servers] of health) {
      for (const [server, h] of servers) {
        const key = `${cluster}\n${server}`;
        if (present !== undefined && !present.has(key)) continue;
        const before = this.#servers.get(key);
        if (before === h.state) continue;
        this.#servers.set(key, h.state);
        if (quiet || (before === undefined && h.state === 'up')) continue;
        const target = backendTarget(cluster);
        if (target === undefined) continue;
        const where = nameList(h.nodes);
        if (h.state === 'down') {
          const why = h.reason === '' ? '' : `: ${h.reason}`;
          events.push({ target, type: 'Warning', reason: EventReason.ServerDown, message: `server ${server} of backend ${cluster} is down on ${where}${why}` });
        } else if (h.state === 'maint') {
          events.push({ target, type: 'Normal', reason: EventReason.ServerMaintenance, message: `server ${server} of backend ${cluster} is in maintenance on ${where}` });
        } else {
          events.push({ target, type: 'Normal', reason: EventReason.ServerUp, message: `server ${server} of backend ${cluster} is up on ${where}` });
        }
      }
    }
    return events;
  }

  #rejectedTargets(dp: DataplaneStatus, cache: SnapshotLookup): EventTarget[] {
    const rejected = cache.get(dp.nack!.version);
    if (rejected === undefined) return [];
    const running = dp.ackedVersion === null ? undefined : cache.get(dp.ackedVersion);
    const keys: string[] = [];
    for (const [key, generation] of rejected.contents) {
      if (running === undefined || !running.contents.has(key) || running.contents.get(key) !== generation) keys.push(key);
    }
    if (keys.length === 0 && running !== undefined) {
      const before = new Map(running.snapshot.clusters.map((c) => [c.name, JSON.stringify(c)]));
      for (const c of rejected.snapshot.clusters) if (before.get(c.name) !== JSON.stringify(c)) keys.push(`Backend/${c.name}`);
      const listeners = new Map(running.snapshot.listeners.map((l) => [l.name, JSON.stringify(l)]));
      const frontends = new Set<string>();
      for (const l of rejected.snapshot.listeners) if (listeners.get(l.name) !== JSON.stringify(l)) frontends.add(`Frontend/${l.frontend}`);
      keys.push(...[...frontends].sort());
    }
    const targets: EventTarget[] = [];
    for (const key of keys) {
      const [kind, namespace, name] = key.split('/');
      if (kind && namespace && name) targets.push({ kind, namespace, name });
      if (targets.length >= this.#maxTargets) break;
    }
    return targets;
  }
}

function backendTarget(cluster: string): EventTarget | undefined {
  const [namespace, name] = cluster.split('/');
  return namespace && name ? { kind: 'Backend', namespace, name } : undefined;
}
