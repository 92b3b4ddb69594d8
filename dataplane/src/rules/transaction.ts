/**
 * CONTRACT between the sessions (proxy/http-session.ts, proxy/tcp-session.ts) and the compiled
 * rules (rules/*): what a rule, a sample fetch or an access log can see of a transaction. The
 * sessions implement these interfaces; the rules engine only reads them, and changes the request
 * and response heads through rules/head-edit.ts.
 */
import type { MessageHead } from '../http/message-head.ts';
import type { StickTableLookup, Trackers } from '../stick/types.ts';

export interface Transaction {
  /** Client address as the socket reports it (IPv4-mapped IPv6 possible, `::ffff:1.2.3.4`). */
  readonly src: string;
  readonly srcPort: number;
  /** Local address and port the client connected to. */
  readonly dst: string;
  readonly dstPort: number;
  /** `namespace/frontend`. */
  readonly frontend: string;
  /** TLS is not terminated yet: false and '' (ssl_fc, ssl_fc_sni). */
  readonly ssl: boolean;
  readonly sni: string;
  readonly trackers: Trackers;
  readonly tables: StickTableLookup;
}

export interface HttpTransaction extends Transaction {
  /** The request head; rules may rewrite it (set-header, set-path...). */
  readonly req: MessageHead;
  /** The response head while http-response rules and the access log run; null before. */
  readonly res: MessageHead | null;
  /** `capture` results by slot (ir.Rules.captures long), null when not captured. */
  readonly captures: (string | null)[];
}

/** What the request rules decided. */
export type RequestVerdict =
  /** Forward to this cluster (a use_backend match), or to the listener's default when null. */
  | { kind: 'forward'; cluster: string | null }
  /** Answer with this complete HTTP/1.1 response (deny, return, redirect) and close the connection. */
  | { kind: 'respond'; status: number; response: string };

export type TcpVerdict = 'accept' | 'reject';

/**
 * Everything an access log line can name besides fetches (HAProxy's log-format variables). Times
 * are milliseconds; -1 where HAProxy logs -1 (a phase never reached).
 */
export interface LogRecord {
  /** Accept date, epoch ms (`%t`, `%tr`, `%ts`...). */
  acceptedAt: number;
  /** %Th %Ti %TR %Tw %Tc %Tr %Ta %Tt; %Tq = Th+Ti+TR. */
  th: number;
  ti: number;
  tR: number;
  tw: number;
  tc: number;
  tr: number;
  ta: number;
  tt: number;
  /** %ST, %B (bytes to the client), %U (bytes from the client). */
  status: number;
  bytesOut: number;
  bytesIn: number;
  /** %b, %s ('<NOSRV>' when none), %f/%ft. */
  backend: string;
  server: string;
  /** %tsc: termination state, two or four characters as HAProxy (`--`, `CD`, `sC`, `PR`...). */
  termination: string;
  /** %ac %fc %bc %sc %rc and %sq %bq. */
  actconn: number;
  feconn: number;
  beconn: number;
  srvconn: number;
  retries: number;
  srvQueue: number;
  backendQueue: number;
  /** %HM %HU %HP %HQ %HV and %r come from the request head (kept as it arrived). */
  method: string;
  uri: string;
  version: string;
}
