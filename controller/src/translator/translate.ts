/**
 * The translator: raw Switchyard objects in, one snapshot and one result per object out.
 *
 * Pure and deterministic (no clock, random, env or I/O; output sorted), so the same input always
 * yields the same snapshot and golden files can pin it. A bad object becomes a condition and is
 * left out; everything else still compiles (user errors are local).
 */
import { API_VERSION, BackendSchema, ConditionType, FrontendSchema, GROUP, HealthPolicySchema, Reason } from '@switchyard/api';
import type { BackendSpec, FrontendSpec, HealthPolicySpec, ir } from '@switchyard/api';
import type { z } from 'zod';
import { compileBackend } from './backend.ts';
import type { HealthPolicyLookup } from './backend.ts';
import { issuesToFieldErrors, suggest } from './field-errors.ts';
import type { BackendLookup } from './backend-ref.ts';
import { buildListeners, checkFrontend, crossConflicts, resolveDefaultBackend } from './frontend.ts';
import type { ClaimedBind } from './frontend.ts';
import { compileFrontendRules } from './frontend-rules.ts';
import { compileHealthPolicy } from './health-policy.ts';
import { compareStrings, conflicted, invalid } from './problems.ts';
import type { Problem } from './problems.ts';
import type { ResourceResult, ResultCondition, TranslateInput, TranslateResult } from './types.ts';

export { formatFieldPath } from './field-errors.ts';
export type * from './types.ts';

const SCHEMAS = { Backend: BackendSchema, Frontend: FrontendSchema, HealthPolicy: HealthPolicySchema } as const;
type Kind = keyof typeof SCHEMAS;
const KINDS = (Object.keys(SCHEMAS) as Kind[]).sort(compareStrings);

export interface Entry {
  index: number;
  kind: string;
  namespace: string;
  name: string;
  generation: number | null;
  /** metadata.creationTimestamp (RFC 3339, set by an API server); null standalone. */
  created: string | null;
  source: string | null;
  /** Problems that keep the object out (Accepted=False). */
  problems: Problem[];
  /** Unresolved references (ResolvedRefs=False). */
  refProblems: Problem[];
  /** False when the object never got as far as resolving references (it failed the schema). */
  refsChecked: boolean;
  /** The validated object (defaults applied), when it passed the schema. */
  spec: unknown;
}

export type Typed<S> = Entry & { spec: S };

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function compareEntries(a: Entry, b: Entry): number {
  return compareStrings(a.kind, b.kind) || compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name) || a.index - b.index;
}

/** Oldest first; objects without a creationTimestamp (standalone) after those with one, stable otherwise. */
function compareAge(a: Entry, b: Entry): number {
  if (a.created === b.created) return 0;
  if (a.created === null) return 1;
  if (b.created === null) return -1;
  return Date.parse(a.created) - Date.parse(b.created) || compareStrings(a.created, b.created);
}

function isSwitchyard(apiVersion: unknown): apiVersion is string {
  return typeof apiVersion === 'string' && (apiVersion === GROUP || apiVersion.startsWith(`${GROUP}/`));
}

/** Reads identity from the raw object, checks version, kind and duplicates, and validates the schema. */
function admit(object: Record<string, unknown>, source: string | null, index: number, seen: Map<string, Entry>): Entry {
  const meta = isRecord(object.metadata) ? object.metadata : {};
  const entry: Entry = {
    index,
    kind: nonEmptyString(object.kind) ?? '<unknown>',
    namespace: nonEmptyString(meta.namespace) ?? 'default',
    name: nonEmptyString(meta.name) ?? '<unnamed>',
    generation: typeof meta.generation === 'number' && Number.isInteger(meta.generation) ? meta.generation : null,
    created: nonEmptyString(meta.creationTimestamp) ?? null,
    source,
    problems: [],
    refProblems: [],
    refsChecked: false,
    spec: undefined,
  };
  if (object.apiVersion !== API_VERSION) {
    entry.problems.push(invalid('apiVersion', `unsupported version ${JSON.stringify(object.apiVersion)}; expected ${API_VERSION}`));
    return entry;
  }
  if (!(KINDS as string[]).includes(entry.kind)) {
    if (entry.kind === '<unknown>') {
      entry.problems.push(invalid('kind', `is required; expected one of ${KINDS.join(', ')}`));
    } else {
      const hint = suggest(entry.kind, KINDS);
      entry.problems.push(invalid('kind', `unknown kind "${entry.kind}"; expected one of ${KINDS.join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}`));
    }
    return entry;
  }
  if (entry.name !== '<unnamed>') {
    const key = `${entry.kind}/${entry.namespace}/${entry.name}`;
    const first = seen.get(key);
    if (first) {
      const where = first.source ? ` (${first.source})` : '';
      entry.problems.push(conflicted('metadata.name', `duplicate ${entry.kind} ${entry.namespace}/${entry.name}; the first one${where} is used`));
      return entry;
    }
    seen.set(key, entry);
  }
  const schema: z.ZodType = SCHEMAS[entry.kind as Kind];
  const parsed = schema.safeParse(object, { reportInput: true });
  if (!parsed.success) {
    for (const e of issuesToFieldErrors(parsed.error.issues, schema, object)) entry.problems.push(invalid(e.path, e.message));
    return entry;
  }
  entry.spec = (parsed.data as { spec: unknown }).spec;
  return entry;
}

