/**
 * What the data plane does with a pushed snapshot, without any transport (ARCHITECTURE data flow
 * step 8): validate it with SnapshotSchema, apply it through `Dataplane.apply` (which builds the
 * whole runtime aside and swaps only on success), and answer ACK or NACK. A NACKed snapshot is
 * never half-applied: the last good one keeps serving. The websocket client and standalone
 * `switchyard run` both go through here.
 */
import { parseSnapshot } from '@switchyard/api';
import type { ir } from '@switchyard/api';
import type { Logger } from '../logger.ts';
import type { ApplyResult } from '../runtime/dataplane.ts';

/** What the applier needs of the data plane (a `Dataplane`). */
export interface SnapshotTarget {
  apply(snapshot: ir.Snapshot): Promise<ApplyResult>;
}

export interface VersionedPush {
  version: string;
  /** Untrusted: validated before anything is built. */
  snapshot: unknown;
}

export type ApplyOutcome =
  /** `skipped`: the version was already being served, so nothing was rebuilt. */
  | { ok: true; version: string; skipped: boolean }
  | { ok: false; version: string; error: string };

export class SnapshotApplier {
  readonly #target: SnapshotTarget;
  readonly #log: Logger;
  #version: string | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { dataplane: SnapshotTarget; logger: Logger }) {
    this.#target = options.dataplane;
    this.#log = options.logger;
  }

  /** The version being served: the last one applied successfully, or null before the first. */
  get version(): string | null {
    return this.#version;
  }

  /** Applies pushes one at a time, in the order given. Never rejects. */
  apply(push: VersionedPush): Promise<ApplyOutcome> {
    const outcome = this.#queue.then(() => this.#applyNow(push));
    this.#queue = outcome;
    return outcome;
  }

  async #applyNow({ version, snapshot }: VersionedPush): Promise<ApplyOutcome> {
    if (version === this.#version) {
      this.#log.debug({ version }, 'snapshot already served');
      return { ok: true, version, skipped: true };
    }
    const parsed = parseSnapshot(snapshot);
    if (!parsed.ok) return this.#reject(version, `invalid snapshot: ${parsed.error}`);
    let result: ApplyResult;
    try {
      result = await this.#target.apply(parsed.snapshot);
    } catch (err) {
      result = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (!result.ok) return this.#reject(version, result.error);
    const previous = this.#version;
    this.#version = version;
    this.#log.info(
      { version, previous, listeners: parsed.snapshot.listeners.length, clusters: parsed.snapshot.clusters.length },
      'snapshot applied',
    );
    return { ok: true, version, skipped: false };
  }

  #reject(version: string, error: string): ApplyOutcome {
    this.#log.warn({ version, serving: this.#version, error }, 'snapshot rejected; still serving the last good one');
    return { ok: false, version, error };
  }
}
