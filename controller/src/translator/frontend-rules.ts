/**
 * A Frontend's traffic management -> ir.Rules (shared by its listeners) and its stick table:
 * named ACLs, http-request / http-response / tcp-request rules, use_backend choices and the access
 * log. Every condition, sample and log format is parsed here, once; a syntax error is reported
 * with its field path and column (`spec.httpRequest[1].if: column 3: unknown fetch ...`).
 */
import type { FrontendSpec, ir } from '@switchyard/api';
import { parseCondition } from './haproxy/condition.ts';
import type { NamedAcl } from './haproxy/condition.ts';
import { parseCriterion } from './haproxy/criterion.ts';
import type { ParsedCriterion } from './haproxy/criterion.ts';
import { parseLogFormat } from './haproxy/log-format.ts';
import { ParseError } from './haproxy/parse-error.ts';
import type { Phase } from './haproxy/phase.ts';
import { parseSampleField } from './haproxy/sample.ts';
import type { ParsedSample, SampleEnv } from './haproxy/sample.ts';
import { parseStoreEntry } from './haproxy/stick-store.ts';
import { splitWords } from './haproxy/words.ts';
import { resolveBackend } from './backend-ref.ts';
import type { BackendLookup } from './backend-ref.ts';
import { invalid } from './problems.ts';
import type { Problem } from './problems.ts';
import { buildStickTable, keyProblem } from './stick-table.ts';

type HttpRequestSpec = NonNullable<FrontendSpec['httpRequest']>[number];
type HttpResponseSpec = NonNullable<FrontendSpec['httpResponse']>[number];
type TcpRequestSpec = NonNullable<FrontendSpec['tcpRequest']>[number];
type TrackSpec = Extract<HttpRequestSpec | TcpRequestSpec, { key: string }>;
type Guard = { if?: string | undefined; unless?: string | undefined };

export interface CompiledFrontendRules {
  /** Null when the Frontend has no rules, or has problems. */
  rules: ir.Rules | null;
  /** `frontend:namespace/name`, or null without `spec.stickTable` (or with problems). */
  stickTable: ir.StickTable | null;
  problems: Problem[];
  /** useBackends entries whose Backend cannot be used: the rule is left out, the rest works. */
  refProblems: Problem[];
}

/** HAProxy's ACL name characters. */
const ACL_NAME_RE = /^[A-Za-z0-9_.:-]+$/;
/** RFC 9110 token: header names. */
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const TCP_FRONTEND: Phase = { allows: 'none', where: 'a Frontend in mode tcp' };

/** One Frontend's compilation: the environment its parsers share and the problems found. */
class FrontendRulesCompiler {
  readonly problems: Problem[] = [];
  readonly refProblems: Problem[] = [];
  readonly spec: FrontendSpec;
  readonly namespace: string;
  readonly table: ir.StickTable | null;
  readonly env: SampleEnv;
  readonly acls: Map<string, NamedAcl>;
  captures = 0;

  constructor(spec: FrontendSpec, namespace: string, name: string) {
    this.spec = spec;
    this.namespace = namespace;
    this.table = this.compileStickTable(`frontend:${namespace}/${name}`);
    this.env = {
      stick: this.table
        ? { kind: 'table', name: this.table.name, owner: name, store: new Set(this.table.store.map((d) => d.type)), storeField: 'spec.stickTable.store' }
        : { kind: 'none', why: 'needs spec.stickTable (this Frontend has none)' },
    };
    this.acls = this.compileAcls();
  }

  get http(): boolean {
    return this.spec.mode === 'http';
  }

  /** Runs a parser on one field; a ParseError becomes a problem at `path` with its column. */
  attempt<T>(path: string, parse: () => T): T | null {
    try {
      return parse();
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.problems.push(invalid(path, `column ${e.column}: ${e.message}`));
      return null;
    }
  }

  compileStickTable(name: string): ir.StickTable | null {
    const t = this.spec.stickTable;
    if (!t) return null;
    const store: ir.StickData[] = [];
    const seen = new Map<string, number>();
    (t.store ?? []).forEach((entry, i) => {
      const path = `spec.stickTable.store[${i}]`;
      for (const data of this.attempt(path, () => parseStoreEntry(entry)) ?? []) {
        const first = seen.get(data.type);
        if (first !== undefined) {
          this.problems.push(invalid(path, `${data.type} is already stored${first === i ? ' by this entry' : ` by spec.stickTable.store[${first}]`}`));
          continue;
        }
        seen.set(data.type, i);
        store.push(data);
      }
    });
    return buildStickTable(name, t, store, t.replicate, 'spec.stickTable', this.problems);
  }

