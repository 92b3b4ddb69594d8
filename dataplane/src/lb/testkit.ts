/**
 * Helpers for the lb unit tests (not used by production code): servers, a seeded PRNG, a
 * Balance with defaults, and take/drop that update `active` the way the pool does.
 */
import type { ir } from '@switchyard/api';
import type { Algorithm, LbServer } from './algorithm.ts';

export function server(id: number, weight = 1, maxConnections = 0, name = `s${id}`): LbServer {
  return { id, name, weight, maxConnections, active: 0 };
}

export function servers(weights: readonly number[], maxConnections = 0): LbServer[] {
  return weights.map((w, i) => server(i + 1, w, maxConnections));
}

/** mulberry32: a small deterministic PRNG returning [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function balance(overrides: Partial<ir.Balance> = {}): ir.Balance {
  return { algorithm: 'roundrobin', hashType: 'map-based', hashKey: null, uri: null, randomDraws: 2, ...overrides };
}

export function upAll(alg: Algorithm, list: readonly LbServer[]): void {
  for (const s of list) alg.onServerUp(s);
}

export function take(alg: Algorithm, s: LbServer): void {
  s.active++;
  alg.onTakeConn(s);
}

export function drop(alg: Algorithm, s: LbServer): void {
  s.active--;
  alg.onDropConn(s);
}

export function setWeight(alg: Algorithm, s: LbServer, weight: number): void {
  s.weight = weight;
  alg.onWeightChange(s);
}

/** Names of `n` consecutive picks (no take/drop). */
export function sequence(alg: Algorithm, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(alg.pick({})?.name ?? 'null');
  return out;
}

export function tally(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of names) counts[n] = (counts[n] ?? 0) + 1;
  return counts;
}

/** Longest run of the same name, counting the wrap from the end back to the start (cyclic). */
export function longestRun(names: readonly string[], name: string): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < names.length * 2; i++) {
    if (names[i % names.length] === name) {
      run++;
      if (run > best) best = run;
    } else {
      run = 0;
    }
  }
  return Math.min(best, names.length);
}
