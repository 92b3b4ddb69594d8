/**
 * The snapshot (`ir.ts`) as a zod schema, for the data plane to validate what arrives over the
 * control channel before it builds anything. The type assertions at the end fail to compile if
 * the schema and `ir.Snapshot` ever drift apart, in either direction.
 *
 * Objects are strict: a field the data plane does not know is an error (a NACK naming it), never
 * silently ignored. Bounds are what the data plane can run, not what the resources allow: a
 * listener on port 0 (any free port) is valid here, and durations may be fractional milliseconds
 * (`500us`).
 */
import { z } from 'zod';
import { BalanceAlgorithm } from '../resources/backend.ts';
import type * as ir from './ir.ts';

const Name = z.string().min(1);
const Ms = z.number().nonnegative().finite();
const Count = z.number().int().nonnegative();
const Port = z.number().int().min(0).max(65535);
const Mode = z.enum(['http', 'tcp']);

export const ForwardForSchema = z.strictObject({
  header: Name,
  except: z.string().min(1).nullable(),
});

// ---- traffic management ----------------------------------------------------------------------
// Criteria other than found/bool carry at least one pattern: the controller refuses a criterion
// that could never match, so the data plane never has to decide what an empty list means.

export const SampleSchema = z.strictObject({
  fetch: Name,
  args: z.array(z.string()),
  converters: z.array(z.strictObject({ name: Name, args: z.array(z.string()) })),
});

const Int = z.number().int();

export const IntPatternSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.enum(['eq', 'ne', 'gt', 'ge', 'lt', 'le']), value: Int }),
  z.strictObject({ op: z.literal('range'), min: Int.nullable(), max: Int.nullable() }),
]);

export const CriterionSchema = z.discriminatedUnion('method', [
  z.strictObject({
    sample: SampleSchema,
    method: z.enum(['str', 'beg', 'end', 'sub', 'reg', 'dir', 'dom']),
    ignoreCase: z.boolean(),
    patterns: z.array(z.string()).min(1),
  }),
  z.strictObject({ sample: SampleSchema, method: z.literal('ip'), ignoreCase: z.literal(false), patterns: z.array(z.string().min(1)).min(1) }),
  z.strictObject({ sample: SampleSchema, method: z.enum(['int', 'len']), ignoreCase: z.literal(false), patterns: z.array(IntPatternSchema).min(1) }),
  z.strictObject({ sample: SampleSchema, method: z.enum(['found', 'bool']), ignoreCase: z.literal(false), patterns: z.tuple([]) }),
]);

export const ConditionTermSchema = z.strictObject({
  negate: z.boolean(),
  name: Name.nullable(),
  criteria: z.array(CriterionSchema),
});

export const ConditionSchema = z.strictObject({
  unless: z.boolean(),
  any: z.array(z.array(ConditionTermSchema).min(1)).min(1),
});

export const LogFormatSchema = z.array(
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('text'), text: z.string().min(1) }),
    z.strictObject({ kind: z.literal('var'), name: Name, quote: z.boolean() }),
    z.strictObject({ kind: z.literal('sample'), sample: SampleSchema, quote: z.boolean() }),
  ]),
);

const Guarded = { condition: ConditionSchema.nullable() };
const Counter = z.union([z.literal(0), z.literal(1), z.literal(2)]);
const HeaderEdits = [
  z.strictObject({ action: z.enum(['set-header', 'add-header']), name: Name, value: LogFormatSchema, ...Guarded }),
  z.strictObject({ action: z.literal('del-header'), name: Name, ...Guarded }),
] as const;
const TrackSc = z.strictObject({ action: z.literal('track-sc'), counter: Counter, key: SampleSchema, table: Name, ...Guarded });
const Status = z.number().int().min(100).max(999);

export const HttpRequestRuleSchema = z.discriminatedUnion('action', [
  ...HeaderEdits,
  z.strictObject({ action: z.literal('deny'), status: Status, ...Guarded }),
  z.strictObject({ action: z.literal('return'), status: Status, body: z.string().nullable(), contentType: z.string().nullable(), ...Guarded }),
  z.strictObject({
    action: z.literal('redirect'),
    type: z.enum(['scheme', 'location', 'prefix']),
    value: LogFormatSchema,
    code: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]),
    ...Guarded,
  }),
  TrackSc,
  z.strictObject({ action: z.literal('capture'), sample: SampleSchema, length: z.number().int().min(1), slot: Count, ...Guarded }),
  z.strictObject({ action: z.literal('set-path'), value: LogFormatSchema, ...Guarded }),
  z.strictObject({ action: z.literal('allow'), ...Guarded }),
]);

