/** Backend -> ir.Cluster: checks that need more than the schema, reference resolution, defaults. */
import { BackendSpec, parseDuration, Reason } from '@switchyard/api';
import type { BalanceAlgorithm, ir } from '@switchyard/api';
import { compareStrings, invalid, positiveDuration, refProblem, unsupported } from './problems.ts';
import type { Problem } from './problems.ts';
import { compilePersistence } from './persistence.ts';
import type { Endpoint } from './types.ts';
import { unsupportedBackendFields } from './unsupported.ts';

/** Algorithms that hash a request key, and so use hashType. */
const HASHING: readonly BalanceAlgorithm[] = ['source', 'uri', 'hdr', 'url_param'];
/** Algorithms that read the HTTP request. */
const HTTP_ONLY: readonly BalanceAlgorithm[] = ['uri', 'hdr', 'url_param'];
const HASH_KEY_OF: Partial<Record<BalanceAlgorithm, string>> = { hdr: 'the header to hash', url_param: 'the query parameter to hash' };

/** What a Backend's references resolve to, looked up by the caller. */
export type HealthPolicyLookup = { state: 'missing' } | { state: 'not-accepted' } | { state: 'ok'; check: ir.HealthCheck };

export interface BackendContext {
  namespace: string;
  name: string;
  healthPolicy(name: string): HealthPolicyLookup;
  endpoints: ReadonlyMap<string, readonly Endpoint[]> | undefined;
}

export interface CompiledBackend {
  /** Problems that keep the Backend out (Accepted=False). */
  problems: Problem[];
  /** Unresolved references (ResolvedRefs=False): the Backend is left out too. */
  refProblems: Problem[];
  cluster: ir.Cluster | null;
  /** The table of `persistence.stick` (`backend:namespace/name`), when the cluster has one. */
  stickTable: ir.StickTable | null;
}

/**
 * The schema's defaults. An option left at its default is never an error, written or not: an API
 * server fills in the CRD's defaults before we see the object, so the two cannot be told apart.
 */
const DEFAULT_HASH_TYPE = BackendSpec.shape.hashType.parse(undefined);
const DEFAULT_RANDOM_DRAWS = BackendSpec.shape.randomDraws.parse(undefined);

/** Checks beyond the schema. */
function check(spec: BackendSpec): Problem[] {
  const problems: Problem[] = [];
  const algo = spec.balance;
  const seen = new Map<string, number>();
  spec.servers.forEach((server, i) => {
    const first = seen.get(server.name);
    if (first === undefined) seen.set(server.name, i);
    else problems.push(invalid(`spec.servers[${i}].name`, `duplicate server name "${server.name}" (also spec.servers[${first}].name)`));
  });
  if (spec.mode === 'tcp' && HTTP_ONLY.includes(algo)) {
    problems.push(invalid('spec.balance', `balance ${algo} reads the HTTP request and needs mode http; this Backend is in mode tcp`));
  }
  const keyOf = HASH_KEY_OF[algo];
  if (keyOf && spec.hashKey === undefined) problems.push(invalid('spec.hashKey', `is required by balance ${algo} (${keyOf})`));
  if (!keyOf && spec.hashKey !== undefined) problems.push(invalid('spec.hashKey', `is only used by balance hdr and url_param, not ${algo}`));
  if (spec.uriHash !== undefined && algo !== 'uri') problems.push(invalid('spec.uriHash', `is only used by balance uri, not ${algo}`));
  if (spec.hashType !== DEFAULT_HASH_TYPE && !HASHING.includes(algo)) {
    problems.push(invalid('spec.hashType', `is only used by the hashing algorithms (${HASHING.join(', ')}), not ${algo}`));
  }
  if (spec.randomDraws !== DEFAULT_RANDOM_DRAWS && algo !== 'random') {
    problems.push(invalid('spec.randomDraws', `is only used by balance random, not ${algo}`));
  }
  if (spec.mode === 'tcp' && spec.forwardFor !== undefined) {
    problems.push(invalid('spec.forwardFor', 'adds an HTTP header and needs mode http; this Backend is in mode tcp'));
  }
  return problems;
}

const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** IPv4 addresses first, in numeric order (10.0.0.2 before 10.0.0.10), then anything else by its text. */
function compareAddresses(a: string, b: string): number {
  const v4a = IPV4_RE.test(a);
  const v4b = IPV4_RE.test(b);
  if (v4a !== v4b) return v4a ? -1 : 1;
  if (v4a) {
    const x = a.split('.').map(Number);
    const y = b.split('.').map(Number);
    for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return 0;
  }
  return compareStrings(a, b);
}

