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
});

export const SnapshotSchema = z.strictObject({
  listeners: z.array(ListenerSchema),
  clusters: z.array(ClusterSchema),
});

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
