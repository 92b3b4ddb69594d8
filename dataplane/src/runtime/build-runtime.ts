/**
 * Snapshot -> Runtime, built off to the side: nothing live is touched until `commit`. Server
 * state (health, counters, in-flight counts, pooled connections) and health checkers are carried
 * over from the previous runtime by identity, so a new snapshot keeps what is already known.
 */
import type { ir } from '@switchyard/api';
import type { Clock } from '../clock.ts';
import { HealthChecker } from '../health/checker.ts';
import type { Logger } from '../logger.ts';
import { createAlgorithm, algorithms } from '../lb/registry.ts';
import { CookiePersistence } from '../persistence/cookie.ts';
import { parseCidr } from '../proxy/cidr.ts';
import type { ForwardFor, ListenerRuntime } from '../proxy/listener-runtime.ts';
import { compileRules, type CompiledRules } from '../rules/compile.ts';
import { compileSample } from '../rules/sample.ts';
import type { StagedTables, StickTables } from '../stick/replication.ts';
import { Cluster } from '../upstream/cluster.ts';
import { ServerState, serverIdentity } from '../upstream/server-state.ts';

export interface RuntimeDeps {
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** The data plane's stick tables: long-lived, carried across snapshots by name. */
  stickTables: StickTables;
}

function forwardFor(config: ir.ForwardFor | null): ForwardFor | null {
  return config === null ? null : { header: config.header, except: config.except === null ? null : parseCidr(config.except) };
}

export class Runtime {
  readonly snapshot: ir.Snapshot;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly listeners: ReadonlyMap<string, ListenerRuntime>;
  /** Health checkers by server identity and check settings. */
  readonly checkers: Map<string, HealthChecker>;
  /** Settings to apply to carried-over servers at commit. */
  private readonly reconfigure: [ServerState, ir.Server][];
  private readonly checkKeys: Map<string, { server: ServerState; check: ir.HealthCheck }>;

  /** The snapshot's stick tables, made live (StickTables.commit) with the runtime. */
  private readonly tables: StagedTables;

  constructor(
    snapshot: ir.Snapshot,
    clusters: Map<string, Cluster>,
    listeners: Map<string, ListenerRuntime>,
    reconfigure: [ServerState, ir.Server][],
    checkKeys: Map<string, { server: ServerState; check: ir.HealthCheck }>,
    tables: StagedTables,
  ) {
    this.snapshot = snapshot;
    this.tables = tables;
    this.clusters = clusters;
    this.listeners = listeners;
    this.reconfigure = reconfigure;
    this.checkKeys = checkKeys;
    this.checkers = new Map();
  }

  /** Makes this runtime live: servers take their new settings and owners, checkers start or stop. */
  commit(previous: Runtime | null, deps: RuntimeDeps): void {
    deps.stickTables.commit(this.tables);
    for (const [server, config] of this.reconfigure) server.reconfigure(config);
    for (const [key, { server, check }] of this.checkKeys) {
      const kept = previous?.checkers.get(key);
      if (kept) {
        this.checkers.set(key, kept);
        continue;
      }
      const log = deps.logger.child({ backend: server.cluster, server: server.name });
      const checker = new HealthChecker({
        target: { host: server.config.address, port: server.config.port },
        check,
        clock: deps.clock,
        initiallyUp: server.healthy,
        onTransition: (up, result) => {
          log.warn({ check: result.status, detail: result.detail, durationMs: result.durationMs }, `server ${server.cluster}/${server.name} is ${up ? 'UP' : 'DOWN'}`);
          server.setHealthy(up);
        },
      });
      this.checkers.set(key, checker);
      checker.start();
    }
    if (previous) for (const [key, checker] of previous.checkers) if (!this.checkers.has(key)) checker.stop();
    // Servers that lost their checks are trusted again, as HAProxy does with no check.
    for (const cluster of this.clusters.values()) if (cluster.config.health === null) for (const s of cluster.servers) s.healthy = true;
    for (const cluster of this.clusters.values()) cluster.activate();
    if (previous) {
      for (const [name, cluster] of previous.clusters) cluster.retire(this.clusters.get(name) ?? null);
      const kept = new Set<ServerState>();
      for (const cluster of this.clusters.values()) for (const server of cluster.servers) kept.add(server);
      for (const cluster of previous.clusters.values()) for (const server of cluster.servers) if (!kept.has(server)) server.retire();
    }
  }

