/**
 * Messages between the main thread (coordinator.ts) and the worker threads (worker.ts). Plain
 * data, posted with postMessage (structured clone). Each worker's port is FIFO both ways, which
 * the design relies on: a worker sees a snapshot's `commit` before any grant or server state
 * that refers to it.
 */
import type { ir } from '@switchyard/api';
import type { StickUpdate } from '../stick/replication.ts';
import type { AdminState } from '../upstream/server-state.ts';
import type { SharedBuffers } from './shared-memory.ts';

/** What a worker thread starts with. */
export interface WorkerInit {
  index: number;
  buffers: SharedBuffers;
  logLevel: string;
  logBindings: Record<string, unknown>;
  /** The worker's stick-table origin (peers/origin.ts). */
  origin: string;
  /** How often the worker posts its stick-table changes, when there are any. */
  stickFlushMs: number;
}

/** A server's state as the main thread decided it: health checks, admin state, slow start. */
export type ServerStateTuple = [identity: string, healthy: boolean, admin: AdminState, weight: number];

export interface Slots {
  /** Server identity -> slot (in-flight count, stats rows). */
  servers: [identity: string, slot: number][];
  /** Cluster name -> slot (requests queued in the main thread). */
  clusters: [name: string, slot: number][];
  /** `listenerKey|mode` -> slots (sessions open, connections waiting). */
  listeners: [key: string, admitted: number, parked: number][];
}

export type ToWorker =
  /** Build the runtime aside and open new sockets; answer `prepared`. */
  | { t: 'prepare'; gen: number; snapshot: ir.Snapshot; slots: Slots; bindPorts: Record<string, number> }
  /** Make the prepared runtime live, with the main thread's server states; answer `committed`. */
  | { t: 'commit'; gen: number; state: ServerStateTuple[] }
  /** Forget the prepared runtime and close what it opened; answer `aborted`. */
  | { t: 'abort'; gen: number }
  | { t: 'server'; state: ServerStateTuple }
  /** A queued request's slot on `identity`, reserved by the main thread. */
  | { t: 'grant'; id: number; identity: string; slot: number; cluster: string }
  /** A queued request must give up (no server left for it). */
  | { t: 'abandon'; id: number }
  /** A listener's session slot freed in another thread. */
  | { t: 'admit'; admitted: number }
  /** Stick-table states to merge: another worker's changes, peers' updates, or the main thread's full state. */
  | { t: 'stick'; updates: StickUpdate[] }
  /** A stick-table writer is gone (a peer process): its connections no longer count. */
  | { t: 'stick-drop'; origin: string }
  /** Stop accepting, let sessions finish; answer `closed`. */
  | { t: 'close' };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'prepared'; gen: number; ok: true; ports: Record<string, number> }
  | { t: 'prepared'; gen: number; ok: false; error: string }
  | { t: 'committed'; gen: number }
  | { t: 'aborted'; gen: number }
  /** A request waits for a slot in `cluster` (for `server` when hashed). */
  | { t: 'enqueue'; id: number; cluster: string; server: string | null }
  /** A queued request left (client gone, queue timeout). */
  | { t: 'dequeue'; id: number; cluster: string }
  /** A server slot of `cluster` was released while requests wait for one. */
  | { t: 'freed'; cluster: string }
  /** A session slot of a listener freed while connections wait in another thread. */
  | { t: 'admit'; admitted: number }
  /** This worker's stick-table changes since its last post (its own origin, every table). */
  | { t: 'stick'; update: StickUpdate }
  | { t: 'closed' };
