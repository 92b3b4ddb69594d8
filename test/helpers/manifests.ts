/**
 * Manifest builders for integration tests. Documents are plain objects serialised as JSON, which
 * is valid YAML, so the harness's YAML path is exercised without hand-written indentation.
 */
import type { TestContext } from 'node:test';
import { startDataplane, type Harness, type HarnessOptions } from './dataplane-harness.ts';
import { closedPort, startHttpServer, startTcpServer, type FakeHttpOptions, type FakeHttpServer, type FakeTcpServer } from './fake-upstream.ts';

const API_VERSION = 'switchyard.dev/v1alpha1';

export type Spec = Record<string, unknown>;
export interface Manifest {
  apiVersion: string;
  kind: 'Backend' | 'Frontend' | 'HealthPolicy';
  metadata: { name: string };
  spec: Spec;
}

export function backend(name: string, spec: Spec): Manifest {
  return { apiVersion: API_VERSION, kind: 'Backend', metadata: { name }, spec };
}

export function frontend(name: string, spec: Spec): Manifest {
  return { apiVersion: API_VERSION, kind: 'Frontend', metadata: { name }, spec };
}

export function healthPolicy(name: string, spec: Spec): Manifest {
  return { apiVersion: API_VERSION, kind: 'HealthPolicy', metadata: { name }, spec };
}

/** A Frontend listening on 127.0.0.1:`port` with `backendName` as its default Backend. */
export function listener(name: string, port: number, backendName: string, extra: Spec = {}): Manifest {
  return frontend(name, { binds: [{ address: '127.0.0.1', port }], defaultBackend: { name: backendName }, ...extra });
}

/** A server entry on 127.0.0.1 for a fake upstream (or anything with a name and a port). */
export function server(upstream: { name: string; port: number }, extra: Spec = {}): Spec {
  return { name: upstream.name, address: '127.0.0.1', port: upstream.port, ...extra };
}

/** Multi-document YAML (each document as JSON). */
export function yaml(...docs: Manifest[]): string {
  return docs.map((d) => JSON.stringify(d)).join('\n---\n');
}

/** Starts the data plane with `docs` and closes it when the test ends. */
export async function startProxy(t: TestContext, docs: Manifest[], options: HarnessOptions = {}): Promise<Harness> {
  const harness = await startDataplane(yaml(...docs), options);
  t.after(() => harness.close());
  return harness;
}

/** Fake HTTP servers named as given, stopped when the test ends. */
export async function httpServers(t: TestContext, names: string[], options: FakeHttpOptions = {}): Promise<FakeHttpServer[]> {
  const servers = await Promise.all(names.map((n) => startHttpServer(n, options)));
  t.after(() => Promise.all(servers.map((s) => s.stop().catch(() => undefined))));
  return servers;
}

/** Fake TCP servers named as given, stopped when the test ends. */
export async function tcpServers(t: TestContext, names: string[]): Promise<FakeTcpServer[]> {
  const servers = await Promise.all(names.map((n) => startTcpServer(n)));
  t.after(() => Promise.all(servers.map((s) => s.stop().catch(() => undefined))));
  return servers;
}

/** A free port for a Frontend bind. */
export function freePort(): Promise<number> {
  return closedPort();
}

/** How many times each value occurs. */
export function tally(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
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