  /** Named ACLs: several entries with one name are ORed, as several `acl` lines are in HAProxy. */
  compileAcls(): Map<string, NamedAcl> {
    const acls = new Map<string, { criteria: ParsedCriterion[]; paths: string[]; broken: boolean }>();
    (this.spec.acls ?? []).forEach((acl, i) => {
      const path = `spec.acls[${i}]`;
      let entry = acls.get(acl.name);
      if (!entry) acls.set(acl.name, (entry = { criteria: [], paths: [], broken: false }));
      entry.paths.push(path);
      if (!ACL_NAME_RE.test(acl.name) || acl.name === 'or') {
        const why = acl.name === 'or' ? '"or" separates alternatives in conditions' : 'may hold letters, digits and _ . : - only';
        this.problems.push(invalid(`${path}.name`, `ACL name ${JSON.stringify(acl.name)}: ${why}`));
        entry.broken = true;
      }
      const parsed = this.attempt(`${path}.criterion`, () => parseCriterion(acl.criterion, splitWords(acl.criterion), this.env));
      if (parsed) entry.criteria.push(parsed);
      else entry.broken = true;
    });
    return new Map([...acls].map(([name, a]) => [name, { criteria: a.criteria, defined: a.paths.join(', '), broken: a.broken }]));
  }

  /** The rule's condition, null without one; undefined when it has problems. */
  condition(rule: Guard, path: string, phase: Phase): ir.Condition | null | undefined {
    if (rule.if !== undefined && rule.unless !== undefined) {
      this.problems.push(invalid(`${path}.unless`, 'use either if or unless, not both'));
      return undefined;
    }
    const field = rule.if !== undefined ? 'if' : rule.unless !== undefined ? 'unless' : null;
    if (field === null) return null;
    const text = rule[field]!;
    return this.attempt(`${path}.${field}`, () => parseCondition(text, field === 'unless', { acls: this.acls, sample: this.env, phase })) ?? undefined;
  }

  sample(source: string, path: string, phase: Phase): ParsedSample | null {
    return this.attempt(path, () => parseSampleField(source, this.env, phase));
  }

  logFormat(source: string, path: string, phase: Phase): ir.LogFormat {
    return this.attempt(path, () => parseLogFormat(source, this.env, phase)) ?? [];
  }

  headerName(name: string, path: string): void {
    if (!TOKEN_RE.test(name)) this.problems.push(invalid(path, `must be an HTTP header name (letters, digits and !#$%&'*+.^_\`|~-), got ${JSON.stringify(name)}`));
  }

  trackSc(rule: TrackSpec, path: string, phase: Phase): Extract<ir.TcpRequestAction, { action: 'track-sc' }> {
    const counter = Number(rule.action.slice(-1)) as 0 | 1 | 2;
    const key = this.sample(rule.key, `${path}.key`, phase);
    if (!this.table) {
      this.problems.push(invalid(`${path}.action`, `${rule.action} needs spec.stickTable (this Frontend has none)`));
    } else if (key) {
      const problem = keyProblem(key.text, key.type, this.table.type);
      if (problem) this.problems.push(invalid(`${path}.key`, problem));
    }
    // Placeholders stand in for what failed: a Frontend with problems yields no rules at all.
    return { action: 'track-sc', counter, key: key?.sample ?? { fetch: '', args: [], converters: [] }, table: this.table?.name ?? '' };
  }

  redirect(rule: Extract<HttpRequestSpec, { action: 'redirect' }>, path: string, phase: Phase): Extract<ir.HttpRequestAction, { action: 'redirect' }> {
    const targets = (['scheme', 'location', 'prefix'] as const).filter((k) => rule[k] !== undefined);
    const type = targets[0] ?? 'location';
    if (targets.length !== 1) {
      const why = targets.length === 0 ? 'needs one of scheme, location or prefix' : `takes one of scheme, location or prefix, got ${targets.join(' and ')}`;
      this.problems.push(invalid(targets.length === 0 ? path : `${path}.${targets[1]}`, why));
    }
    const text = rule[type] ?? '';
    const value = this.logFormat(text, `${path}.${type}`, phase);
    if (targets.length === 1) {
      if (text.trim() === '') this.problems.push(invalid(`${path}.${type}`, 'must not be empty'));
      else if (type === 'scheme' && value.every((p) => p.kind === 'text') && !SCHEME_RE.test(text)) {
        this.problems.push(invalid(`${path}.${type}`, `must be a URL scheme such as https, got ${JSON.stringify(text)}`));
      }
    }
    return { action: 'redirect', type, value, code: rule.code };
  }

  httpRequest(rule: HttpRequestSpec, path: string): ir.Rule<ir.HttpRequestAction> | null {
    const phase: Phase = { allows: 'request', where: 'httpRequest rules' };
    const condition = this.condition(rule, path, phase);
    let action: ir.HttpRequestAction;
    switch (rule.action) {
      case 'set-header':
      case 'add-header':
        this.headerName(rule.name, `${path}.name`);
        action = { action: rule.action, name: rule.name, value: this.logFormat(rule.value, `${path}.value`, phase) };
        break;
      case 'del-header':
        this.headerName(rule.name, `${path}.name`);
        action = { action: 'del-header', name: rule.name };
        break;
      case 'deny':
        action = { action: 'deny', status: rule.status };
        break;
      case 'return':
        action = { action: 'return', status: rule.status, body: rule.body ?? null, contentType: rule.contentType ?? null };
        break;
      case 'redirect':
        action = this.redirect(rule, path, phase);
        break;
      case 'track-sc0':
      case 'track-sc1':
      case 'track-sc2':
        action = this.trackSc(rule, path, phase);
        break;
      case 'capture': {
        const sample = this.sample(rule.sample, `${path}.sample`, phase);
        action = { action: 'capture', sample: sample?.sample ?? { fetch: '', args: [], converters: [] }, length: rule.length, slot: this.captures++ };
        break;
      }
      case 'set-path':
        action = { action: 'set-path', value: this.logFormat(rule.value, `${path}.value`, phase) };
        break;
      case 'allow':
        action = { action: 'allow' };
        break;
    }
    return condition === undefined ? null : { ...action, condition };
  }

