/**
 * The timing and counters of one HTTP request for its access log line (HAProxy's timers), kept
 * only by sessions of a Frontend that logs. Durations come from the monotonic clock; the accept
 * date is wall time. As in HAProxy, a keep-alive request's "accept" is the end of the previous one,
 * so %Ti is the idle time before it and %Tt covers the idle time too.
 */
import type { MessageHead } from '../http/message-head.ts';
import type { LogRecord, Transaction } from '../rules/transaction.ts';
import type { Cluster } from '../upstream/cluster.ts';
import type { ServerState } from '../upstream/server-state.ts';

const elapsed = (from: number, to: number): number => (from < 0 || to < 0 ? -1 : Math.round(to - from));

export class TransactionLog {
  private acceptedAt = Date.now();
  private idleSince = performance.now();
  private startedAt = -1;
  private headAt = -1;
  private queueAt = -1;
  private connectAt = -1;
  private sentAt = -1;
  private responseAt = -1;
  retries = 0;
  private method = '';
  private uri = '';
  private version = '';
  private bytesIn = 0;

  /** The first byte of a request arrived. */
  requestStarted(): void {
    this.startedAt = performance.now();
  }

  /** The head was parsed (`req` as it arrived), or could not be (null: logged as <BADREQ>). */
  requestLine(req: MessageHead | null): void {
    this.headAt = performance.now();
    if (this.startedAt < 0) this.startedAt = this.headAt;
    this.method = req?.method ?? '';
    this.uri = req?.target ?? '';
    this.version = req === null ? '' : `HTTP/1.${req.minor}`;
    this.bytesIn = req?.text.length ?? 0;
  }

  queueStarted(): void {
    if (this.queueAt < 0) this.queueAt = performance.now();
  }

  connectStarted(): void {
    this.connectAt = performance.now();
  }

  requestSent(): void {
    this.sentAt = performance.now();
  }

  responseReceived(): void {
    this.responseAt = performance.now();
  }

  /** The record of the request that just ended; the log is then ready for the next request. */
  finish(tx: Transaction & { readonly req: MessageHead }, termination: string, status: number, bytesOut: number, cluster: Cluster | null, server: ServerState | null): LogRecord {
    const end = performance.now();
    let beconn = 0;
    if (cluster !== null) for (const s of cluster.servers) beconn += s.active;
    const record: LogRecord = {
      acceptedAt: this.acceptedAt,
      th: 0,
      ti: elapsed(this.idleSince, this.startedAt),
      tR: elapsed(this.startedAt, this.headAt),
      tw: elapsed(this.queueAt, this.connectAt),
      tc: elapsed(this.connectAt, this.sentAt),
      tr: elapsed(this.sentAt, this.responseAt),
      ta: elapsed(this.startedAt, end),
      tt: elapsed(this.idleSince, end),
      status,
      bytesOut,
      bytesIn: this.bytesIn + (tx.req.contentLength > 0 ? tx.req.contentLength : 0),
      backend: cluster?.name ?? tx.frontend,
      server: server?.name ?? '<NOSRV>',
      termination,
      actconn: 0,
      feconn: 0,
      beconn,
      srvconn: server?.active ?? 0,
      retries: this.retries,
      srvQueue: 0,
      backendQueue: cluster?.queueLength ?? 0,
      method: this.method,
      uri: this.uri,
      version: this.version,
    };
    this.acceptedAt = Date.now();
    this.idleSince = end;
    this.startedAt = this.headAt = this.queueAt = this.connectAt = this.sentAt = this.responseAt = -1;
    this.retries = 0;
    return record;
  }
}