function summary(problems: readonly Problem[]): string {
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `${first.path ? `${first.path}: ` : ''}${first.message}${more}`;
}

function conditionsOf(entry: Entry): ResultCondition[] {
  const acceptedOk = entry.problems.length === 0;
  const accepted: ResultCondition = acceptedOk
    ? { type: ConditionType.Accepted, status: 'True', reason: Reason.Accepted, message: 'valid' }
    : { type: ConditionType.Accepted, status: 'False', reason: entry.problems[0]!.reason, message: summary(entry.problems) };
  let resolved: ResultCondition;
  if (!entry.refsChecked) {
    resolved = {
      type: ConditionType.ResolvedRefs,
      status: 'Unknown',
      reason: entry.problems[0]?.reason ?? Reason.Invalid,
      message: 'references not checked: the object is not accepted',
    };
  } else if (entry.refProblems.length > 0) {
    let consequence = '';
    if (acceptedOk && entry.kind === 'Backend') consequence = '; the Backend is not served until its references resolve';
    if (acceptedOk && entry.kind === 'Frontend') {
      const noDefault = entry.refProblems.some((p) => p.path === 'spec.defaultBackend.name');
      const skipped = entry.refProblems.some((p) => p.path.startsWith('spec.useBackends['));
      if (noDefault) consequence += '; listening without a default backend (HTTP answers 503, TCP connections are closed)';
      if (skipped) consequence += '; the useBackends rules naming an unusable Backend are skipped';
    }
    resolved = {
      type: ConditionType.ResolvedRefs,
      status: 'False',
      reason: entry.refProblems[0]!.reason,
      message: summary(entry.refProblems) + consequence,
    };
  } else {
    resolved = { type: ConditionType.ResolvedRefs, status: 'True', reason: Reason.ResolvedRefs, message: 'all references resolved' };
  }
  return [accepted, resolved];
}

/**
 * A Backend that passed the schema, as it was before compilation: what `incremental.ts` needs to
 * compile it again against other endpoints without redoing the rest.
 */
export interface BackendSeed {
  /** A copy taken before compilation; never mutated. */
  readonly entry: Readonly<Typed<BackendSpec>>;
  readonly healthPolicy: (name: string) => HealthPolicyLookup;
  /** Position of its result in `result.results`. */
  resultIndex: number;
}

/** A translation and what an incremental rebuild needs from it. */
export interface TranslationState {
  result: TranslateResult;
  /** Every Backend that passed the schema and was compiled, in compilation order. */
  backends: readonly BackendSeed[];
}

/**
 * Compiles one Backend entry, recording its problems on it; the cluster and its stick table, or
 * null when it is left out.
 */
export function compileBackendEntry(
  e: Typed<BackendSpec>,
  endpoints: TranslateInput['endpoints'],
  healthPolicy: (name: string) => HealthPolicyLookup,
): { cluster: ir.Cluster; stickTable: ir.StickTable | null } | null {
  const compiled = compileBackend(e.spec, { namespace: e.namespace, name: e.name, endpoints, healthPolicy });
  e.problems.push(...compiled.problems);
  e.refProblems.push(...compiled.refProblems);
  e.refsChecked = true;
  return compiled.cluster ? { cluster: compiled.cluster, stickTable: compiled.stickTable } : null;
}

export function resultOf(e: Entry): ResourceResult {
  return {
    kind: e.kind,
    namespace: e.namespace,
    name: e.name,
    generation: e.generation,
    source: e.source,
    conditions: conditionsOf(e),
    errors: [...e.problems, ...e.refProblems].map((p) => ({ path: p.path, message: p.message })),
  };
}

