import { z } from 'zod';
import { API_VERSION, Count, Duration, LocalObjectReference, Mode, ObjectMeta, Port, Status } from './common.ts';

export const BALANCE_ALGORITHMS = [
  'roundrobin',
  'static-rr',
  'leastconn',
  'first',
  'source',
  'uri',
  'hdr',
  'url_param',
  'random',
] as const;
export const BalanceAlgorithm = z.enum(BALANCE_ALGORITHMS).describe('Load-balancing algorithm (HAProxy balance).');
export type BalanceAlgorithm = z.infer<typeof BalanceAlgorithm>;

export const ServerSpec = z
  .object({
    name: z.string().min(1).max(63).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must start with a letter or digit and hold only letters, digits, _ . -'),
    address: z.string().min(1).describe('IP address or host name.'),
    port: Port,
    weight: z.number().int().min(0).max(256).default(1).describe('Relative weight 0-256; 0 takes no new traffic.'),
    maxConnections: z.number().int().min(0).default(0).describe('Concurrent requests the server takes (maxconn); excess waits in the queue. 0 means no limit.'),
    backup: z.boolean().default(false).describe('Used only when every non-backup server is down.'),
    disabled: z.boolean().default(false).describe('Start in maintenance (HAProxy disabled).'),
    cookie: z
      .string()
      .optional()
      .describe(
        "Value of the persistence cookie naming this server. With persistence.cookie on, a server without one uses its name (HAProxy would set no cookie for it, and its clients would not stick).",
      ),
    slowStart: Duration.optional().describe('Ramp the weight up over this time after the server comes up.'),
    tls: z
      .object({
        enabled: z.boolean().default(true),
        verify: z.boolean().default(true),
        serverName: z.string().optional(),
        caSecretRef: LocalObjectReference.optional(),
      })
      .strict()
      .optional()
      .describe('Connect to the server over TLS.'),
    proxyProtocol: z.enum(['v1', 'v2']).optional().describe('Send a PROXY protocol header (send-proxy / send-proxy-v2).'),
  })
  .strict()
  .describe('A server of the pool (HAProxy server).');

export const Persistence = z
  .object({
    cookie: z
      .object({
        name: z.string().min(1),
        mode: z.enum(['insert', 'rewrite', 'prefix']).default('insert'),
        indirect: z.boolean().default(false),
        nocache: z.boolean().default(false),
        maxIdle: Duration.optional(),
        maxLife: Duration.optional(),
        secure: z.boolean().default(false),
        httpOnly: z.boolean().default(false),
      })
      .strict()
      .optional()
      .describe('Cookie-based persistence (HAProxy cookie; mode http). A server without a cookie value uses its name.'),
    stick: z
      .object({
        on: z.string().min(1).describe('Sample fetch whose value selects the server, e.g. src or req.cook(JSESSIONID).'),
        storeResponse: z.string().optional().describe('Fetch learnt from the response, e.g. res.cook(JSESSIONID).'),
        table: z
          .object({
            type: z.enum(['ip', 'ipv6', 'string', 'integer']),
            length: z.number().int().min(1).max(1024).optional(),
            size: Count,
            expire: Duration.optional(),
          })
          .strict(),
        replicate: z
          .boolean()
          .default(true)
          .describe('Share the table between data-plane pods (HAProxy peers), so a client keeps its server when another pod takes its traffic.'),
      })
      .strict()
      .optional()
      .describe('Stick-table persistence (HAProxy stick on / stick store-response).'),
  })
  .strict()
  .describe('Keep a client on the same server.');

export const BackendSpec = z
  .object({
    mode: Mode.default('http'),
    balance: BalanceAlgorithm.default('roundrobin'),
    hashKey: z.string().min(1).optional().describe('Header name for hdr, parameter name for url_param.'),
    hashType: z.enum(['map-based', 'consistent']).default('map-based').describe('How hashing algorithms map keys to servers.'),
    uriHash: z
      .object({
        depth: z.number().int().min(1).optional().describe('Hash only the first N directories of the path.'),
        length: z.number().int().min(1).optional().describe('Hash only the first N characters.'),
        whole: z.boolean().default(false).describe('Include the query string.'),
        pathOnly: z.boolean().default(true).describe('Hash the path without the authority.'),
      })
      .strict()
      .optional()
      .describe('Options of balance uri (depth, len, whole, path-only).'),
    randomDraws: z.number().int().min(1).max(16).default(2).describe('Servers drawn by balance random; the least loaded wins.'),
    allBackups: z.boolean().default(false).describe('Balance over every backup server instead of using only the first (option allbackups).'),
    servers: z.array(ServerSpec).default([]).describe('Static servers; serviceRef adds discovered ones.'),
    serviceRef: z
      .object({
        name: z.string().min(1).describe('Name of a Service in the same namespace.'),
        port: z.union([Port, z.string().min(1)]).describe('Service port, by number or by name.'),
      })
      .strict()
      .optional()
      .describe('Discover servers from the ready endpoints of this Service.'),
    healthPolicyRef: LocalObjectReference.optional().describe('HealthPolicy that checks the servers.'),
    persistence: Persistence.optional(),
    timeouts: z
      .object({
        connect: Duration.default('5s'),
        server: Duration.default('30s'),
        queue: Duration.optional().describe('Time a request may wait for a server slot; defaults to connect.'),
        tunnel: Duration.optional(),
      })
      .strict()
      .default({ connect: '5s', server: '30s' })
      .describe('timeout connect, server, queue and tunnel.'),
    retries: z.number().int().min(0).max(100).default(3).describe('Connection attempts after the first fails.'),
    redispatch: z.boolean().default(false).describe('On the last retry pick another server (option redispatch).'),
    forwardFor: z
      .object({
        header: z.string().default('X-Forwarded-For'),
        except: z.string().optional().describe('Source network (CIDR) for which the header is not added.'),
      })
      .strict()
      .optional()
      .describe('Add X-Forwarded-For (option forwardfor).'),
    httpReuse: z.enum(['never', 'safe', 'aggressive', 'always']).default('safe').describe('Idle server connection sharing (http-reuse).'),
  })
  .strict()
  .describe('A server pool (HAProxy backend).');

/**
 * Live server health of a Backend, aggregated by the controller from every connected data plane's
 * health reports. `total` counts the servers of the published snapshot (static and discovered);
 * `up + down + maintenance` can be less than `total` while no data plane has reported a server.
 */
export const BackendServerCounts = z
  .object({
    total: z.number().int().min(0).optional().describe('Servers in the pool, static and discovered.'),
    up: z.number().int().min(0).optional().describe('Servers passing their health checks on every data plane serving them.'),
    down: z.number().int().min(0).optional().describe('Servers failing their health checks on at least one data plane.'),
    maintenance: z.number().int().min(0).optional().describe('Servers disabled (maintenance).'),
  })
  .describe('Live server health, aggregated from every data plane.');
export type BackendServerCounts = z.infer<typeof BackendServerCounts>;

export const BackendStatus = Status.extend({ servers: BackendServerCounts.optional() }).describe(
  'Observed state, written by the controller: conditions and live server health.',
);
export type BackendStatus = z.infer<typeof BackendStatus>;

export const BackendSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Backend'),
  metadata: ObjectMeta,
  spec: BackendSpec,
  status: BackendStatus.optional(),
});
export type Backend = z.infer<typeof BackendSchema>;
export type BackendSpec = z.infer<typeof BackendSpec>;
export type ServerSpec = z.infer<typeof ServerSpec>;
