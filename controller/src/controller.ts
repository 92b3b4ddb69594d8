/**
 * One controller replica, wired (ARCHITECTURE.md data flow steps 1–7):
 *
 *   KubernetesProvider (informers -> store -> coalescer) ──world──▶ retranslate (pure, endpoint fast path)
 *     ──snapshot + contents──▶ SnapshotCache ──publish──▶ ChannelServer ──push──▶ data planes
 *                                                          │ ACK/NACK/health (LocalFleet)
 *     FleetReporter (every replica: its Lease) ◀───────────┘
 *     FleetView (every replica's report) ──▶ StatusPipeline ──▶ StatusWriter / EventRecorder (leader only)
 *
 * Every replica watches, translates and serves data planes; the LeaderElector only gates the
 * status and Event writes. A translator exception publishes nothing: data planes keep the last
 * good snapshot. `/readyz` is ready once the informers have synced and a snapshot exists.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ConditionType } from '@switchyard/api';
import { startAdminServer, type AdminServer } from './admin/admin-server.ts';
import { ControllerMetrics } from './admin/controller-metrics.ts';
import { ChannelServer } from './channel/channel-server.ts';
import { SnapshotCache } from './channel/snapshot-cache.ts';
import { objectKey } from './channel/versioned-snapshot.ts';
import { FleetReporter } from './fleet/fleet-reporter.ts';
import { FleetView } from './fleet/fleet-view.ts';
import { kubeLeaseClient } from './fleet/lease-client.ts';
import { KubernetesLeaseLock } from './leader/kubernetes-lease-lock.ts';
import { LeaderElector } from './leader/leader-elector.ts';
import { KubernetesProvider, type TokenSecretRef } from './provider/kubernetes/index.ts';
import { EventRecorder, kubeEventClient } from './status/event-recorder.ts';
import { kubeStatusClient } from './status/status-client.ts';
import { StatusPipeline } from './status/status-pipeline.ts';
import { StatusWriter } from './status/status-writer.ts';
import { retranslate, type Translation } from './translator/incremental.ts';
import type { ResourceResult } from './translator/types.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** This replica's identity: the pod name in a cluster. Must be unique among replicas. */
  replica: string;
  /** Where the controller's own Leases (leader, fleet reports) live. */
  namespace: string;
  /** The control channel's websocket listener. */
  listen: HostPort;
  /** /healthz, /readyz, /metrics. */
  admin: HostPort;
  /** The data planes' bearer token: a file (re-read when it changes) or a Secret (watched). */
  token: { file: string } | { secret: TokenSecretRef };
  logger: Logger;
  /** The leader Lease's name. Default `switchyard-controller`. */
  leaseName?: string;
  /** client-go's defaults (15 s / 10 s / 2 s) unless given; tests shorten them. */
  election?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** How often each replica renews its fleet report. Default 5000 ms. */
  fleetReportIntervalMs?: number;
  /** Channel ping interval. Default 10000 ms. */
  heartbeatMs?: number;
}

export interface RunningController {
  channel: { host: string; port: number };
  admin: { host: string; port: number };
  /** Stops serving, releases leadership and removes this replica's fleet report. */
  close(): Promise<void>;
}

