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
  /** Stick tables sorted by name, referenced by name from rules, samples and clusters. */
  stickTables: StickTable[];
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
  /** The Frontend's rules, use_backend choices and access log; null when it has none. */
  rules: Rules | null;
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
  cookie: CookiePersistence | null;
  stick: StickPersistence | null;
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

// ---- traffic management: samples, conditions, rules, stick tables, persistence, logs ----------
//
// Everything below is parsed by the controller (HAProxy syntax in the resources) and arrives
// here as data: the data plane compiles it into closures once per snapshot and never parses a
// condition, sample or log format per request.

/**
 * A sample expression: a fetch with its arguments, then converters, e.g. `hdr(host),lower` is
 * `{ fetch: 'req.hdr', args: ['host'], converters: [{ name: 'lower', args: [] }] }`. Fetch names are
 * canonical (`cook` is stored as `req.cook`, `hdr` as `req.hdr`, `res.hdr`/`shdr` as `res.hdr`).
 * Arguments stay strings; the data plane's fetch table knows their types (already validated).
 * Stick-counter fetches name their table explicitly: `sc_http_req_rate(0)` keeps `['0']` (the
 * tracked entry carries its table) and `src_conn_cur` becomes `src_conn_cur(frontend:ns/name)`.
 */
export interface Sample {
  fetch: string;
  args: string[];
  converters: { name: string; args: string[] }[];
}

/** Integer comparison of an int-typed sample: `gt 100`, or a range `1:100` / `:100` / `1:`. */
export type IntPattern = { op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; value: number } | { op: 'range'; min: number | null; max: number | null };

/**
 * One ACL criterion: a sample, a match method and the patterns it is compared with; true when any
 * value of the sample matches any pattern. Derived keywords are normalised by the controller:
 * `path_beg -i /api` is `{ sample: path, method: 'beg', ignoreCase: true, patterns: ['/api'] }`.
 * `ip` patterns are addresses or CIDRs (validated); `reg` patterns are JavaScript-compatible regular
 * expressions (validated); `len` compares the length of a string sample with integer patterns, as
 * HAProxy's `-m len` does; `found` and `bool` take no patterns, the other methods at least one.
 *
 * Sample types per method, as the controller checks them: string methods and `len` take a string
 * sample; `ip` an address or a string to parse as one (`hdr_ip(x-real-ip)`: not an address, no
 * match); `int` an integer; `bool` a boolean or an integer (true when not 0); `found` anything.
 * With `ignoreCase`, string patterns arrive lowercased (compare with the sample lowercased), except
 * `reg`, whose pattern is kept and compiled with the `i` flag.
 */
export type Criterion =
  | { sample: Sample; method: 'str' | 'beg' | 'end' | 'sub' | 'reg' | 'dir' | 'dom'; ignoreCase: boolean; patterns: string[] }
  | { sample: Sample; method: 'ip'; ignoreCase: false; patterns: string[] }
  | { sample: Sample; method: 'int' | 'len'; ignoreCase: false; patterns: IntPattern[] }
  | { sample: Sample; method: 'found' | 'bool'; ignoreCase: false; patterns: [] };

/**
 * One operand of a condition: a named ACL (its criteria are ORed, as several `acl` lines of the
 * same name are in HAProxy) or an anonymous `{ ... }` ACL (one criterion), possibly negated (`!`).
 */
export interface ConditionTerm {
  negate: boolean;
  /** The ACL's name, or null for an anonymous ACL (then `criteria` has one element). */
  name: string | null;
  criteria: Criterion[];
}

/**
 * `if`/`unless` with HAProxy's precedence: terms side by side are ANDed, `||` separates
 * alternatives. `any` holds the alternatives, each a list of terms that must all hold; `unless`
 * negates the result.
 */
export interface Condition {
  unless: boolean;
  any: ConditionTerm[][];
}

/**
 * A log-format string (also used for header values, redirect targets and set-path): literal text,
 * `%var` variables (`%ci`, `%Tr`, `%ST`, `%hr`...) with their `%{+Q}` flags, and `%[sample]`.
 */
export type LogFormatPart =
  | { kind: 'text'; text: string }
  | { kind: 'var'; name: string; quote: boolean }
  | { kind: 'sample'; sample: Sample; quote: boolean };
