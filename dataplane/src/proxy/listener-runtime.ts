/**
 * What a session needs from its listener, swapped as one reference when a snapshot is applied:
 * a keep-alive connection picks up the new configuration at its next request.
 */
import type { ir } from '@switchyard/api';
import type { Cluster } from '../upstream/cluster.ts';
import type { CidrMatcher } from './cidr.ts';

export interface ListenerRuntime {
  readonly config: ir.Listener;
  readonly cluster: Cluster | null;
  /** X-Forwarded-For: header name and the networks exempted, from the Frontend or else the Backend. */
  readonly forwardFor: { header: string; except: CidrMatcher | null } | null;
  /** The 32-bit hash of a request's balancing key, or null when the algorithm does not hash. */
  readonly keyHash: ((source: KeySource) => number | undefined) | null;
}

export interface KeySource {
  readonly src: string;
  readonly target: string;
  header(nameLower: string): string | undefined;
}

/** A listening socket's live state; outlives snapshots while its address, port and mode stay. */
export interface ListenerSlot {
  runtime: ListenerRuntime;
  /** Set when the listener was removed: sessions finish their current request, then close. */
  draining: boolean;
  /** Open sessions; a session removes itself through `closed` when its connection ends. */
  readonly sessions: Set<Session>;
  closed(session: Session): void;
}

export interface Session {
  /** Closes the connection now if it is between requests; otherwise after the current one. */
  drain(): void;
}