export const HttpResponseRuleSchema = z.discriminatedUnion('action', [...HeaderEdits]);

export const TcpRequestRuleSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('accept'), ...Guarded }),
  z.strictObject({ action: z.literal('reject'), ...Guarded }),
  TrackSc,
]);

export const RulesSchema = z.strictObject({
  httpRequest: z.array(HttpRequestRuleSchema),
  httpResponse: z.array(HttpResponseRuleSchema),
  tcpRequest: z.array(TcpRequestRuleSchema),
  useBackends: z.array(z.strictObject({ cluster: Name, condition: ConditionSchema.nullable() })),
  captures: Count,
  log: LogFormatSchema.nullable(),
});

const Period = z.number().positive().finite();
export const StickDataSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.enum(['server_id', 'conn_cur', 'conn_cnt', 'http_req_cnt', 'http_err_cnt', 'bytes_out_cnt', 'gpc0']) }),
  z.strictObject({ type: z.enum(['conn_rate', 'http_req_rate', 'http_err_rate', 'bytes_out_rate', 'gpc0_rate']), periodMs: Period }),
]);

export const StickTableSchema = z.strictObject({
  name: Name,
  type: z.enum(['ip', 'ipv6', 'string', 'integer']),
  keyLength: z.number().int().min(1),
  size: z.number().int().min(1),
  expireMs: Ms.nullable(),
  store: z.array(StickDataSchema),
  replicate: z.boolean(),
});

export const CookiePersistenceSchema = z.strictObject({
  name: Name,
  mode: z.enum(['insert', 'rewrite', 'prefix']),
  indirect: z.boolean(),
  nocache: z.boolean(),
  maxIdleMs: Ms.nullable(),
  maxLifeMs: Ms.nullable(),
  secure: z.boolean(),
  httpOnly: z.boolean(),
});

export const StickPersistenceSchema = z.strictObject({
  on: SampleSchema,
  storeResponse: SampleSchema.nullable(),
  table: Name,
});

// ---- listeners, clusters ------------------------------------------------------------------------

export const ListenerSchema = z.strictObject({
  name: Name,
  frontend: Name,
  mode: Mode,
  address: Name,
  port: Port,
  acceptProxy: z.boolean(),
  maxConnections: Count,
  timeouts: z.strictObject({ clientMs: Ms, httpRequestMs: Ms, httpKeepAliveMs: Ms, tunnelMs: Ms.nullable() }),
  forwardFor: ForwardForSchema.nullable(),
  defaultCluster: Name.nullable(),
  rules: RulesSchema.nullable(),
});

export const BalanceSchema = z.strictObject({
  algorithm: BalanceAlgorithm,
  hashType: z.enum(['map-based', 'consistent']),
  hashKey: Name.nullable(),
  uri: z.strictObject({ depth: Count.nullable(), length: Count.nullable(), whole: z.boolean(), pathOnly: z.boolean() }).nullable(),
  randomDraws: z.number().int().min(1),
});

export const ServerSchema = z.strictObject({
  name: Name,
  id: z.number().int().min(1),
  address: Name,
  port: Port,
  weight: z.number().int().min(0).max(256),
  maxConnections: Count,
  backup: z.boolean(),
  disabled: z.boolean(),
  slowStartMs: Ms.nullable(),
  cookie: z.string().nullable(),
  proxyProtocol: z.enum(['v1', 'v2']).nullable(),
});

