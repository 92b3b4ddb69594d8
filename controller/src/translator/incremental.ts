/**
 * Incremental translation: the endpoint-churn fast path.
 *
 * `translate()` is whole-world. In a cluster, most changes are endpoints coming and going while
 * the Switchyard objects stay put; recompiling a thousand Backends because one Service scaled is
 * waste. `retranslate(previous, input)` returns exactly what `translate(input)` would, but when the
 * objects are the same as last time (the same `objects` array: callers treat inputs as immutable),
 * it recompiles only the Backends whose `serviceRef` names a Service whose endpoints changed, and
 * reuses everything else of the previous result: listeners, the other clusters and results, by
 * identity.
 *
 * Why that is exact: a Backend's endpoints affect only its own cluster and result, except when the
 * Backend starts or stops being served (its cluster appears or disappears), which changes the
 * Frontends that point at it (defaultBackend or useBackends) and the snapshot's stick tables.
 * That case, a change of objects, a first translation, or a switch between standalone (no
 * endpoints) and Kubernetes mode falls back to a full translation.
 *
 * Pure, like the rest of the translator.
 */
import type { ir } from '@switchyard/api';
import { compileBackendEntry, resultOf, translateWithState } from './translate.ts';
import type { BackendSeed, TranslationState } from './translate.ts';
import type { Endpoint, TranslateInput, TranslateResult } from './types.ts';

export interface TranslationStats {
  /** `full`: translated from scratch; `endpoints`: some Backends recompiled; `unchanged`: the previous result as is. */
  mode: 'full' | 'endpoints' | 'unchanged';
  /** Backends compiled to produce this result. */
  backendsCompiled: number;
}

/** A translation result plus what the next `retranslate` needs. Treat as immutable. */
export interface Translation {
  readonly input: TranslateInput;
  readonly result: TranslateResult;
  readonly stats: TranslationStats;
  readonly state: TranslationState;
  /** `namespace/service` -> the Backends whose serviceRef names it. */
  readonly byService: ReadonlyMap<string, readonly BackendSeed[]>;
}

function sameEndpoints(a: readonly Endpoint[] | undefined, b: readonly Endpoint[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.address !== y.address || x.port !== y.port || x.name !== y.name || x.servicePort !== y.servicePort) return false;
  }
  return true;
}

function full(input: TranslateInput): Translation {
  const state = translateWithState(input);
  const byService = new Map<string, BackendSeed[]>();
  for (const seed of state.backends) {
    const ref = seed.entry.spec.serviceRef;
    if (!ref) continue;
    const key = `${seed.entry.namespace}/${ref.name}`;
    const list = byService.get(key);
    if (list) list.push(seed);
    else byService.set(key, [seed]);
  }
  return { input, result: state.result, stats: { mode: 'full', backendsCompiled: state.backends.length }, state, byService };
}

/** The same result as `translate(input)`, reusing `previous` where only endpoints changed. */
export function retranslate(previous: Translation | null, input: TranslateInput): Translation {
  if (previous === null || input.objects !== previous.input.objects || !input.endpoints || !previous.input.endpoints) return full(input);
  const before = previous.input.endpoints;
  const after = input.endpoints;

  const touched: BackendSeed[] = [];
  if (before !== after) {
    for (const [service, seeds] of previous.byService) {
      if (!sameEndpoints(before.get(service), after.get(service))) touched.push(...seeds);
    }
  }
  if (touched.length === 0) return { ...previous, input, stats: { mode: 'unchanged', backendsCompiled: 0 } };

  const prev = previous.result;
  const clusters = [...prev.snapshot.clusters];
  const position = new Map(clusters.map((c, i) => [c.name, i]));
  const results = [...prev.results];
  for (const seed of touched) {
    const entry = { ...seed.entry, problems: [...seed.entry.problems], refProblems: [...seed.entry.refProblems] };
    // A Backend's stick table depends on its spec only, never on endpoints: the previous tables stay.
    const cluster: ir.Cluster | null = compileBackendEntry(entry, after, seed.healthPolicy)?.cluster ?? null;
    const at = position.get(`${entry.namespace}/${entry.name}`);
    // Served before and not now, or the reverse: the Frontends that point at it change too.
    if ((at === undefined) !== (cluster === null)) return full(input);
    if (cluster !== null) clusters[at!] = cluster;
    results[seed.resultIndex] = resultOf(entry);
  }
  const result: TranslateResult = { snapshot: { listeners: prev.snapshot.listeners, clusters, stickTables: prev.snapshot.stickTables }, results };
  return {
    input,
    result,
    stats: { mode: 'endpoints', backendsCompiled: touched.length },
    state: { result, backends: previous.state.backends },
    byService: previous.byService,
  };
}
