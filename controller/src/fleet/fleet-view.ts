/**
 * FleetView (the leader's, though any replica may run one): every connected data plane of every
 * controller replica, merged from the replicas' fleet-report Leases (see FleetReporter, report.ts).
 *
 *   const view = new FleetView({ client: kubeLeaseClient(kc, namespace), local: { replica, fleet: channelServer }, snapshots: cache });
 *   view.start(signal);          // list + watch the Leases labelled switchyard.dev/fleet-report=true
 *   view.synced                  // true once the first list is in
 *   view.list()                  // DataplaneStatus[] of the whole fleet, sorted by node
 *   view.onChange(() => ...)     // after any change of the merged fleet; returns an unsubscribe
 *
 * Merging:
 * - This replica's own data planes come live from `local.fleet` (not through its own Lease, which
 *   lags by a debounce and a round trip).
 * - A report is valid while it keeps being renewed: for `leaseDurationSeconds` (default
 *   `staleAfterMs`) after the view last saw its `renewTime` change, judged on the local clock as
 *   client-go judges leader leases, so clock skew between replicas does not matter. A report seen
 *   for the first time counts from its `renewTime` (or now, if that is in the future), so the
 *   report of a replica that died before this view started is dropped at once. A dead replica's
 *   data planes reconnect to another replica, which reports them.
 * - A node reported twice (it moved between replicas) is taken from the entry with the most recent
 *   `updatedAt`.
 * - Compact health is expanded back to every server of the acked snapshot when `snapshots` holds
 *   that version (else only the servers not up are known).
 */
import type { DataplaneStatus, LocalFleet } from '../channel/fleet.ts';
import { describeError, httpStatus } from './api-errors.ts';
import { sleep, systemClock } from '../clock.ts';
import type { Clock, Timer } from '../clock.ts';
import { parseTime } from '../kube-time.ts';
import type { FleetLogger } from './fleet-reporter.ts';
import type { FleetLease, LeaseClient, LeaseWatch, LeaseWatchEvent } from './lease-client.ts';
import { DATAPLANES_ANNOTATION, decodeReport, expandDataplane, FLEET_LEASE_PREFIX, FLEET_REPORT_LABEL } from './report.ts';
import type { CompactDataplane, SnapshotLookup } from './report.ts';

export interface FleetViewOptions {
  client: LeaseClient;
  /** This replica and its live data planes; its own Lease is then ignored. */
  local?: { replica: string; fleet: LocalFleet };
  /** Expands compact health to every server of the acked snapshot. */
  snapshots?: SnapshotLookup;
  clock?: Clock;
  /** Validity of a report whose Lease has no leaseDurationSeconds. Default 15000 ms. */
  staleAfterMs?: number;
  /** First retry delay after a failed list or watch, doubled up to 30 s. Default 500 ms. */
  backoffMs?: number;
  logger?: FleetLogger;
}

interface Report {
  replica: string;
  renewTime: string | undefined;
  /** Local time the report was last renewed, as this view judges it. */
  renewedAt: number;
  validForMs: number;
  annotation: string;
  dataplanes: CompactDataplane[];
  expanded: { list: DataplaneStatus[]; complete: boolean } | null;
}

const SELECTOR = `${FLEET_REPORT_LABEL}=true`;
const MAX_BACKOFF_MS = 30_000;

export class FleetView {
  readonly #client: LeaseClient;
  readonly #local: { replica: string; fleet: LocalFleet } | undefined;
  readonly #snapshots: SnapshotLookup | undefined;
  readonly #clock: Clock;
  readonly #staleAfterMs: number;
  readonly #backoffMs: number;
  readonly #logger: FleetLogger | undefined;
  readonly #reports = new Map<string, Report>();
  readonly #listeners = new Set<() => void>();
  #synced = false;
  #running: AbortController | null = null;
  #expiry: Timer | null = null;
  /** What the last notification was about: the valid reports' names and texts. */
  #signature = '';
  #unsubscribeLocal: (() => void) | null = null;
  #done: Promise<void> | null = null;

  constructor(options: FleetViewOptions) {
    this.#client = options.client;
    this.#local = options.local;
    this.#snapshots = options.snapshots;
    this.#clock = options.clock ?? systemClock;
    this.#staleAfterMs = options.staleAfterMs ?? 15_000;
    this.#backoffMs = options.backoffMs ?? 500;
    this.#logger = options.logger;
  }

