/**
 * StatusPipeline: the leader's status loop in one place. Feeds the latest translation and the
 * merged fleet to `computeStatuses`, hands the result to the StatusWriter, and turns fleet changes
 * into Events (FleetEvents -> EventRecorder).
 *
 *   const pipeline = new StatusPipeline({ writer, recorder, fleet: fleetView, cache });
 *   cache.onPublish(...) / after each translation: pipeline.setTranslation(results, cache.current);
 *   elector.onStartedLeading((signal) => pipeline.start(signal));
 *
 * Every replica may call `setTranslation` (it only stores); the work runs during a leadership term:
 * `start(signal)` starts the writer and the recorder for the term, takes a fresh FleetEvents
 * baseline, and recomputes after `holdoffMs` whenever the translation or the fleet changes (a
 * burst of ACKs makes one computation). It waits for the fleet to be `synced` (when the source
 * says), so a new leader does not write `1/1 data planes` before it has heard of the others.
 */
import type { DataplaneStatus } from '../channel/fleet.ts';
import type { VersionedSnapshot } from '../channel/versioned-snapshot.ts';
import { systemClock } from '../clock.ts';
import type { Clock, Timer } from '../clock.ts';
import type { FleetLogger } from '../fleet/fleet-reporter.ts';
import type { SnapshotLookup } from '../fleet/report.ts';
import type { ResourceResult } from '../translator/types.ts';
import { computeStatuses } from './compute.ts';
import type { EventSink } from './event-recorder.ts';
import { FleetEvents } from './fleet-events.ts';
import type { StatusWriter } from './status-writer.ts';

/** The merged fleet (a FleetView, or a LocalFleet for a single replica). */
export interface FleetSource {
  list(): DataplaneStatus[];
  onChange(listener: () => void): () => void;
  /** When present, nothing is computed until it is true. */
  readonly synced?: boolean;
}

export interface StatusPipelineOptions {
  writer: StatusWriter;
  /** The EventRecorder (started with each term when it has `start`). */
  recorder?: EventSink & { start?(signal: AbortSignal): void };
  fleet: FleetSource;
  cache: SnapshotLookup;
  clock?: Clock;
  /** Delay between a change and the computation. Default 100 ms. */
  holdoffMs?: number;
  logger?: FleetLogger;
}

export class StatusPipeline {
  readonly #writer: StatusWriter;
  readonly #recorder: StatusPipelineOptions['recorder'];
  readonly #fleet: FleetSource;
  readonly #cache: SnapshotLookup;
  readonly #clock: Clock;
  readonly #holdoffMs: number;
  readonly #logger: FleetLogger | undefined;
  readonly #fleetEvents = new FleetEvents();
  #results: readonly ResourceResult[] | null = null;
  #current: VersionedSnapshot | null = null;
  #term: AbortSignal | null = null;
  #timer: Timer | null = null;
  #unsubscribe: (() => void) | null = null;
  /** Computations run (tests, metrics). */
  computations = 0;

  constructor(options: StatusPipelineOptions) {
    this.#writer = options.writer;
    this.#recorder = options.recorder;
    this.#fleet = options.fleet;
    this.#cache = options.cache;
    this.#clock = options.clock ?? systemClock;
    this.#holdoffMs = options.holdoffMs ?? 100;
    this.#logger = options.logger;
  }

  /** The latest translation and the snapshot published from it. */
  setTranslation(results: readonly ResourceResult[], current: VersionedSnapshot | null): void {
    this.#results = results;
    this.#current = current;
    this.#schedule();
  }

  /** A leadership term: writes and records until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#stop();
    this.#term = signal;
    signal.addEventListener('abort', () => this.#term === signal && this.#stop(), { once: true });
    this.#fleetEvents.reset();
    this.#recorder?.start?.(signal);
    // Whatever was desired in an earlier term is stale: the first computation of this term decides.
    this.#writer.update([]);
    this.#writer.start(signal);
    this.#unsubscribe = this.#fleet.onChange(() => this.#schedule());
    this.#schedule();
  }

  #stop(): void {
    this.#term = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    if (this.#term === null || this.#timer !== null) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#run();
    }, this.#holdoffMs);
    this.#timer.unref?.();
  }

  #run(): void {
    if (this.#term === null || this.#results === null || this.#fleet.synced === false) return;
    try {
      const fleet = this.#fleet.list();
      this.computations++;
      this.#writer.update(computeStatuses({ results: this.#results, current: this.#current, cache: this.#cache, fleet }));
      for (const e of this.#fleetEvents.observe(fleet, this.#current, this.#cache)) this.#recorder?.record(e.target, e.type, e.reason, e.message);
    } catch (err) {
      // A bug here must not take the controller down; the next change tries again.
      this.#logger?.warn({ err: err instanceof Error ? err.stack : String(err) }, 'status: computation failed');
    }
  }
}
