/**
 * FleetReporter (every controller replica): publishes the data planes connected to this replica
 * (its LocalFleet) in the replica's own Lease, so the leader's FleetView can merge the whole fleet.
 *
 *   const reporter = new FleetReporter({ client: kubeLeaseClient(kc, namespace), replica, fleet: channelServer });
 *   reporter.start();            // writes at once, on every fleet change (debounced), and every intervalMs
 *   await reporter.stop();       // deletes the Lease: the leader forgets these data planes at once
 *
 * The Lease `switchyard-fleet-<replica>` carries label `switchyard.dev/fleet-report: "true"`,
 * `spec.holderIdentity` = replica, `spec.renewTime` refreshed on every write and
 * `spec.leaseDurationSeconds` = how long the report stays valid without renewal (staleAfterMs,
 * three intervals by default); the report itself is the `switchyard.dev/dataplanes` annotation
 * (see report.ts). Every replica writes its own Lease, leader or not: "only the leader writes" is
 * about status and Events. Writes are serialized; a change during a write triggers one more.
 * A failed write is logged and retried at the next change or renewal.
 */
import type { LocalFleet } from '../channel/fleet.ts';
import { describeError, httpStatus } from './api-errors.ts';
import { systemClock } from '../clock.ts';
import type { Clock, Timer } from '../clock.ts';
import { formatMicroTime } from '../kube-time.ts';
import type { FleetLease, LeaseClient } from './lease-client.ts';
import { DATAPLANES_ANNOTATION, encodeReport, FLEET_REPORT_LABEL, fleetLeaseName, MAX_REPORT_BYTES } from './report.ts';

export interface FleetLogger {
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export interface FleetReporterOptions {
  client: LeaseClient;
  /** This replica's identity (the pod name). */
  replica: string;
  fleet: LocalFleet;
  clock?: Clock;
  /** Renewal period. Default 5000 ms. */
  intervalMs?: number;
  /** How long a report stays valid without renewal (written as leaseDurationSeconds). Default 3 intervals. */
  staleAfterMs?: number;
  /** Holdoff after a fleet change before writing, so a burst of ACKs makes one write. Default 150 ms. */
  debounceMs?: number;
  maxReportBytes?: number;
  logger?: FleetLogger;
}

const MAX_CONFLICT_RETRIES = 3;

export class FleetReporter {
  readonly leaseName: string;
  readonly #client: LeaseClient;
  readonly #replica: string;
  readonly #fleet: LocalFleet;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #durationSeconds: number;
  readonly #debounceMs: number;
  readonly #maxBytes: number;
  readonly #logger: FleetLogger | undefined;
  #running = false;
  #unsubscribe: (() => void) | null = null;
  #debounce: Timer | null = null;
  #renew: Timer | null = null;
  #writing: Promise<void> | null = null;
  #again = false;
  /** The Lease as last read or written (its resourceVersion makes the next replace cheap). */
  #lease: FleetLease | null = null;
  #writes = 0;

  constructor(options: FleetReporterOptions) {
    this.#client = options.client;
    this.#replica = options.replica;
    this.#fleet = options.fleet;
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = options.intervalMs ?? 5000;
    const staleAfterMs = options.staleAfterMs ?? 3 * this.#intervalMs;
    if (!(this.#intervalMs > 0) || !(staleAfterMs > this.#intervalMs)) {
      throw new RangeError(`FleetReporter: need intervalMs > 0 and staleAfterMs > intervalMs, got ${this.#intervalMs} and ${staleAfterMs}`);
    }
    this.#durationSeconds = Math.ceil(staleAfterMs / 1000);
    this.#debounceMs = options.debounceMs ?? 150;
    this.#maxBytes = options.maxReportBytes ?? MAX_REPORT_BYTES;
    this.#logger = options.logger;
    this.leaseName = fleetLeaseName(options.replica);
  }

  /** Successful writes so far (for tests and metrics). */
  get writes(): number {
    return this.#writes;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = this.#fleet.onChange(() => this.#changed());
    this.#kick();
  }

  /** Stops writing and deletes the Lease (best effort), so the leader drops these data planes now. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#debounce) this.#clock.clearTimeout(this.#debounce);
    if (this.#renew) this.#clock.clearTimeout(this.#renew);
    this.#debounce = this.#renew = null;
    this.#again = false;
    await this.#writing;
    try {
      await this.#client.delete(this.leaseName);
    } catch (err) {
      this.#logger?.warn({ lease: this.leaseName, err: describeError(err) }, 'fleet report: cannot delete the lease');
    }
    this.#lease = null;
  }

  /** Resolves when no write is in flight or scheduled by a change (tests). */
  async idle(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  #changed(): void {
    if (!this.#running || this.#debounce) return;
    this.#debounce = this.#clock.setTimeout(() => {
      this.#debounce = null;
      this.#kick();
    }, this.#debounceMs);
  }

  /** Writes now (or right after the write in flight), then renews after a full interval. */
  #kick(): void {
    if (!this.#running) return;
    if (this.#writing) {
      this.#again = true;
      return;
    }
    if (this.#renew) this.#clock.clearTimeout(this.#renew);
    this.#renew = null;
    this.#writing = this.#write().finally(() => {
      this.#writing = null;
      if (!this.#running) return;
      if (this.#again) {
        this.#again = false;
        this.#kick();
      } else {
        this.#renew = this.#clock.setTimeout(() => {
          this.#renew = null;
          this.#kick();
        }, this.#intervalMs);
        this.#renew.unref?.();
      }
    });
  }

  async #write(): Promise<void> {
    const report = encodeReport(this.#fleet.list(), this.#maxBytes);
    for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
      const lease = this.#desired(report);
      try {
        if (this.#lease === null) this.#lease = await this.#client.get(this.leaseName);
        if (this.#lease === null) {
          this.#lease = await this.#client.create(lease);
        } else {
          this.#lease = await this.#client.replace({ ...lease, resourceVersion: this.#lease.resourceVersion });
        }
        this.#writes++;
        return;
      } catch (err) {
        const status = httpStatus(err);
        // 409: someone else wrote it (or a create raced); 404: it was deleted. Read again and retry.
        this.#lease = null;
        if ((status === 409 || status === 404) && attempt < MAX_CONFLICT_RETRIES) continue;
        this.#logger?.warn({ lease: this.leaseName, err: describeError(err) }, 'fleet report: write failed; retrying at the next change or renewal');
        return;
      }
    }
  }

  #desired(report: string): FleetLease {
    return {
      name: this.leaseName,
      labels: { [FLEET_REPORT_LABEL]: 'true', 'app.kubernetes.io/part-of': 'switchyard' },
      annotations: { [DATAPLANES_ANNOTATION]: report },
      holderIdentity: this.#replica,
      leaseDurationSeconds: this.#durationSeconds,
      renewTime: formatMicroTime(this.#clock.now()),
    };
  }
}
