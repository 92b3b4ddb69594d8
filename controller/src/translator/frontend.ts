/** Frontend -> ir.Listener (one per bind): checks, bind conflicts, the default Backend. Rules: frontend-rules.ts. */
import { parseDuration } from '@switchyard/api';
import type { FrontendSpec, ir } from '@switchyard/api';
import { resolveBackend } from './backend-ref.ts';
import type { BackendLookup } from './backend-ref.ts';
import { conflicted, invalid, positiveDuration, unsupported } from './problems.ts';
import type { Problem } from './problems.ts';
import { unsupportedFrontendFields } from './unsupported.ts';

/** A bind already taken by an accepted Frontend. */
export interface ClaimedBind {
  /** `namespace/name` of the Frontend. */
  frontend: string;
  index: number;
  address: string;
  port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

/** `[::1]` -> `::1`: the form sockets take. */
function stripBrackets(address: string): string {
  const a = address.trim();
  return a.startsWith('[') && a.endsWith(']') ? a.slice(1, -1) : a;
}

function normalizeAddress(address: string): string {
  return stripBrackets(address).toLowerCase();
}

/** Two binds overlap on the same port when the addresses are equal or either is a wildcard. */
export function bindsOverlap(a: { address: string; port: number }, b: { address: string; port: number }): boolean {
  if (a.port !== b.port) return false;
  const x = normalizeAddress(a.address);
  const y = normalizeAddress(b.address);
  return x === y || WILDCARDS.has(x) || WILDCARDS.has(y);
}

export function hostPort(address: string, port: number): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Checks beyond the schema, unsupported fields, and binds of this Frontend that overlap each other. */
export function checkFrontend(spec: FrontendSpec): Problem[] {
  const problems: Problem[] = [];
  if (spec.mode === 'tcp' && spec.forwardFor !== undefined) {
    problems.push(invalid('spec.forwardFor', 'adds an HTTP header and needs mode http; this Frontend is in mode tcp'));
  }
  positiveDuration(spec.timeouts.client, 'spec.timeouts.client', problems);
  positiveDuration(spec.timeouts.httpRequest, 'spec.timeouts.httpRequest', problems);
  if (spec.timeouts.httpKeepAlive !== undefined) positiveDuration(spec.timeouts.httpKeepAlive, 'spec.timeouts.httpKeepAlive', problems);
  if (spec.timeouts.tunnel !== undefined) positiveDuration(spec.timeouts.tunnel, 'spec.timeouts.tunnel', problems);
  for (const path of unsupportedFrontendFields(spec)) problems.push(unsupported(path));
  spec.binds.forEach((bind, j) => {
    const i = spec.binds.findIndex((other, k) => k < j && bindsOverlap(other, bind));
    if (i >= 0) {
      const other = spec.binds[i]!;
      problems.push(
        conflicted(`spec.binds[${j}].port`, `${hostPort(bind.address, bind.port)} overlaps ${hostPort(other.address, other.port)} of spec.binds[${i}] of this Frontend`),
      );
    }
  });
  return problems;
}

/** Binds that overlap a bind already claimed by another Frontend (which sorts earlier and wins). */
export function crossConflicts(spec: FrontendSpec, claimed: readonly ClaimedBind[]): Problem[] {
  const problems: Problem[] = [];
  spec.binds.forEach((bind, j) => {
    const other = claimed.find((c) => bindsOverlap(c, bind));
    if (other) {
      problems.push(
        conflicted(
          `spec.binds[${j}].port`,
          `${hostPort(bind.address, bind.port)} overlaps ${hostPort(other.address, other.port)} of Frontend ${other.frontend} (spec.binds[${other.index}])`,
        ),
      );
    }
  });
  return problems;
}

/** The default Backend's cluster, or null with a ResolvedRefs problem: the Frontend keeps listening. */
export function resolveDefaultBackend(
  spec: FrontendSpec,
  namespace: string,
  lookup: (name: string) => BackendLookup,
): { cluster: string | null; refProblems: Problem[] } {
  if (!spec.defaultBackend) return { cluster: null, refProblems: [] };
  const found = resolveBackend(spec.defaultBackend.name, 'spec.defaultBackend.name', spec.mode, namespace, lookup);
  return { cluster: found.cluster, refProblems: found.problem ? [found.problem] : [] };
}

/** One listener per bind; they share `rules` (one object: the rules are the Frontend's). */
export function buildListeners(namespace: string, name: string, spec: FrontendSpec, defaultCluster: string | null, rules: ir.Rules | null): ir.Listener[] {
  const frontend = `${namespace}/${name}`;
  const httpRequestMs = parseDuration(spec.timeouts.httpRequest);
  return spec.binds.map((bind, i) => ({
    name: `${frontend}#${i}`,
    frontend,
    mode: spec.mode,
    address: stripBrackets(bind.address),
    port: bind.port,
    acceptProxy: bind.acceptProxy,
    maxConnections: spec.maxConnections,
    timeouts: {
      clientMs: parseDuration(spec.timeouts.client),
      httpRequestMs,
      httpKeepAliveMs: spec.timeouts.httpKeepAlive === undefined ? httpRequestMs : parseDuration(spec.timeouts.httpKeepAlive),
      tunnelMs: spec.timeouts.tunnel === undefined ? null : parseDuration(spec.timeouts.tunnel),
    },
    forwardFor: spec.forwardFor ? { header: spec.forwardFor.header, except: spec.forwardFor.except ?? null } : null,
    defaultCluster,
    rules,
  }));
}
