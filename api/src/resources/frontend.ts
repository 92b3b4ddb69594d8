import { z } from 'zod';
import { API_VERSION, Count, Duration, LocalObjectReference, Mode, ObjectMeta, Port, Status } from './common.ts';

const Condition = z.string().min(1).describe('A condition in HAProxy syntax, e.g. "is_api !is_admin".');
const Guard = { if: Condition.optional(), unless: Condition.optional() };

const HttpRule = z.discriminatedUnion('action', [
  z.object({ action: z.literal('set-header'), name: z.string().min(1), value: z.string(), ...Guard }).strict(),
  z.object({ action: z.literal('add-header'), name: z.string().min(1), value: z.string(), ...Guard }).strict(),
  z.object({ action: z.literal('del-header'), name: z.string().min(1), ...Guard }).strict(),
  z.object({ action: z.literal('deny'), status: z.number().int().min(200).max(599).default(403), ...Guard }).strict(),
  z
    .object({
      action: z.literal('return'),
      status: z.number().int().min(200).max(599).default(200),
      body: z.string().optional(),
      contentType: z.string().optional(),
      ...Guard,
    })
    .strict(),
  z
    .object({
      action: z.literal('redirect'),
      scheme: z.string().optional(),
      location: z.string().optional(),
      prefix: z.string().optional(),
      code: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).default(302),
      ...Guard,
    })
    .strict(),
  z.object({ action: z.enum(['track-sc0', 'track-sc1', 'track-sc2']), key: z.string().min(1), ...Guard }).strict(),
  z.object({ action: z.literal('capture'), sample: z.string().min(1), length: z.number().int().min(1).max(4096), ...Guard }).strict(),
  z.object({ action: z.literal('set-path'), value: z.string().min(1), ...Guard }).strict(),
  z.object({ action: z.literal('allow'), ...Guard }).strict(),
]).describe('An http-request rule: action selects what it does, the other fields are its parameters; if/unless guard it with a condition.');

const HttpResponseRule = z.discriminatedUnion('action', [
  z.object({ action: z.literal('set-header'), name: z.string().min(1), value: z.string(), ...Guard }).strict(),
  z.object({ action: z.literal('add-header'), name: z.string().min(1), value: z.string(), ...Guard }).strict(),
  z.object({ action: z.literal('del-header'), name: z.string().min(1), ...Guard }).strict(),
]).describe('An http-response rule: action selects what it does, the other fields are its parameters; if/unless guard it with a condition.');

const TcpRule = z.discriminatedUnion('action', [
  z.object({ action: z.literal('accept'), ...Guard }).strict(),
  z.object({ action: z.literal('reject'), ...Guard }).strict(),
  z.object({ action: z.enum(['track-sc0', 'track-sc1', 'track-sc2']), key: z.string().min(1), ...Guard }).strict(),
]).describe('A tcp-request content rule: action selects what it does; if/unless guard it with a condition.');

export const BindSpec = z
  .object({
    address: z.string().min(1).default('0.0.0.0').describe('Address to listen on; 0.0.0.0 or :: for every address.'),
    port: Port,
    tls: z
      .object({
        certificateRefs: z.array(LocalObjectReference).min(1).describe('kubernetes.io/tls Secrets, selected by SNI.'),
        alpn: z.array(z.string()).optional(),
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
        ciphers: z.string().optional(),
      })
      .strict()
      .optional()
      .describe('Terminate TLS on this socket (bind ... ssl crt).'),
    acceptProxy: z.boolean().default(false).describe('Expect a PROXY protocol header (accept-proxy).'),
  })
  .strict()
  .describe('A listening socket (HAProxy bind).');

export const FrontendSpec = z
  .object({
    mode: Mode.default('http'),
    binds: z.array(BindSpec).min(1).describe('Sockets to listen on; at least one.'),
    vip: z
      .object({
        address: z.string().min(1),
        interface: z.string().min(1).optional(),
        priority: z.number().int().min(1).max(255).default(100).describe('Priority 1-255 of the pods competing for the address; higher wins.'),
        preempt: z.boolean().default(true).describe('A higher-priority pod takes the address over from a lower-priority holder.'),
      })
      .strict()
      .optional()
      .describe('A virtual IP held by exactly one data-plane pod (keepalived-style failover).'),
    maxConnections: z.number().int().min(0).default(0).describe('Concurrent client connections (maxconn); 0 means no limit.'),
    timeouts: z
      .object({
        client: Duration.default('30s'),
        httpRequest: Duration.default('10s'),
        httpKeepAlive: Duration.optional().describe('Idle time between requests; defaults to httpRequest.'),
        tunnel: Duration.optional(),
      })
      .strict()
      .default({ client: '30s', httpRequest: '10s' })
      .describe('timeout client, http-request, http-keep-alive and tunnel.'),
    forwardFor: z
      .object({ header: z.string().default('X-Forwarded-For'), except: z.string().optional() })
      .strict()
      .optional()
      .describe('Add X-Forwarded-For to every request (option forwardfor).'),
    acls: z
      .array(z.object({ name: z.string().min(1), criterion: z.string().min(1) }).strict())
      .optional()
      .describe('Named ACLs (HAProxy acl); criterion is a fetch with matchers and values, e.g. "path_beg -i /api /v2".'),
    stickTable: z
      .object({
        type: z.enum(['ip', 'ipv6', 'string', 'integer']),
        length: z.number().int().min(1).max(1024).optional().describe('Longest string key kept, in bytes (type string only; default 32).'),
        size: Count,
        expire: Duration.optional(),
        store: z.array(z.string()).optional().describe('Counters to keep, e.g. http_req_rate(10s), conn_cur.'),
        replicate: z
          .boolean()
          .default(true)
          .describe('Share entries with the other data-plane pods (HAProxy peers), so counters and limits hold for a client whichever pod serves it.'),
      })
      .strict()
      .optional()
      .describe('A stick table for this frontend (HAProxy stick-table), filled by track-sc rules.'),
    httpRequest: z.array(HttpRule).optional().describe('Ordered http-request rules.'),
    httpResponse: z.array(HttpResponseRule).optional().describe('Ordered http-response rules.'),
    tcpRequest: z
      .array(TcpRule)
      .optional()
      .describe('Ordered tcp-request content rules: they see the connection only and, in mode http, run before the request is parsed.'),
    useBackends: z
      .array(z.object({ backend: z.string().min(1).describe('Name of a Backend in the same namespace.'), ...Guard }).strict())
      .optional()
      .describe('use_backend rules: the first whose condition holds picks the Backend.'),
    defaultBackend: LocalObjectReference.optional().describe('Backend for traffic no useBackends rule picked (default_backend).'),
    log: z
      .object({ format: z.string().min(1).describe('HAProxy log-format string, e.g. "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B".') })
      .strict()
      .optional()
      .describe('Access log.'),
  })
  .strict()
  .describe('A listener (HAProxy frontend).');

export const FrontendSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Frontend'),
  metadata: ObjectMeta,
  spec: FrontendSpec,
  status: Status.optional(),
});
export type Frontend = z.infer<typeof FrontendSchema>;
export type FrontendSpec = z.infer<typeof FrontendSpec>;