  /** True once the first list of reports is in (and stays true across relists). */
  get synced(): boolean {
    return this.#synced;
  }

  /** Starts listing and watching until `stop()` or `signal` aborts. */
  start(signal?: AbortSignal): void {
    if (this.#running) return;
    const running = new AbortController();
    this.#running = running;
    if (signal) {
      if (signal.aborted) running.abort();
      else signal.addEventListener('abort', () => this.stop(), { once: true });
    }
    if (this.#local) this.#unsubscribeLocal = this.#local.fleet.onChange(() => this.#notify());
    this.#done = this.#run(running.signal);
  }

  /** Stops watching; resolves when the loop has ended. Reports are forgotten. */
  async stop(): Promise<void> {
    const running = this.#running;
    if (!running) return;
    running.abort();
    this.#running = null;
    this.#unsubscribeLocal?.();
    this.#unsubscribeLocal = null;
    if (this.#expiry) this.#clock.clearTimeout(this.#expiry);
    this.#expiry = null;
    await this.#done;
    this.#reports.clear();
    this.#synced = false;
    this.#signature = '';
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The merged fleet, sorted by node. */
  list(): DataplaneStatus[] {
    const now = this.#clock.now();
    const byNode = new Map<string, DataplaneStatus>();
    const add = (dp: DataplaneStatus): void => {
      const seen = byNode.get(dp.node);
      if (seen === undefined || dp.updatedAt > seen.updatedAt) byNode.set(dp.node, dp);
    };
    for (const dp of this.#local?.fleet.list() ?? []) add(dp);
    for (const report of this.#reports.values()) {
      if (!this.#valid(report, now)) continue;
      if (report.expanded === null || !report.expanded.complete) {
        let complete = true;
        const list = report.dataplanes.map((c) => {
          const e = expandDataplane(c, report.replica, this.#snapshots);
          complete &&= e.complete;
          return e.status;
        });
        report.expanded = { list, complete };
      }
      for (const dp of report.expanded.list) add(dp);
    }
    return [...byNode.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /** Replicas whose report is currently valid (this one included when `local` is set), sorted. */
  replicas(): string[] {
    const now = this.#clock.now();
    const names = new Set<string>();
    if (this.#local) names.add(this.#local.replica);
    for (const r of this.#reports.values()) if (this.#valid(r, now)) names.add(r.replica);
    return [...names].sort();
  }

  #valid(report: Report, now: number): boolean {
    return now - report.renewedAt <= report.validForMs;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let backoff = this.#backoffMs;
    while (!signal.aborted) {
      let failure: unknown;
      try {
        const { items, resourceVersion } = await this.#client.list(SELECTOR);
        if (signal.aborted) return;
        const first = !this.#synced;
        this.#synced = true;
        this.#replaceAll(items);
        if (first) this.#notify(); // consumers waiting for `synced` hear about it even when nothing changed
        backoff = this.#backoffMs;
        let rv = resourceVersion;
        let quiet = this.#backoffMs;
        for (;;) {
          const end = await this.#watch(rv, signal, (next) => (rv = next));
          if (signal.aborted) return;
          if (end.kind === 'closed') {
            // The server ended the watch: resume from the last version. A watch that ended without
            // delivering anything waits first, so a server that closes at once is not hammered.
            if (end.events > 0) quiet = this.#backoffMs;
            else {
              if (!(await sleep(this.#clock, quiet, signal))) return;
              quiet = Math.min(quiet * 2, MAX_BACKOFF_MS);
            }
            continue;
          }
          if (end.kind === 'gone') break; // 410: relist now
          failure = end.err;
          break;
        }
      } catch (err) {
        failure = err;
      }
      if (failure === undefined) continue;
      this.#logger?.warn({ err: describeError(failure), retryInMs: backoff }, 'fleet view: list/watch of fleet reports failed');
      if (!(await sleep(this.#clock, backoff, signal))) return;
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  #watch(
    resourceVersion: string,
    signal: AbortSignal,
    advance: (rv: string) => void,
  ): Promise<{ kind: 'closed'; events: number } | { kind: 'gone' } | { kind: 'failed'; err: unknown }> {
    return new Promise((resolve) => {
      let gone = false;
      let events = 0;
      let watch: LeaseWatch | null = null;
      let finished = false;
      const onAbort = (): void => watch?.stop();
      const finish = (err?: unknown): void => {
        if (finished) return;
        finished = true;
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) resolve({ kind: 'closed', events });
        else if (gone || httpStatus(err) === 410) resolve({ kind: 'gone' });
        else if (err === undefined || err === null || (err as { name?: unknown }).name === 'TimeoutError') resolve({ kind: 'closed', events });
        else resolve({ kind: 'failed', err });
      };
      const onEvent = (event: LeaseWatchEvent): void => {
        if (finished || signal.aborted) return;
        events++;
        if (event.type === 'ERROR') {
          if (event.code === 410) gone = true;
          else this.#logger?.warn({ code: event.code, message: event.message }, 'fleet view: watch error event');
          return;
        }
        if (event.type === 'BOOKMARK') {
          if (event.resourceVersion) advance(event.resourceVersion);
          return;
        }
        if (event.lease.resourceVersion) advance(event.lease.resourceVersion);
        if (event.type === 'DELETED') this.#remove(event.lease.name);
        else this.#upsert(event.lease);
        this.#changed();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#client.watch(SELECTOR, resourceVersion, onEvent, finish).then(
        (w) => {
          watch = w;
          if (finished || signal.aborted) w.stop();
        },
        (err: unknown) => finish(err ?? new Error('watch failed')),
      );
    });
  }

  #replaceAll(items: readonly FleetLease[]): void {
    const names = new Set(items.map((l) => l.name));
    for (const name of [...this.#reports.keys()]) if (!names.has(name)) this.#reports.delete(name);
    for (const lease of items) this.#upsert(lease);
    this.#changed();
  }

  #remove(name: string): void {
    this.#reports.delete(name);
  }

  #upsert(lease: FleetLease): void {
    const replica = lease.holderIdentity || lease.name.slice(FLEET_LEASE_PREFIX.length);
    if (this.#local !== undefined && replica === this.#local.replica) {
      this.#reports.delete(lease.name);
      return;
    }
    const now = this.#clock.now();
    const previous = this.#reports.get(lease.name);
    let renewedAt: number;
    if (previous === undefined) {
      renewedAt = Math.min(now, parseTime(lease.renewTime) ?? now);
    } else {
      renewedAt = previous.renewTime === lease.renewTime ? previous.renewedAt : now;
    }
    const annotation = lease.annotations?.[DATAPLANES_ANNOTATION] ?? '';
    let dataplanes: CompactDataplane[];
    let expanded: Report['expanded'] = null;
    if (previous !== undefined && previous.annotation === annotation && previous.replica === replica) {
      dataplanes = previous.dataplanes;
      expanded = previous.expanded;
    } else {
      const decoded = decodeReport(annotation);
      if (decoded.ok) {
        dataplanes = decoded.dataplanes;
      } else {
        this.#logger?.warn({ lease: lease.name, err: decoded.error }, 'fleet view: unreadable fleet report; ignoring its data planes');
        dataplanes = [];
      }
    }
    const validForMs = lease.leaseDurationSeconds !== undefined && lease.leaseDurationSeconds > 0 ? lease.leaseDurationSeconds * 1000 : this.#staleAfterMs;
    this.#reports.set(lease.name, { replica, renewTime: lease.renewTime, renewedAt, validForMs, annotation, dataplanes, expanded });
  }

  /** Re-arms the expiry timer and notifies when the set of valid reports or their content changed. */
  #changed(): void {
    if (!this.#running) return;
    const now = this.#clock.now();
    let next = Infinity;
    const parts: string[] = [];
    for (const [name, r] of [...this.#reports].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!this.#valid(r, now)) continue;
      parts.push(`${name}\n${r.replica}\n${r.annotation}`);
      next = Math.min(next, r.renewedAt + r.validForMs + 1);
    }
    if (this.#expiry) this.#clock.clearTimeout(this.#expiry);
    this.#expiry = null;
    if (next !== Infinity) {
      this.#expiry = this.#clock.setTimeout(() => {
        this.#expiry = null;
        this.#changed();
      }, Math.max(0, next - now));
      this.#expiry.unref?.();
    }
    const signature = parts.join('\n\n');
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
