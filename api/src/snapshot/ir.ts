/**
 * The snapshot: everything a data plane needs, resolved and in milliseconds, with no references
 * left to chase. Produced by the controller's translator, consumed by the data plane's runtime
 * builder. Plain JSON (it crosses the control channel), sorted deterministically.
 * Import as a namespace: `import type * as ir from '@switchyard/api/ir'`.
 */
import type { BalanceAlgorithm } from '../resources/backend.ts';

export interface Snapshot {
  /** Listeners sorted by name. */
  listeners: Listener[];
  /** Clusters sorted by name. */
  clusters: Cluster[];
}

/** A Frontend bind: one listening socket. Frontends with several binds yield several listeners. */
export interface Listener {
  /** `namespace/frontend#index`. */
  name: string;
  /** `namespace/frontend`, for logs and metrics. */
  frontend: string;
  mode: 'http' | 'tcp';
  address: string;
  port: number;
  acceptProxy: boolean;
  maxConnections: number;
  timeouts: { clientMs: number; httpRequestMs: number; httpKeepAliveMs: number; tunnelMs: number | null };
  forwardFor: ForwardFor | null;
  /** Cluster name (`namespace/backend`) or null: HTTP answers 503, TCP closes. */
  defaultCluster: string | null;
}

export interface ForwardFor {
  header: string;
  /** CIDR whose clients do not get the header. */
  except: string | null;
}

export interface Cluster {
  /** `namespace/backend`. */
  name: string;
  mode: 'http' | 'tcp';
  balance: Balance;
  servers: Server[];
  health: HealthCheck | null;
  timeouts: { connectMs: number; serverMs: number; queueMs: number; tunnelMs: number | null };
  retries: number;
  redispatch: boolean;
  allBackups: boolean;
  forwardFor: ForwardFor | null;
  httpReuse: 'never' | 'safe' | 'aggressive' | 'always';
}

export interface Balance {
  algorithm: BalanceAlgorithm;
  hashType: 'map-based' | 'consistent';
  /** Header name (hdr) or query parameter (url_param). */
  hashKey: string | null;
  uri: { depth: number | null; length: number | null; whole: boolean; pathOnly: boolean } | null;
  randomDraws: number;
}

export interface Server {
  /** Unique within the cluster; sorted in declaration order (first and backups depend on it). */
  name: string;
  /** Position in the cluster's server list starting at 1 (HAProxy's puid). */
  id: number;
  address: string;
  port: number;
  weight: number;
  maxConnections: number;
  backup: boolean;
  disabled: boolean;
  slowStartMs: number | null;
  cookie: string | null;
  proxyProtocol: 'v1' | 'v2' | null;
}

export interface HealthCheck {
  /** `namespace/healthpolicy`. */
  policy: string;
  intervalMs: number;
  fastIntervalMs: number;
  downIntervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  port: number | null;
  probe: Probe;
}

export type Probe =
  | { kind: 'tcp'; send: string | null; expect: string | null }
  | {
      kind: 'http';
      method: string;
      path: string;
      version: 'HTTP/1.0' | 'HTTP/1.1';
      host: string | null;
      headers: { name: string; value: string }[];
      expect: {
        /** Accepted statuses; null with statusRange null means 2xx and 3xx. */
        status: number[] | null;
        statusRange: [number, number] | null;
        bodyContains: string | null;
        header: { name: string; contains: string } | null;
      };
    }
  | { kind: 'mysql'; user: string }
  | { kind: 'pgsql'; user: string }
  | { kind: 'redis' };
