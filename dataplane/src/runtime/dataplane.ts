/**
 * The data plane: applies snapshots atomically and owns the listening sockets.
 *
 * `apply` builds the whole runtime aside, opens any new listening sockets, and only then swaps:
 * servers move to their new clusters, listeners that stay keep their sockets and pick up the
 * new runtime reference, removed listeners stop accepting and drain. If anything fails before
 * the swap, the previous runtime keeps serving untouched and the error is returned (a NACK).
 */
import type { ir } from '@switchyard/api';
import { systemClock, type Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { ServerState } from '../upstream/server-state.ts';
import { buildRuntime, type Runtime, type RuntimeDeps } from './build-runtime.ts';
import { Listener, listenerKey } from './listener.ts';

export type ApplyResult = { ok: true } | { ok: false; error: string };

export class Dataplane {
  private runtime: Runtime | null = null;
  private readonly listeners = new Map<string, Listener>();
  private readonly deps: RuntimeDeps;
  private applying: Promise<unknown> = Promise.resolve();

  constructor(options: { logger: Logger; clock?: Clock; random?: () => number }) {
    this.deps = { logger: options.logger, clock: options.clock ?? systemClock, random: options.random ?? Math.random };
  }

  /** The snapshot being served, or null before the first successful apply. */
  get snapshot(): ir.Snapshot | null {
    return this.runtime?.snapshot ?? null;
  }

  /** Applies snapshots one at a time, in the order given. */
  apply(snapshot: ir.Snapshot): Promise<ApplyResult> {
    const result = this.applying.then(() => this.applyNow(snapshot));
    this.applying = result;
    return result;
  }

  private async applyNow(snapshot: ir.Snapshot): Promise<ApplyResult> {
    let next: Runtime;
    try {
      next = buildRuntime(snapshot, this.runtime, this.deps);
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    // Open what is new first, so a port we cannot bind leaves everything as it was.
    const opened: Listener[] = [];
    const keep = new Map<string, Listener>();
    const replaced: Listener[] = [];
    for (const lr of next.listeners.values()) {
      const key = listenerKey(lr.config.address, lr.config.port);
      const existing = this.listeners.get(key);
      if (existing && existing.mode === lr.config.mode && !existing.draining) {
        keep.set(key, existing);
        continue;
      }
      if (existing) replaced.push(existing);
      const listener = new Listener(lr);
      if (existing) await existing.drain(); // same port, new mode: the old socket must go first
      try {
        await listener.listen();
      } catch (err) {
        for (const l of opened) void l.drain();
        return { ok: false, error: `listener ${lr.config.name} on ${key}: ${(err as Error).message}` };
      }
      opened.push(listener);
      keep.set(key, listener);
    }
    next.commit(this.runtime, this.deps);
    for (const lr of next.listeners.values()) keep.get(listenerKey(lr.config.address, lr.config.port))!.runtime = lr;
    for (const [key, listener] of this.listeners) {
      if (!keep.has(key) && !replaced.includes(listener)) void listener.drain();
    }
    this.listeners.clear();
    for (const [key, listener] of keep) this.listeners.set(key, listener);
    this.runtime = next;
    return { ok: true };
  }

  /** The port a listener is bound to (useful when the snapshot asked for port 0). */
  boundPort(listenerName: string): number | undefined {
    for (const listener of this.listeners.values()) if (listener.runtime.config.name === listenerName) return listener.port;
    return undefined;
  }

  /** Every server of every cluster, for stats and the runtime API. */
  servers(): ServerState[] {
    const out: ServerState[] = [];
    if (this.runtime) for (const cluster of this.runtime.clusters.values()) out.push(...cluster.servers);
    return out;
  }

  /** Requests waiting for a server slot in a cluster (`namespace/backend`), or undefined if unknown. */
  queueLength(cluster: string): number | undefined {
    return this.runtime?.clusters.get(cluster)?.queueLength;
  }

  async close(): Promise<void> {
    await this.applying;
    this.runtime?.stop();
    await Promise.all([...this.listeners.values()].map((l) => l.drain()));
    this.listeners.clear();
  }
}