export type LogFormat = LogFormatPart[];

/** What a rule does when its condition holds (or it has none). */
export type HttpRequestAction =
  | { action: 'set-header' | 'add-header'; name: string; value: LogFormat }
  | { action: 'del-header'; name: string }
  | { action: 'deny'; status: number }
  | { action: 'return'; status: number; body: string | null; contentType: string | null }
  | { action: 'redirect'; type: 'scheme' | 'location' | 'prefix'; value: LogFormat; code: 301 | 302 | 303 | 307 | 308 }
  | { action: 'track-sc'; counter: 0 | 1 | 2; key: Sample; table: string }
  | { action: 'capture'; sample: Sample; length: number; slot: number }
  | { action: 'set-path'; value: LogFormat }
  | { action: 'allow' };

export type HttpResponseAction =
  | { action: 'set-header' | 'add-header'; name: string; value: LogFormat }
  | { action: 'del-header'; name: string };

export type TcpRequestAction = { action: 'accept' } | { action: 'reject' } | { action: 'track-sc'; counter: 0 | 1 | 2; key: Sample; table: string };

/**
 * A rule: the action's fields plus the condition guarding it (null: always). Spelled as one flat
 * object type per action rather than an intersection, so the snapshot schema's compile-time type
 * lock (schema.ts) can compare the two exactly; it is the same type to use.
 */
export type Rule<A> = A extends unknown ? Flat<A & { condition: Condition | null }> : never;
type Flat<T> = { [K in keyof T]: T[K] };

/** A Frontend's rules, shared by all its listeners (one per bind). */
export interface Rules {
  httpRequest: Rule<HttpRequestAction>[];
  httpResponse: Rule<HttpResponseAction>[];
  tcpRequest: Rule<TcpRequestAction>[];
  /** use_backend: the first whose condition holds picks the cluster, else the listener's defaultCluster. */
  useBackends: { cluster: string; condition: Condition | null }[];
  /** How many `capture` slots requests have (`%hr` logs them, `{a|b}`). */
  captures: number;
  /** Access log, or null for none. */
  log: LogFormat | null;
}

/**
 * Data a stick table stores: a counter, or a rate over a sliding period (HAProxy's
 * `http_req_rate(10s)` is `{ type: 'http_req_rate', periodMs: 10000 }`).
 */
export type StickData =
  | { type: 'server_id' | 'conn_cur' | 'conn_cnt' | 'http_req_cnt' | 'http_err_cnt' | 'bytes_out_cnt' | 'gpc0' }
  | { type: 'conn_rate' | 'http_req_rate' | 'http_err_rate' | 'bytes_out_rate' | 'gpc0_rate'; periodMs: number };

export interface StickTable {
  /** `frontend:namespace/name` or `backend:namespace/name`; names the table between data planes too. */
  name: string;
  type: 'ip' | 'ipv6' | 'string' | 'integer';
  /** Longest string key kept, in bytes (HAProxy `len`, default 32); longer keys are truncated. */
  keyLength: number;
  /** Entries kept; the least recently used is evicted beyond it. */
  size: number;
  /** An entry not touched for this long is removed; null keeps it until evicted. */
  expireMs: number | null;
  /** Sorted by type. */
  store: StickData[];
  /** Share entries with the other data planes of the fleet. */
  replicate: boolean;
}

/** Cookie persistence (HAProxy `cookie NAME insert|rewrite|prefix ...`). */
export interface CookiePersistence {
  name: string;
  mode: 'insert' | 'rewrite' | 'prefix';
  indirect: boolean;
  nocache: boolean;
  maxIdleMs: number | null;
  maxLifeMs: number | null;
  secure: boolean;
  httpOnly: boolean;
}

/** Stick-table persistence (HAProxy `stick on` + `stick store-response`). */
export interface StickPersistence {
  /** Matched on each request, and stored with the chosen server (stick on = match + store-request). */
  on: Sample;
  /** Learnt from each response, e.g. `res.cook(JSESSIONID)`; null for none. */
  storeResponse: Sample | null;
  /** Name of a table of `Snapshot.stickTables` (always a table of this backend, storing server_id). */
  table: string;
}