/** `translate`, also returning what `retranslate` (incremental.ts) needs. */
export function translateWithState(input: TranslateInput): TranslationState {
  const entries: Entry[] = [];
  const seen = new Map<string, Entry>();
  input.objects.forEach((raw, index) => {
    const object = raw.object;
    // Anything that is not ours (a Service, a ConfigMap, a stray scalar) is not our business.
    if (!isRecord(object) || !isSwitchyard(object.apiVersion)) return;
    entries.push(admit(object, raw.source, index, seen));
  });
  entries.sort(compareEntries);

  // Only the first object of each kind/namespace/name is referable; duplicates were rejected.
  const valid = <S>(kind: Kind): Typed<S>[] => entries.filter((e): e is Typed<S> => e.kind === kind && e.spec !== undefined);
  const byKey = new Map<string, Entry>([...seen.values()].map((e) => [`${e.kind}/${e.namespace}/${e.name}`, e]));

  // HealthPolicies.
  const checks = new Map<string, ir.HealthCheck>();
  for (const e of valid<HealthPolicySpec>('HealthPolicy')) {
    const compiled = compileHealthPolicy(`${e.namespace}/${e.name}`, e.spec);
    e.problems.push(...compiled.problems);
    e.refsChecked = true;
    if (compiled.check) checks.set(`${e.namespace}/${e.name}`, compiled.check);
  }

  // Backends.
  const clusters: ir.Cluster[] = [];
  const stickTables: ir.StickTable[] = [];
  const backends: BackendSeed[] = [];
  for (const e of valid<BackendSpec>('Backend')) {
    const healthPolicy = (name: string): HealthPolicyLookup => {
      const check = checks.get(`${e.namespace}/${name}`);
      if (check) return { state: 'ok', check };
      return byKey.has(`HealthPolicy/${e.namespace}/${name}`) ? { state: 'not-accepted' } : { state: 'missing' };
    };
    backends.push({ entry: { ...e, problems: [...e.problems], refProblems: [...e.refProblems] }, healthPolicy, resultIndex: -1 });
    const compiled = compileBackendEntry(e, input.endpoints, healthPolicy);
    if (compiled) clusters.push(compiled.cluster);
    if (compiled?.stickTable) stickTables.push(compiled.stickTable);
  }
  const clusterByName = new Map(clusters.map((c) => [c.name, c]));

  // Frontends: the oldest keeps a contested address and port (creationTimestamp, then
  // namespace/name, as Gateway API resolves conflicts), so applying a clashing Frontend never
  // takes a port away from one that is serving.
  const listeners: ir.Listener[] = [];
  const claimed: ClaimedBind[] = [];
  for (const e of valid<FrontendSpec>('Frontend').sort(compareAge)) {
    e.problems.push(...checkFrontend(e.spec));
    // defaultBackend and useBackends resolve alike: a Backend that is missing, not served or of
    // the other mode leaves that reference out, and the Frontend keeps working.
    const lookup = (name: string): BackendLookup => {
      const c = clusterByName.get(`${e.namespace}/${name}`);
      if (c) return { state: 'ok', cluster: c.name, mode: c.mode };
      const backend = byKey.get(`Backend/${e.namespace}/${name}`);
      if (!backend) return { state: 'missing' };
      return { state: 'not-served', why: backend.problems.length > 0 ? 'is not accepted' : 'has unresolved references and is not served' };
    };
    const { cluster, refProblems } = resolveDefaultBackend(e.spec, e.namespace, lookup);
    const traffic = compileFrontendRules(e.spec, e.namespace, e.name, lookup);
    e.problems.push(...traffic.problems);
    e.refProblems.push(...refProblems, ...traffic.refProblems);
    e.refsChecked = true;
    if (e.problems.length > 0) continue;
    e.problems.push(...crossConflicts(e.spec, claimed));
    if (e.problems.length > 0) continue;
    e.spec.binds.forEach((b, index) => claimed.push({ frontend: `${e.namespace}/${e.name}`, index, address: b.address, port: b.port }));
    listeners.push(...buildListeners(e.namespace, e.name, e.spec, cluster, traffic.rules));
    if (traffic.stickTable) stickTables.push(traffic.stickTable);
  }

  listeners.sort((a, b) => compareStrings(a.name, b.name));
  clusters.sort((a, b) => compareStrings(a.name, b.name));
  stickTables.sort((a, b) => compareStrings(a.name, b.name));
  const results: ResourceResult[] = entries.map(resultOf);
  const positions = new Map(entries.map((e, i) => [e.index, i]));
  for (const seed of backends) seed.resultIndex = positions.get(seed.entry.index)!;
  return { result: { snapshot: { listeners, clusters, stickTables }, results }, backends };
}

export function translate(input: TranslateInput): TranslateResult {
  return translateWithState(input).result;
}