function serverName(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

function discover(spec: BackendSpec, ctx: BackendContext, refProblems: Problem[]): ir.Server[] {
  const ref = spec.serviceRef;
  if (!ref) return [];
  if (!ctx.endpoints) {
    refProblems.push(
      refProblem(Reason.RefNotFound, 'spec.serviceRef.name', `Service "${ref.name}" cannot be resolved without Kubernetes (list the servers in spec.servers instead)`),
    );
    return [];
  }
  const all = ctx.endpoints.get(`${ctx.namespace}/${ref.name}`);
  if (!all) {
    refProblems.push(refProblem(Reason.RefNotFound, 'spec.serviceRef.name', `Service "${ref.name}" not found in namespace "${ctx.namespace}"`));
    return [];
  }
  const matching = all.filter((e) => (typeof ref.port === 'number' ? (e.servicePort ?? e.port) === ref.port : e.name === ref.port));
  if (all.length > 0 && matching.length === 0) {
    const port = typeof ref.port === 'number' ? `port ${ref.port}` : `port named "${ref.port}"`;
    refProblems.push(refProblem(Reason.RefNotFound, 'spec.serviceRef.port', `Service "${ref.name}" has no ready endpoint on ${port}`));
    return [];
  }
  const unique = new Map<string, Endpoint>();
  for (const e of matching) unique.set(serverName(e), e);
  return [...unique.entries()]
    .sort(([a, x], [b, y]) => compareAddresses(x.address, y.address) || x.port - y.port || compareStrings(a, b))
    .map(([name, e]) => ({
      name,
      id: 0,
      address: e.address,
      port: e.port,
      weight: 1,
      maxConnections: 0,
      backup: false,
      disabled: false,
      slowStartMs: null,
      cookie: null,
      proxyProtocol: null,
    }));
}

export function compileBackend(spec: BackendSpec, ctx: BackendContext): CompiledBackend {
  const problems = check(spec);
  const timeouts = {
    connectMs: positiveDuration(spec.timeouts.connect, 'spec.timeouts.connect', problems),
    serverMs: positiveDuration(spec.timeouts.server, 'spec.timeouts.server', problems),
    queueMs: 0,
    tunnelMs: spec.timeouts.tunnel === undefined ? null : positiveDuration(spec.timeouts.tunnel, 'spec.timeouts.tunnel', problems),
  };
  timeouts.queueMs = spec.timeouts.queue === undefined ? timeouts.connectMs : parseDuration(spec.timeouts.queue);
  for (const path of unsupportedBackendFields(spec)) problems.push(unsupported(path));
  const persistence = compilePersistence(spec, ctx.namespace, ctx.name, problems);

  // References are resolved even for a rejected Backend, so its status tells the whole story.
  const refProblems: Problem[] = [];
  let health: ir.HealthCheck | null = null;
  if (spec.healthPolicyRef) {
    const ref = spec.healthPolicyRef.name;
    const found = ctx.healthPolicy(ref);
    if (found.state === 'missing') {
      refProblems.push(refProblem(Reason.RefNotFound, 'spec.healthPolicyRef.name', `HealthPolicy "${ref}" not found in namespace "${ctx.namespace}"`));
    } else if (found.state === 'not-accepted') {
      refProblems.push(refProblem(Reason.RefNotAccepted, 'spec.healthPolicyRef.name', `HealthPolicy "${ref}" is not accepted`));
    } else {
      health = found.check;
    }
  }
  const discovered = discover(spec, ctx, refProblems);
  if (problems.length > 0 || refProblems.length > 0) return { problems, refProblems, cluster: null, stickTable: null };

  const statics: ir.Server[] = spec.servers.map((s) => ({
    name: s.name,
    id: 0,
    address: s.address,
    port: s.port,
    weight: s.weight,
    maxConnections: s.maxConnections,
    backup: s.backup,
    disabled: s.disabled,
    slowStartMs: s.slowStart === undefined ? null : parseDuration(s.slowStart),
    cookie: s.cookie ?? null,
    proxyProtocol: s.proxyProtocol ?? null,
  }));
  // With cookie persistence, every server can be stuck to: one without a cookie value uses its
  // name (HAProxy would set no cookie for it, so its clients would silently not stick).
  const servers = [...statics, ...discovered].map((s, i) => ({ ...s, id: i + 1, cookie: s.cookie ?? (persistence.cookie ? s.name : null) }));
  const algo = spec.balance;
  const cluster: ir.Cluster = {
    name: `${ctx.namespace}/${ctx.name}`,
    mode: spec.mode,
    balance: {
      algorithm: algo,
      hashType: spec.hashType,
      hashKey: HASH_KEY_OF[algo] ? (spec.hashKey ?? null) : null,
      uri:
        algo === 'uri'
          ? {
              depth: spec.uriHash?.depth ?? null,
              length: spec.uriHash?.length ?? null,
              whole: spec.uriHash?.whole ?? false,
              pathOnly: spec.uriHash?.pathOnly ?? true,
            }
          : null,
      randomDraws: spec.randomDraws,
    },
    servers,
    health,
    timeouts,
    retries: spec.retries,
    redispatch: spec.redispatch,
    allBackups: spec.allBackups,
    forwardFor: spec.forwardFor ? { header: spec.forwardFor.header, except: spec.forwardFor.except ?? null } : null,
    httpReuse: spec.httpReuse,
    cookie: persistence.cookie,
    stick: persistence.stick,
  };
  return { problems, refProblems, cluster, stickTable: persistence.stickTable };
}
