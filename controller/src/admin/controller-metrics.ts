/**
 * The controller's Prometheus metrics, in a registry of its own (never prom-client's global one,
 * so two controllers in one test process do not collide). Names follow
 * `switchyard_controller_<what>_<unit>`; every label has a bounded set of values.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type ReconcileResult = 'published' | 'unchanged' | 'error';

/** The kinds the controller watches: the only values of the `kind` label. */
export const INFORMER_KINDS = ['Frontend', 'Backend', 'HealthPolicy', 'Service', 'EndpointSlice', 'Secret'] as const;
export type InformerKind = (typeof INFORMER_KINDS)[number];

const RECONCILE_RESULTS: readonly ReconcileResult[] = ['published', 'unchanged', 'error'];

export interface ControllerMetricsOptions {
  /** Register prom-client's default process and Node.js metrics. Default true. */
  defaultMetrics?: boolean;
}

export class ControllerMetrics {
  readonly registry: Registry;
  readonly #reconciles: Counter<'result'>;
  readonly #translateDuration: Histogram;
  readonly #snapshotInfo: Gauge<'version'>;
  readonly #publishes: Counter;
  readonly #dataplanes: Gauge;
  readonly #ackLatency: Histogram;
  readonly #nacks: Counter;
  readonly #informerRestarts: Counter<'kind'>;
  readonly #leader: Gauge;
  #version: string | null = null;

  constructor(options: ControllerMetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
    const registers = [registry];

    this.#reconciles = new Counter({
      name: 'switchyard_controller_reconciles_total',
      help: 'Rebuilds of the snapshot from the watched resources, by outcome (published, unchanged, error).',
      labelNames: ['result'],
      registers,
    });
    for (const result of RECONCILE_RESULTS) this.#reconciles.inc({ result }, 0);
    this.#translateDuration = new Histogram({
      name: 'switchyard_controller_translate_duration_seconds',
      help: 'Time spent translating resources into a snapshot.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#snapshotInfo = new Gauge({
      name: 'switchyard_controller_snapshot_info',
      help: 'The version of the snapshot currently published (value 1, label version).',
      labelNames: ['version'],
      registers,
    });
    this.#publishes = new Counter({
      name: 'switchyard_controller_snapshot_publishes_total',
      help: 'Snapshots published with a new version.',
      registers,
    });
    this.#dataplanes = new Gauge({
      name: 'switchyard_controller_dataplanes_connected',
      help: 'Data planes connected to this controller replica.',
      registers,
    });
    this.#ackLatency = new Histogram({
      name: 'switchyard_controller_push_ack_latency_seconds',
      help: 'Time from pushing a snapshot to a data plane until it ACKed it.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#nacks = new Counter({
      name: 'switchyard_controller_nacks_total',
      help: 'Snapshots a data plane rejected (NACK).',
      registers,
    });
    this.#informerRestarts = new Counter({
      name: 'switchyard_controller_informer_restarts_total',
      help: 'Informer restarts after a watch or list failure, by kind.',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of INFORMER_KINDS) this.#informerRestarts.inc({ kind }, 0);
    this.#leader = new Gauge({
      name: 'switchyard_controller_leader',
      help: '1 while this replica holds the leader lease (and writes status), else 0.',
      registers,
    });
    this.#leader.set(0);
  }

  /** One rebuild: its outcome, and the seconds the translation took. */
  reconcile(result: ReconcileResult, seconds: number): void {
    this.#reconciles.inc({ result: RECONCILE_RESULTS.includes(result) ? result : 'error' });
    if (Number.isFinite(seconds) && seconds >= 0) this.#translateDuration.observe(seconds);
  }

  /** A snapshot was published under `version`: counted, and the info gauge moves to it. Repeating the current version does nothing. */
  published(version: string): void {
    if (version === this.#version) return;
    this.#publishes.inc();
    this.#version = version;
    this.#snapshotInfo.reset();
    this.#snapshotInfo.set({ version }, 1);
  }

  /** The number of data planes connected now. */
  dataplanes(connected: number): void {
    this.#dataplanes.set(connected);
  }

  /** A data plane ACKed a push `latencyMs` after it was sent. */
  ack(latencyMs: number): void {
    if (Number.isFinite(latencyMs) && latencyMs >= 0) this.#ackLatency.observe(latencyMs / 1000);
  }

  nack(): void {
    this.#nacks.inc();
  }

  informerRestart(kind: InformerKind): void {
    const known: readonly string[] = INFORMER_KINDS;
    this.#informerRestarts.inc({ kind: known.includes(kind) ? kind : 'other' });
  }

  leader(isLeader: boolean): void {
    this.#leader.set(isLeader ? 1 : 0);
  }

  /** The exposition text, as /metrics serves it. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