export async function startController(options: ControllerOptions): Promise<RunningController> {
  const log = options.logger.child({ component: 'controller', replica: options.replica });
  const metrics = new ControllerMetrics();
  // Old versions only serve status lookups for data planes still behind; each holds a whole
  // snapshot (4 MiB of heap at 1,000 Backends x 10 servers), so keep few.
  const cache = new SnapshotCache({ keep: 16 });
  const kc = options.kubeConfig;

  const provider = new KubernetesProvider({
    kubeConfig: kc,
    tokenSecret: 'secret' in options.token ? options.token.secret : undefined,
    log: options.logger.child({ component: 'provider' }),
  });
  const tokenFile = 'file' in options.token ? watchedToken(options.token.file, log) : null;
  const token = (): string | null => (tokenFile ? tokenFile.value() : provider.token());

  const channel = new ChannelServer({ cache, replica: options.replica, token, logger: options.logger, heartbeatMs: options.heartbeatMs });
  channel.onAck((e) => metrics.ack(e.latencyMs));
  channel.onNack((e) => {
    metrics.nack();
    log.warn({ node: e.node, version: e.version, error: e.error }, 'data plane rejected the snapshot');
  });
  channel.onChange(() => metrics.dataplanes(channel.connectedCount));
  provider.onRestart((kind, err) => {
    metrics.informerRestart(kind);
    log.warn({ kind, err: err.message }, 'informer restarted');
  });

  const leases = kubeLeaseClient(kc, options.namespace);
  const reporter = new FleetReporter({
    client: leases,
    replica: options.replica,
    fleet: channel,
    intervalMs: options.fleetReportIntervalMs,
    logger: log,
  });
  const view = new FleetView({ client: leases, local: { replica: options.replica, fleet: channel }, snapshots: cache, logger: log });
  // Stick-table peers: a data plane must hear of those connected to other replicas too.
  channel.usePeerDirectory(view);
  const statusClient = kubeStatusClient(kc);
  const recorder = new EventRecorder({ client: kubeEventClient(kc, statusClient), instance: options.replica });
  const writer = new StatusWriter({ client: statusClient, events: recorder });
  const pipeline = new StatusPipeline({ writer, recorder, fleet: view, cache, logger: log });

  let translation: Translation | null = null;
  provider.onChange((world) => {
    const started = performance.now();
    try {
      translation = retranslate(translation, { objects: world.objects, endpoints: world.endpoints });
    } catch (err) {
      // A system error, not a user error: publish nothing, the data planes keep the last good snapshot.
      metrics.reconcile('error', (performance.now() - started) / 1000);
      log.error({ err }, 'translation failed; keeping the last published snapshot');
      return;
    }
    // The translate histogram times the translation alone; publishing also hashes the snapshot
    // and hands it to every stream, which the push-to-ACK histogram covers.
    const translateSeconds = (performance.now() - started) / 1000;
    const { snapshot, results } = translation.result;
    const published = cache.publish(snapshot, contentsOf(results));
    metrics.reconcile(published ? 'published' : 'unchanged', translateSeconds);
    if (published) {
      metrics.published(published.version);
      log.info(
        { version: published.version, listeners: snapshot.listeners.length, clusters: snapshot.clusters.length, mode: translation.stats.mode },
        'snapshot published',
      );
    }
    // Results go to status even when the snapshot is unchanged: a recreated object needs its status again.
    pipeline.setTranslation(results, cache.current);
  });

  const channelAddress = await channel.listen(options.listen.host, options.listen.port);
  let admin: AdminServer;
  try {
    admin = await startAdminServer({
      host: options.admin.host,
      port: options.admin.port,
      registry: metrics.registry,
      logger: log,
      readiness: () => {
        if (!provider.synced) return { ready: false, reason: 'informers not synced' };
        if (!cache.current) return { ready: false, reason: 'no snapshot yet' };
        return { ready: true, reason: '' };
      },
    });
  } catch (err) {
    await channel.close();
    throw err;
  }
  log.info({ channel: `${channelAddress.address}:${channelAddress.port}`, admin: admin.address() }, 'controller listening');

  provider.start();
  reporter.start();
  const stopping = new AbortController();
  view.start(stopping.signal);

  const election = options.election ?? { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
  const elector = new LeaderElector({
    lock: KubernetesLeaseLock.fromKubeConfig(kc, options.namespace, options.leaseName ?? 'switchyard-controller'),
    identity: options.replica,
    ...election,
    releaseOnCancel: true,
    logger: log,
    onStartedLeading: async (term) => {
      log.info('became leader: writing status and events');
      metrics.leader(true);
      pipeline.start(term);
      await new Promise<void>((resolve) => term.addEventListener('abort', () => resolve(), { once: true }));
      await writer.idle();
    },
    onStoppedLeading: () => {
      metrics.leader(false);
      log.info('no longer leader');
    },
    onNewLeader: (identity) => log.info({ leader: identity }, 'leader observed'),
  });
  const electing = elector.run(stopping.signal);

  return {
    channel: { host: channelAddress.address, port: channelAddress.port },
    admin: admin.address(),
    async close() {
      stopping.abort();
      await electing.catch((err: unknown) => log.warn({ err }, 'leader election ended with an error'));
      await provider.stop();
      await channel.close();
      await reporter.stop();
      await view.stop();
      tokenFile?.close();
      await admin.close();
    },
  };
}

/** `Kind/namespace/name` -> generation of every Accepted object: what a version "contains" for Programmed. */
function contentsOf(results: readonly ResourceResult[]): Map<string, number | null> {
  const contents = new Map<string, number | null>();
  for (const r of results) {
    const accepted = r.conditions.find((c) => c.type === ConditionType.Accepted);
    if (accepted?.status === 'True') contents.set(objectKey(r.kind, r.namespace, r.name), r.generation);
  }
  return contents;
}

/** A token file, re-read when it changes (a mounted Secret is updated in place by the kubelet). */
function watchedToken(file: string, log: Logger): { value(): string | null; close(): void } {
  const read = (): string | null => {
    try {
      const text = readFileSync(file, 'utf8').trim();
      return text === '' ? null : text;
    } catch (err) {
      log.error({ file, err: (err as Error).message }, 'cannot read the token file; refusing every data plane');
      return null;
    }
  };
  let current = read();
  const onChange = (): void => {
    current = read();
  };
  watchFile(file, { interval: 1000, persistent: false }, onChange);
  return { value: () => current, close: () => unwatchFile(file, onChange) };
}
