import { z } from 'zod';
import { API_VERSION, Duration, ObjectMeta, Port, Status } from './common.ts';

const Header = z.object({ name: z.string().min(1), value: z.string() }).strict();

export const TcpProbe = z
  .object({
    send: z.string().optional().describe('Bytes to send once connected (escape sequences \\r \\n are honoured).'),
    expect: z.string().optional().describe('A string the reply must contain.'),
  })
  .strict()
  .describe('Layer 4 check: connect, optionally send and expect (HAProxy tcp-check).');

const STATUS_RANGE_RE = /^[1-5]\d\d-[1-5]\d\d$/;
export const HttpProbe = z
  .object({
    method: z.string().regex(/^[A-Z]+$/, 'must be an upper-case HTTP method').default('GET'),
    path: z.string().startsWith('/').default('/'),
    version: z.enum(['HTTP/1.0', 'HTTP/1.1']).default('HTTP/1.1'),
    host: z.string().optional().describe('Host header; defaults to the server address.'),
    headers: z.array(Header).optional(),
    expect: z
      .object({
        status: z.array(z.number().int().min(100).max(599)).optional().describe('Accepted status codes.'),
        statusRange: z.string().regex(STATUS_RANGE_RE, 'must look like 200-399').optional(),
        bodyContains: z.string().optional(),
        header: z.object({ name: z.string().min(1), contains: z.string() }).strict().optional(),
      })
      .strict()
      .optional()
      .describe('What a passing reply looks like; by default any 2xx or 3xx status (HAProxy httpchk).'),
  })
  .strict()
  .describe('Layer 7 check (HAProxy option httpchk / http-check).');

export const HealthPolicySpec = z
  .object({
    interval: Duration.default('2s').describe('Time between checks (HAProxy inter).'),
    fastInterval: Duration.optional().describe('Interval while a server is changing state (fastinter); defaults to interval.'),
    downInterval: Duration.optional().describe('Interval while a server is down (downinter); defaults to interval.'),
    timeout: Duration.optional().describe('Time a check may take (timeout check); defaults to interval.'),
    rise: z.number().int().min(1).max(1000).default(2).describe('Consecutive successes to mark a server UP.'),
    fall: z.number().int().min(1).max(1000).default(3).describe('Consecutive failures to mark a server DOWN.'),
    port: Port.optional().describe('Check this port instead of the server port.'),
    tcp: TcpProbe.optional(),
    http: HttpProbe.optional(),
    mysql: z.object({ user: z.string().min(1) }).strict().optional().describe('MySQL handshake (mysql-check).'),
    pgsql: z.object({ user: z.string().min(1) }).strict().optional().describe('PostgreSQL startup (pgsql-check).'),
    redis: z.object({}).strict().optional().describe('Redis PING (redis-check).'),
    passive: z
      .object({
        observe: z.enum(['layer4', 'layer7']).describe('Errors to count: connection errors (layer4) or also HTTP 5xx (layer7).'),
        errorLimit: z.number().int().min(1).default(10).describe('Consecutive errors that trigger onError.'),
        onError: z.enum(['mark-down', 'fastinter']).default('fastinter').describe('What errorLimit consecutive errors do to the server.'),
      })
      .strict()
      .optional()
      .describe('Count errors on live traffic too (HAProxy observe / on-error).'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const kinds = (['tcp', 'http', 'mysql', 'pgsql', 'redis'] as const).filter((k) => spec[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          kinds.length === 0
            ? 'exactly one probe kind is required: tcp, http, mysql, pgsql or redis'
            : `exactly one probe kind is allowed, found ${kinds.join(' and ')}`,
      });
    }
  })
  .meta({
    description: 'How a server is judged alive (HAProxy check). Exactly one probe kind: tcp, http, mysql, pgsql or redis.',
    // The refinement above in JSON Schema terms, so the CRD enforces it at admission too.
    oneOf: [{ required: ['tcp'] }, { required: ['http'] }, { required: ['mysql'] }, { required: ['pgsql'] }, { required: ['redis'] }],
  });

export const HealthPolicySchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('HealthPolicy'),
  metadata: ObjectMeta,
  spec: HealthPolicySpec,
  status: Status.optional(),
});
export type HealthPolicy = z.infer<typeof HealthPolicySchema>;
export type HealthPolicySpec = z.infer<typeof HealthPolicySpec>;
