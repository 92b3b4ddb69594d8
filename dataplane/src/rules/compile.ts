/**
 * The rules engine's entry point: compiles a Frontend's ir.Rules into closures once per snapshot
 * (an unknown fetch, converter, variable, table or cluster throws, and the snapshot is NACKed),
 * then runs them per request without parsing anything.
 *
 * Semantics follow HAProxy's http-request/http-response/tcp-request rules:
 * - rules run in order, each when its condition holds; `allow` stops the http-request rules (then
 *   use_backend decides), `deny`, `return` and `redirect` answer the request and stop everything;
 * - header and path rewrites go through http/head-edit.ts. An edit the head cannot take (a value
 *   that would leave it malformed) is skipped and the request goes on unchanged: HAProxy ignores
 *   failed rewrites with `strict-mode off` (its `on`, the default since 2.2, answers 500 instead;
 *   we keep the request, whose head stays valid either way);
 * - `track-sc<n>` tracks the key's entry in slot n unless the slot already tracks one (HAProxy:
 *   only the first tracking rule of a slot applies), and counts the current request for an entry
 *   it starts tracking. See onHttpRequest for who counts what;
 * - use_backend: the first whose condition holds names the cluster, else the listener's default.
 */
import type { ir } from '@switchyard/api';
import { addHeader, delHeader, setHeader, setTarget } from '../http/head-edit.ts';
import type { StickTableHandle, StickTableLookup } from '../stick/types.ts';
import { compileCondition, type Predicate } from './condition.ts';
import type { FetchContext } from './fetches.ts';
import { compileLogFormat, type LogRenderer } from './log-format.ts';
import { pathAndQuery, replacePath } from './request-target.ts';
import { denyResponse, redirectHead, redirectResponse, returnResponse } from './responses.ts';
import { compileSample } from './sample.ts';
import type { HttpTransaction, LogRecord, RequestVerdict, TcpVerdict, Transaction } from './transaction.ts';
import { toText } from './values.ts';

export interface CompiledRules {
  /**
   * http-request rules in order, then use_backend. Mutates tx.req through head-edit.
   *
   * Counting requests in stick tables: the session calls `tx.trackers.httpRequest()` once per
   * request BEFORE this (HAProxy counts a request for the entries already tracked when it
   * arrives: tcp-request tracking, or an earlier request of the connection when the session keeps
   * trackers across keep-alive requests); a `track-sc` rule counts the current request for the
   * entry it starts tracking (HAProxy http_req_get_intercept_rule). Each request is then counted
   * once per entry, before the rules after the `track-sc` read it, so
   * `{ sc_http_req_rate(0) gt 100 }` denies exactly the 101st request of the period.
   *
   * A `respond` verdict's response is a complete HTTP/1.1 response as a latin1 string (write it
   * with the 'latin1' encoding, then close). Verdicts may be shared between requests: read them,
   * never change them.
   */
  onHttpRequest(tx: HttpTransaction): RequestVerdict;
  /** http-response rules in order; mutates tx.res (nothing happens while it is null). */
  onHttpResponse(tx: HttpTransaction): void;
  /** tcp-request content rules in order; 'accept' when none decides. */
  onTcpRequest(tx: Transaction): TcpVerdict;
  /** use_backend alone, for tcp mode (HTTP requests get it from onHttpRequest): the cluster picked, or null for the default. */
  useBackend(tx: Transaction): string | null;
  /** The access log line builder, or null. */
  readonly log: ((tx: Transaction, record: LogRecord) => string) | null;
  /** Capture slots a request needs: tx.captures must be this long, filled with null, for each request. */
  readonly captures: number;
}

export interface RulesContext {
  /** The snapshot's stick tables, by ir.StickTable.name. */
  readonly tables: StickTableLookup;
  /** The snapshot's cluster names, for use_backend. */
  readonly clusters: ReadonlySet<string>;
}

/** What an http-request rule's action leads to: go on, stop the rules (allow), or answer. */
type Outcome = RequestVerdict | 'allow' | null;

interface Compiled<A> {
  readonly when: Predicate | null;
  readonly run: A;
}

const FORWARD_DEFAULT: RequestVerdict = { kind: 'forward', cluster: null };

function located<T>(where: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
  }
}

