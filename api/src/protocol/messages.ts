/**
 * The control channel between controller and data planes: JSON text frames over a websocket,
 * validated with zod on both ends. State of the world, xDS-style:
 *
 *   data plane                          controller
 *   hello {node, lastVersion}   ──────▶
 *                               ◀──────  welcome {replica, heartbeatMs}
 *                               ◀──────  push {version, nonce, snapshot}
 *   ack {version, nonce}        ──────▶  (or nack {version, nonce, error})
 *   health {servers}            ──────▶  (whenever a server's state changes, and after each ack)
 *                               ◀──────  peers {peers}  (if the hello had `peer`: on connect and on change)
 *
 * The controller keeps at most one push unacknowledged per stream; a newer snapshot replaces a
 * pending one. An ack or nack whose nonce is not the outstanding one is stale and ignored.
 * Versions are content hashes, so every controller replica names the same snapshot the same way
 * and a data plane reconnecting to another replica with `lastVersion` current gets no push.
 * Liveness uses websocket ping/pong frames, not messages: the controller pings every
 * `welcome.heartbeatMs` and ends a stream that misses two pongs; a data plane that hears no ping
 * for three intervals considers the controller gone and reconnects (to any replica).
 *
 * Stick-table replication (docs/architecture.md, "Stick-table replication"): a data plane that
 * runs a peer server says where in `hello.peer`; the controller then sends it, on connect and
 * whenever the fleet changes, `peers`: the other data planes of the fleet that have a peer server.
 * A data plane that omits `hello.peer` (older, or replication off) never gets a `peers` message.
 */
import { z } from 'zod';
import { describeZodError } from '../snapshot/schema.ts';

export const PROTOCOL_VERSION = 1;

/** A peer server's URL: ws:// or wss://, at most 2048 characters. */
export const PeerUrlSchema = z
  .string()
  .min(1)
  .max(2048)
  .refine((url) => isWebSocketUrl(url), { message: 'must be a ws:// or wss:// URL' });

export const HelloSchema = z.strictObject({
  type: z.literal('hello'),
  protocol: z.literal(PROTOCOL_VERSION),
  /** The data plane's name (`--name`, the pod name in a cluster). */
  node: z.string().min(1).max(253),
  /** The version the data plane is serving, or null before its first snapshot. */
  lastVersion: z.string().min(1).nullable(),
  /**
   * Where this data plane's stick-table peer server is reachable (`ws://10.0.0.5:7946/`), or null
   * when it has none. Present (even null) means "send me `peers`". Optional, so a data plane from
   * before replication is still understood.
   */
  peer: z.strictObject({ url: PeerUrlSchema }).nullable().optional(),
});

export const PeerInfoSchema = z.strictObject({
  /** The data plane's name (its hello's `node`). */
  node: z.string().min(1).max(253),
  url: PeerUrlSchema,
});

/**
 * The other data planes of the fleet that have a peer server, sorted by node: the whole list each
 * time (state of the world), never including the receiver itself.
 */
export const PeersSchema = z.strictObject({
  type: z.literal('peers'),
  peers: z.array(PeerInfoSchema),
});

export const WelcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  /** The controller replica's identity. */
  replica: z.string().min(1),
  /** How often the controller pings; the data plane declares it dead after about three silent intervals. */
  heartbeatMs: z.number().int().positive(),
});

export const PushSchema = z.strictObject({
  type: z.literal('push'),
  version: z.string().min(1),
  nonce: z.string().min(1),
  /** An `ir.Snapshot`; the data plane validates it with `SnapshotSchema` before building anything. */
  snapshot: z.unknown(),
});

export const AckSchema = z.strictObject({
  type: z.literal('ack'),
  version: z.string().min(1),
  nonce: z.string().min(1),
});

export const NackSchema = z.strictObject({
  type: z.literal('nack'),
  version: z.string().min(1),
  nonce: z.string().min(1),
  /** Why the snapshot was refused, e.g. `listener default/web#0 on 0.0.0.0:80: EADDRINUSE`. */
  error: z.string().min(1).max(4096),
});

export const ServerHealthStateSchema = z.enum(['up', 'down', 'maint']);

export const ServerHealthSchema = z.strictObject({
  /** `namespace/backend`. */
  cluster: z.string().min(1),
  /** The server's name within the cluster. */
  server: z.string().min(1),
  state: ServerHealthStateSchema,
  /** The last check result, e.g. `L4CON: connection refused`; empty when unknown. */
  reason: z.string().max(1024),
});

/** Every server of the snapshot being served, in full (state of the world, not deltas). */
export const HealthReportSchema = z.strictObject({
  type: z.literal('health'),
  servers: z.array(ServerHealthSchema),
});

export const DataplaneMessageSchema = z.discriminatedUnion('type', [HelloSchema, AckSchema, NackSchema, HealthReportSchema]);
export const ControllerMessageSchema = z.discriminatedUnion('type', [WelcomeSchema, PushSchema, PeersSchema]);

export type Hello = z.infer<typeof HelloSchema>;
export type Welcome = z.infer<typeof WelcomeSchema>;
export type Push = z.infer<typeof PushSchema>;
export type PeerInfo = z.infer<typeof PeerInfoSchema>;
export type Peers = z.infer<typeof PeersSchema>;
export type Ack = z.infer<typeof AckSchema>;
export type Nack = z.infer<typeof NackSchema>;
export type ServerHealthState = z.infer<typeof ServerHealthStateSchema>;
export type ServerHealth = z.infer<typeof ServerHealthSchema>;
export type HealthReport = z.infer<typeof HealthReportSchema>;
export type DataplaneMessage = z.infer<typeof DataplaneMessageSchema>;
export type ControllerMessage = z.infer<typeof ControllerMessageSchema>;

/** Close codes the controller uses (4000-4999 is the application range). */
export const CloseCode = {
  /** The first message was not a valid hello, or none came in time. */
  BadHello: 4000,
  /** A message failed validation; the reason names the field. */
  BadMessage: 4001,
  /** Another stream with the same node name connected; the older one is closed. */
  Replaced: 4002,
  /** The controller is shutting down. */
  GoingAway: 1001,
} as const;

export type DecodeResult<T> = { ok: true; message: T } | { ok: false; error: string };

/** Parses one text frame; the error names the field at fault (`servers[3].state: ...`). */
export function decodeMessage<T>(schema: z.ZodType<T>, text: string): DecodeResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  return { ok: false, error: describeZodError(parsed.error) };
}

function isWebSocketUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export function encodeMessage(message: DataplaneMessage | ControllerMessage): string {
  return JSON.stringify(message);
}