export const ProbeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tcp'), send: z.string().nullable(), expect: z.string().nullable() }),
  z.strictObject({
    kind: z.literal('http'),
    method: Name,
    path: Name,
    version: z.enum(['HTTP/1.0', 'HTTP/1.1']),
    host: z.string().nullable(),
    headers: z.array(z.strictObject({ name: Name, value: z.string() })),
    expect: z.strictObject({
      status: z.array(z.number().int()).nullable(),
      statusRange: z.tuple([z.number().int(), z.number().int()]).nullable(),
      bodyContains: z.string().nullable(),
      header: z.strictObject({ name: Name, contains: z.string() }).nullable(),
    }),
  }),
  z.strictObject({ kind: z.literal('mysql'), user: z.string() }),
  z.strictObject({ kind: z.literal('pgsql'), user: z.string() }),
  z.strictObject({ kind: z.literal('redis') }),
]);

export const HealthCheckSchema = z.strictObject({
  policy: Name,
  intervalMs: Ms,
  fastIntervalMs: Ms,
  downIntervalMs: Ms,
  timeoutMs: Ms,
  rise: z.number().int().min(1),
  fall: z.number().int().min(1),
  port: Port.nullable(),
  probe: ProbeSchema,
});

export const ClusterSchema = z.strictObject({
  name: Name,
  mode: Mode,
  balance: BalanceSchema,
  servers: z.array(ServerSchema),
  health: HealthCheckSchema.nullable(),
  timeouts: z.strictObject({ connectMs: Ms, serverMs: Ms, queueMs: Ms, tunnelMs: Ms.nullable() }),
  retries: Count,
  redispatch: z.boolean(),
  allBackups: z.boolean(),
  forwardFor: ForwardForSchema.nullable(),
  httpReuse: z.enum(['never', 'safe', 'aggressive', 'always']),
  cookie: CookiePersistenceSchema.nullable(),
  stick: StickPersistenceSchema.nullable(),
});

/** Stick tables are named from rules and clusters: a dangling or ambiguous name is an error here, not a crash later. */
function checkStickTableNames(snapshot: z.infer<typeof SnapshotSchemaShape>, ctx: z.core.$RefinementCtx): void {
  const names = new Set<string>();
  snapshot.stickTables.forEach((t, i) => {
    if (names.has(t.name)) ctx.addIssue({ code: 'custom', path: ['stickTables', i, 'name'], message: `duplicate stick table ${JSON.stringify(t.name)}` });
    names.add(t.name);
  });
  const check = (table: string, path: (string | number)[]): void => {
    if (!names.has(table)) ctx.addIssue({ code: 'custom', path, message: `unknown stick table ${JSON.stringify(table)}` });
  };
  snapshot.listeners.forEach((l, i) => {
    l.rules?.httpRequest.forEach((r, j) => {
      if (r.action === 'track-sc') check(r.table, ['listeners', i, 'rules', 'httpRequest', j, 'table']);
    });
    l.rules?.tcpRequest.forEach((r, j) => {
      if (r.action === 'track-sc') check(r.table, ['listeners', i, 'rules', 'tcpRequest', j, 'table']);
    });
  });
  snapshot.clusters.forEach((c, i) => {
    if (c.stick) check(c.stick.table, ['clusters', i, 'stick', 'table']);
  });
}

const SnapshotSchemaShape = z.strictObject({
  listeners: z.array(ListenerSchema),
  clusters: z.array(ClusterSchema),
  stickTables: z.array(StickTableSchema),
});

export const SnapshotSchema = SnapshotSchemaShape.superRefine(checkStickTableNames);

export type SnapshotParseResult = { ok: true; snapshot: ir.Snapshot } | { ok: false; error: string };

/** Validates an untrusted snapshot; the error names the field (`clusters[0].servers[2].port: ...`). */
export function parseSnapshot(value: unknown): SnapshotParseResult {
  const parsed = SnapshotSchema.safeParse(value);
  if (parsed.success) return { ok: true, snapshot: parsed.data };
  return { ok: false, error: describeZodError(parsed.error) };
}

/** The first issue of a zod error as `path.to[3].field: message`, plus how many more there are. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${path || '(root)'}: ${issue.message}${more}`;
}

// Compile-time: the schema and ir.ts describe exactly the same type. If one changes without the
// other, `tsc` fails here.
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
type Inferred = z.infer<typeof SnapshotSchema>;
export type SnapshotSchemaMatchesIr = [
  Assert<Same<Inferred, ir.Snapshot>>,
  Assert<Inferred extends ir.Snapshot ? true : false>,
  Assert<ir.Snapshot extends Inferred ? true : false>,
];