function tableOf(tables: StickTableLookup, name: string): StickTableHandle {
  const table = tables.get(name);
  if (table === undefined) throw new Error(`unknown stick table '${name}'`);
  return table;
}

/** `track-sc<n>`: the key is only evaluated when the slot is free, as HAProxy does. */
function compileTrack(rule: { counter: 0 | 1 | 2; key: ir.Sample; table: string }, context: FetchContext & RulesContext, countRequest: boolean): (tx: Transaction) => void {
  const table = tableOf(context.tables, rule.table);
  const key = compileSample(rule.key, context, countRequest ? 'http-request' : 'tcp-request');
  const counter = rule.counter;
  return (tx: Transaction): void => {
    const trackers = tx.trackers;
    if (trackers.get(counter) !== null) return;
    const k = key.value(tx);
    if (k === null) return;
    trackers.track(counter, table, toText(k));
    if (countRequest) trackers.get(counter)?.httpRequest();
  };
}

function compileRequestAction(rule: ir.HttpRequestAction, context: FetchContext & RulesContext, captures: number): (tx: HttpTransaction) => Outcome {
  switch (rule.action) {
    case 'set-header':
    case 'add-header': {
      const render = compileLogFormat(rule.value, context, 'value', 'http-request');
      const name = rule.name;
      const edit = rule.action === 'set-header' ? setHeader : addHeader;
      return (tx) => {
        edit(tx.req, name, render(tx, null));
        return null;
      };
    }
    case 'del-header': {
      const name = rule.name;
      return (tx) => {
        delHeader(tx.req, name);
        return null;
      };
    }
    case 'set-path': {
      const render = compileLogFormat(rule.value, context, 'value', 'http-request');
      return (tx) => {
        setTarget(tx.req, replacePath(tx.req.target, render(tx, null)));
        return null;
      };
    }
    case 'deny': {
      const verdict: RequestVerdict = { kind: 'respond', status: rule.status, response: denyResponse(rule.status) };
      return () => verdict;
    }
    case 'return': {
      const verdict: RequestVerdict = { kind: 'respond', status: rule.status, response: returnResponse(rule.status, rule.body, rule.contentType) };
      return () => verdict;
    }
    case 'redirect':
      return compileRedirect(rule, context);
    case 'track-sc': {
      const track = compileTrack(rule, context, true);
      return (tx) => {
        track(tx);
        return null;
      };
    }
    case 'capture': {
      if (!(rule.slot >= 0 && rule.slot < captures)) throw new Error(`capture slot ${rule.slot} is outside the ${captures} declared`);
      const sample = compileSample(rule.sample, context, 'http-request');
      const { slot, length } = rule;
      return (tx) => {
        const v = sample.value(tx);
        if (v !== null) {
          const text = toText(v);
          tx.captures[slot] = text.length > length ? text.slice(0, length) : text;
        }
        return null;
      };
    }
    case 'allow':
      return () => 'allow';
  }
}

/**
 * HAProxy http_apply_redirect_rule: `location` is the rendered value; `prefix` is the rendered
 * prefix followed by the original path and query (a prefix of exactly `/` adds nothing, so that a
 * self-redirection can be written); `scheme` is `<scheme>://<Host header as sent, port
 * included><path and query>`. A target without a path contributes `/`.
 */
function compileRedirect(rule: Extract<ir.HttpRequestAction, { action: 'redirect' }>, context: FetchContext): (tx: HttpTransaction) => Outcome {
  const head = redirectHead(rule.code);
  const code = rule.code;
  const isSlash = rule.value.length === 1 && rule.value[0]!.kind === 'text' && rule.value[0]!.text === '/';
  const render: LogRenderer = rule.type === 'prefix' && isSlash ? () => '' : compileLogFormat(rule.value, context, 'value', 'http-request');
  let location: (tx: HttpTransaction) => string;
  switch (rule.type) {
    case 'location':
      location = (tx) => render(tx, null);
      break;
    case 'prefix':
      location = (tx) => render(tx, null) + pathAndQuery(tx.req.target);
      break;
    case 'scheme':
      location = (tx) => `${render(tx, null)}://${tx.req.host}${pathAndQuery(tx.req.target)}`;
      break;
  }
  return (tx) => ({ kind: 'respond', status: code, response: redirectResponse(head, location(tx)) });
}

