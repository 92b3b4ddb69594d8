/** HealthPolicy -> ir.HealthCheck (without the policy name, which the caller knows). */
import type { HealthPolicySpec, ir } from '@switchyard/api';
import { invalid, positiveDuration, unsupported } from './problems.ts';
import type { Problem } from './problems.ts';
import { unsupportedHealthPolicyFields } from './unsupported.ts';

export interface CompiledHealthPolicy {
  check: ir.HealthCheck | null;
  problems: Problem[];
}

type HttpSpec = NonNullable<HealthPolicySpec['http']>;

function httpProbe(http: HttpSpec, problems: Problem[]): ir.Probe {
  const expect = http.expect;
  let statusRange: [number, number] | null = null;
  if (expect?.statusRange !== undefined) {
    const [lo, hi] = expect.statusRange.split('-').map(Number) as [number, number];
    if (lo > hi) problems.push(invalid('spec.http.expect.statusRange', `the low status must not exceed the high one, got ${JSON.stringify(expect.statusRange)}`));
    statusRange = [lo, hi];
  }
  if (expect?.status !== undefined && expect.statusRange !== undefined) {
    problems.push(invalid('spec.http.expect.statusRange', 'set either status or statusRange, not both'));
  }
  if (expect?.status !== undefined && expect.status.length === 0) {
    problems.push(invalid('spec.http.expect.status', 'must list at least one status (omit it to accept any 2xx or 3xx)'));
  }
  return {
    kind: 'http',
    method: http.method,
    path: http.path,
    version: http.version,
    host: http.host ?? null,
    headers: (http.headers ?? []).map((h) => ({ name: h.name, value: h.value })),
    expect: {
      status: expect?.status ? [...expect.status] : null,
      statusRange,
      bodyContains: expect?.bodyContains ?? null,
      header: expect?.header ? { name: expect.header.name, contains: expect.header.contains } : null,
    },
  };
}

function probe(spec: HealthPolicySpec, problems: Problem[]): ir.Probe {
  // The schema guarantees exactly one probe kind.
  if (spec.http) return httpProbe(spec.http, problems);
  if (spec.mysql) return { kind: 'mysql', user: spec.mysql.user };
  if (spec.pgsql) return { kind: 'pgsql', user: spec.pgsql.user };
  if (spec.redis) return { kind: 'redis' };
  return { kind: 'tcp', send: spec.tcp?.send ?? null, expect: spec.tcp?.expect ?? null };
}

export function compileHealthPolicy(policy: string, spec: HealthPolicySpec): CompiledHealthPolicy {
  const problems: Problem[] = [];
  const intervalMs = positiveDuration(spec.interval, 'spec.interval', problems);
  const orInterval = (value: string | undefined, path: string): number =>
    value === undefined ? intervalMs : positiveDuration(value, path, problems);
  const check: ir.HealthCheck = {
    policy,
    intervalMs,
    fastIntervalMs: orInterval(spec.fastInterval, 'spec.fastInterval'),
    downIntervalMs: orInterval(spec.downInterval, 'spec.downInterval'),
    timeoutMs: orInterval(spec.timeout, 'spec.timeout'),
    rise: spec.rise,
    fall: spec.fall,
    port: spec.port ?? null,
    probe: probe(spec, problems),
  };
  for (const path of unsupportedHealthPolicyFields(spec)) problems.push(unsupported(path));
  return { check: problems.length === 0 ? check : null, problems };
}