  stop(): void {
    for (const checker of this.checkers.values()) checker.stop();
    for (const cluster of this.clusters.values()) for (const server of cluster.servers) server.retire();
  }
}

export function buildRuntime(snapshot: ir.Snapshot, previous: Runtime | null, deps: RuntimeDeps): Runtime {
  const known = new Map<string, ServerState>();
  if (previous) for (const cluster of previous.clusters.values()) for (const s of cluster.servers) known.set(s.identity, s);

  const reconfigure: [ServerState, ir.Server][] = [];
  const checkKeys = new Map<string, { server: ServerState; check: ir.HealthCheck }>();
  const clusters = new Map<string, Cluster>();
  for (const config of snapshot.clusters) {
    const factory = algorithms.get(config.balance.algorithm);
    if (!factory) throw new Error(`cluster ${config.name}: unknown balance algorithm ${config.balance.algorithm}`);
    if (factory.needs === 'http' && config.mode !== 'http') throw new Error(`cluster ${config.name}: balance ${factory.name} needs mode http`);
    const servers = config.servers.map((s) => {
      const existing = known.get(serverIdentity(config.name, s));
      if (existing) {
        reconfigure.push([existing, s]);
        return existing;
      }
      return new ServerState(config.name, s);
    });
    if (config.health) {
      for (const server of servers) {
        checkKeys.set(`${server.identity}|${JSON.stringify(config.health)}`, { server, check: config.health });
      }
    }
    const primary = createAlgorithm(config.balance, deps.random);
    const backup = config.allBackups ? createAlgorithm(config.balance, deps.random) : null;
    const cluster = new Cluster(config, servers, primary, backup, factory.hashed);
    cluster.forwardFor = forwardFor(config.forwardFor);
    clusters.set(config.name, cluster);
  }

  // Tables are staged: a new table exists only for this runtime until commit, so a snapshot that
  // fails below leaves the live tables as they were.
  const tables = deps.stickTables.stage(snapshot.stickTables);
  for (const cluster of clusters.values()) {
    const { cookie, stick } = cluster.config;
    if (cookie === null && stick === null) continue;
    let stickRuntime = null;
    if (stick !== null) {
      const table = tables.get(stick.table);
      if (table === undefined) throw new Error(`cluster ${cluster.name}: unknown stick table ${stick.table}`);
      const context = { tables };
      stickRuntime = {
        on: compileSample(stick.on, context, 'http-request'),
        storeResponse: stick.storeResponse === null ? null : compileSample(stick.storeResponse, context, 'http-response'),
        table,
      };
    }
    cluster.persistence = { cookie: cookie === null ? null : new CookiePersistence(cookie, cluster.servers, cluster.config.redispatch), stick: stickRuntime };
  }

  const clusterNames = new Set(clusters.keys());
  const compiled = new Map<string, CompiledRules>();
  const listeners = new Map<string, ListenerRuntime>();
  for (const config of snapshot.listeners) {
    const cluster = config.defaultCluster === null ? null : (clusters.get(config.defaultCluster) ?? null);
    if (config.defaultCluster !== null && cluster === null) throw new Error(`listener ${config.name}: unknown cluster ${config.defaultCluster}`);
    if (cluster !== null && cluster.config.mode !== config.mode) throw new Error(`listener ${config.name}: mode ${config.mode} but cluster ${cluster.name} is ${cluster.config.mode}`);
    // A Frontend's listeners (one per bind) share its compiled rules.
    let rules: CompiledRules | null = null;
    if (config.rules !== null) {
      rules = compiled.get(config.frontend) ?? null;
      if (rules === null) {
        try {
          rules = compileRules(config.rules, { tables, clusters: clusterNames });
        } catch (err) {
          throw new Error(`frontend ${config.frontend}: ${(err as Error).message}`, { cause: err });
        }
        compiled.set(config.frontend, rules);
      }
    }
    const access = rules?.log ? deps.logger.child({ log: 'access', frontend: config.frontend }) : null;
    listeners.set(config.name, {
      config,
      cluster,
      clusters,
      forwardFor: forwardFor(config.forwardFor),
      rules,
      tables,
      accessLog: access === null ? null : (line: string) => access.info(line),
    });
  }
  return new Runtime(snapshot, clusters, listeners, reconfigure, checkKeys, tables);
}
