/**
 * What a session needs from its listener, swapped as one reference when a snapshot is applied:
 * a keep-alive connection picks up the new configuration at its next request.
 */
import type { ir } from '@switchyard/api';
import type { CompiledRules } from '../rules/compile.ts';
import type { StickTableLookup } from '../stick/types.ts';
import type { Cluster } from '../upstream/cluster.ts';
import type { CidrMatcher } from './cidr.ts';
import type { Listed, SessionList } from './session-list.ts';

export interface ForwardFor {
  header: string;
  /** The networks whose clients do not get the header. */
  except: CidrMatcher | null;
}

export interface ListenerRuntime {
  readonly config: ir.Listener;
  /** The default Backend's cluster (defaultCluster), or null. */
  readonly cluster: Cluster | null;
  /** Every cluster of the snapshot, by name: use_backend picks among them. */
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** The Frontend's X-Forwarded-For; when null, the chosen cluster's (Backend's) applies. */
  readonly forwardFor: ForwardFor | null;
  /** The Frontend's compiled rules, use_backend and log format; null when it has none (the fast path). */
  readonly rules: CompiledRules | null;
  readonly tables: StickTableLookup;
  /** Writes one access log line; null when the Frontend has no log format. */
  readonly accessLog: ((line: string) => void) | null;
}

/** A listening socket's live state; outlives snapshots while its address, port and mode stay. */
export interface ListenerSlot {
  runtime: ListenerRuntime;
  /** Set when the listener was removed: sessions finish their current request, then close. */
  draining: boolean;
  /** Open sessions; a session removes itself through `closed` when its connection ends. */
  readonly sessions: SessionList<Session>;
  closed(session: Session): void;
}

export interface Session extends Listed {
  /** Closes the connection now if it is between requests; otherwise after the current one. */
  drain(): void;
}