  httpResponse(rule: HttpResponseSpec, path: string): ir.Rule<ir.HttpResponseAction> | null {
    const phase: Phase = { allows: 'response', where: 'httpResponse rules', responseRules: true };
    const condition = this.condition(rule, path, phase);
    this.headerName(rule.name, `${path}.name`);
    const action: ir.HttpResponseAction =
      rule.action === 'del-header'
        ? { action: 'del-header', name: rule.name }
        : { action: rule.action, name: rule.name, value: this.logFormat(rule.value, `${path}.value`, phase) };
    return condition === undefined ? null : { ...action, condition };
  }

  tcpRequest(rule: TcpRequestSpec, path: string): ir.Rule<ir.TcpRequestAction> | null {
    const phase: Phase = this.http ? { allows: 'none', where: 'tcpRequest rules (they run before the HTTP request is parsed)' } : TCP_FRONTEND;
    const condition = this.condition(rule, path, phase);
    const action: ir.TcpRequestAction = rule.action === 'accept' || rule.action === 'reject' ? { action: rule.action } : this.trackSc(rule, path, phase);
    return condition === undefined ? null : { ...action, condition };
  }

  useBackends(lookup: (name: string) => BackendLookup): ir.Rules['useBackends'] {
    const phase: Phase = this.http ? { allows: 'request', where: 'useBackends conditions' } : TCP_FRONTEND;
    const out: ir.Rules['useBackends'] = [];
    (this.spec.useBackends ?? []).forEach((u, i) => {
      const path = `spec.useBackends[${i}]`;
      const condition = this.condition(u, path, phase);
      const found = resolveBackend(u.backend, `${path}.backend`, this.spec.mode, this.namespace, lookup);
      if (found.problem) this.refProblems.push(found.problem);
      else if (condition !== undefined) out.push({ cluster: found.cluster, condition });
    });
    return out;
  }

  compile(lookup: (name: string) => BackendLookup): ir.Rules {
    const spec = this.spec;
    const httpRequest: ir.Rules['httpRequest'] = [];
    const httpResponse: ir.Rules['httpResponse'] = [];
    if (!this.http) {
      for (const field of ['httpRequest', 'httpResponse'] as const) {
        if (spec[field]?.length) this.problems.push(invalid(`spec.${field}`, `${field} rules act on HTTP messages and need mode http; this Frontend is in mode tcp`));
      }
    } else {
      (spec.httpRequest ?? []).forEach((rule, i) => {
        const r = this.httpRequest(rule, `spec.httpRequest[${i}]`);
        if (r) httpRequest.push(r);
      });
      (spec.httpResponse ?? []).forEach((rule, i) => {
        const r = this.httpResponse(rule, `spec.httpResponse[${i}]`);
        if (r) httpResponse.push(r);
      });
    }
    const tcpRequest: ir.Rules['tcpRequest'] = [];
    (spec.tcpRequest ?? []).forEach((rule, i) => {
      const r = this.tcpRequest(rule, `spec.tcpRequest[${i}]`);
      if (r) tcpRequest.push(r);
    });
    const useBackends = this.useBackends(lookup);
    const logPhase: Phase = this.http ? { allows: 'response', where: 'the access log' } : TCP_FRONTEND;
    const log = spec.log ? this.logFormat(spec.log.format, 'spec.log.format', logPhase) : null;
    return { httpRequest, httpResponse, tcpRequest, useBackends, captures: this.captures, log };
  }
}

function hasRules(spec: FrontendSpec): boolean {
  const lists = [spec.acls, spec.httpRequest, spec.httpResponse, spec.tcpRequest, spec.useBackends];
  return lists.some((l) => l !== undefined && l.length > 0) || spec.log !== undefined;
}

/** Compiles the Frontend's rules; `lookup` resolves useBackends names as for defaultBackend. */
export function compileFrontendRules(spec: FrontendSpec, namespace: string, name: string, lookup: (name: string) => BackendLookup): CompiledFrontendRules {
  const compiler = new FrontendRulesCompiler(spec, namespace, name);
  const rules = hasRules(spec) ? compiler.compile(lookup) : null;
  const ok = compiler.problems.length === 0;
  return { rules: ok ? rules : null, stickTable: ok ? compiler.table : null, problems: compiler.problems, refProblems: compiler.refProblems };
}
