/**
 * The one interface every balancing algorithm implements (HAProxy's `struct lb_ops`).
 *
 * Algorithms are event driven: the runtime tells them when a server becomes usable or unusable,
 * when its effective weight changes and when a request is taken or released, so that `pick()` is
 * O(1) or O(log n) and never scans configuration. An algorithm only ever sees usable servers:
 * it starts empty and the runtime calls `onServerUp` for each server that may take traffic.
 * Backup servers are balanced by a separate instance, so an algorithm never needs to know.
 */
import type { BalanceAlgorithm } from '@switchyard/api';
import type { ir } from '@switchyard/api';

export interface LbServer {
  /** Position in the cluster's server list starting at 1 (HAProxy puid); stable order for `first`. */
  readonly id: number;
  readonly name: string;
  /** Effective weight 0-256 (0 takes no new traffic); changed by the runtime, then onWeightChange. */
  weight: number;
  /** Concurrent requests allowed; 0 means no limit. */
  readonly maxConnections: number;
  /** Requests in flight on this server, maintained by the pool before onTakeConn/onDropConn. */
  active: number;
}

export interface PickRequest {
  /**
   * 32-bit hash of the request's key for the hashing algorithms (source, uri, hdr, url_param).
   * Undefined when no key could be extracted: HAProxy then falls back to round robin.
   */
  hash?: number | undefined;
  /** A server that just failed for this request; chosen only when it is the sole candidate. */
  avoid?: LbServer | null | undefined;
}

export interface Algorithm {
  onServerUp(server: LbServer): void;
  onServerDown(server: LbServer): void;
  onWeightChange(server: LbServer): void;
  onTakeConn(server: LbServer): void;
  onDropConn(server: LbServer): void;
  /**
   * The server for the next request, or null when no server may take it now.
   * Non-hashing algorithms skip servers whose `active` has reached `maxConnections` and return
   * null when all are full (the request then waits in the backend queue). Hashing algorithms
   * return the key's server even when it is full (the request waits for that server), as HAProxy does.
   */
  pick(request: PickRequest): LbServer | null;
}

/** What the request must provide before an algorithm can pick (HAProxy BE_LB_NEED_*). */
export type AlgorithmNeeds = 'none' | 'addr' | 'http';

export interface AlgorithmOptions {
  balance: ir.Balance;
  /** Uniform [0, 1); injected so tests are deterministic. */
  random: () => number;
}

export interface AlgorithmFactory {
  readonly name: BalanceAlgorithm;
  readonly needs: AlgorithmNeeds;
  /** True for source, uri, hdr and url_param: the caller extracts a key and passes its hash. */
  readonly hashed: boolean;
  create(options: AlgorithmOptions): Algorithm;
}