function compileResponseAction(rule: ir.HttpResponseAction, context: FetchContext): (tx: HttpTransaction) => void {
  switch (rule.action) {
    case 'set-header':
    case 'add-header': {
      const render = compileLogFormat(rule.value, context, 'value', 'http-response');
      const name = rule.name;
      const edit = rule.action === 'set-header' ? setHeader : addHeader;
      return (tx) => {
        if (tx.res !== null) edit(tx.res, name, render(tx, null));
      };
    }
    case 'del-header': {
      const name = rule.name;
      return (tx) => {
        if (tx.res !== null) delHeader(tx.res, name);
      };
    }
  }
}

function compileTcpAction(rule: ir.TcpRequestAction, context: FetchContext & RulesContext): (tx: Transaction) => TcpVerdict | null {
  switch (rule.action) {
    case 'accept':
      return () => 'accept';
    case 'reject':
      return () => 'reject';
    case 'track-sc': {
      const track = compileTrack(rule, context, false);
      return (tx) => {
        track(tx);
        return null;
      };
    }
  }
}

/** Compiles `rules[]` (each with its condition) into guarded actions, naming the rule on error. */
function compileList<R extends { condition: ir.Condition | null; action: string }, A>(
  list: readonly R[],
  label: string,
  context: FetchContext,
  phase: 'tcp-request' | 'http-request' | 'http-response',
  action: (rule: R) => A,
): Compiled<A>[] {
  return list.map((rule, i) =>
    located(`${label}[${i}] (${rule.action})`, () => ({
      when: rule.condition === null ? null : compileCondition(rule.condition, context, phase),
      run: action(rule),
    })),
  );
}

export function compileRules(rules: ir.Rules, context: RulesContext): CompiledRules {
  const ctx: FetchContext & RulesContext = { tables: context.tables, clusters: context.clusters };
  const captures = rules.captures;

  const request = compileList(rules.httpRequest, 'httpRequest', ctx, 'http-request', (rule) => compileRequestAction(rule, ctx, captures));
  const response = compileList(rules.httpResponse, 'httpResponse', ctx, 'http-response', (rule) => compileResponseAction(rule, ctx));
  const tcp = compileList(rules.tcpRequest, 'tcpRequest', ctx, 'tcp-request', (rule) => compileTcpAction(rule, ctx));
  const backends = rules.useBackends.map((use, i) =>
    located(`useBackends[${i}] (${use.cluster})`, () => {
      if (!context.clusters.has(use.cluster)) throw new Error(`unknown cluster '${use.cluster}'`);
      const verdict: RequestVerdict = { kind: 'forward', cluster: use.cluster };
      return { when: use.condition === null ? null : compileCondition(use.condition, ctx, 'http-request'), run: verdict };
    }),
  );
  const format = rules.log;
  const log = format === null ? null : located('log', () => compileLogFormat(format, ctx, 'log', 'log'));

  return {
    onHttpRequest(tx) {
      for (let i = 0; i < request.length; i++) {
        const rule = request[i]!;
        if (rule.when !== null && !rule.when(tx)) continue;
        const outcome = rule.run(tx);
        if (outcome === null) continue;
        if (outcome === 'allow') break;
        return outcome;
      }
      for (let i = 0; i < backends.length; i++) {
        const use = backends[i]!;
        if (use.when === null || use.when(tx)) return use.run;
      }
      return FORWARD_DEFAULT;
    },
    onHttpResponse(tx) {
      for (let i = 0; i < response.length; i++) {
        const rule = response[i]!;
        if (rule.when === null || rule.when(tx)) rule.run(tx);
      }
    },
    onTcpRequest(tx) {
      for (let i = 0; i < tcp.length; i++) {
        const rule = tcp[i]!;
        if (rule.when !== null && !rule.when(tx)) continue;
        const verdict = rule.run(tx);
        if (verdict !== null) return verdict;
      }
      return 'accept';
    },
    useBackend(tx) {
      for (let i = 0; i < backends.length; i++) {
        const use = backends[i]!;
        if (use.when === null || use.when(tx)) return use.run.kind === 'forward' ? use.run.cluster : null;
      }
      return null;
    },
    log,
    captures,
  };
}
