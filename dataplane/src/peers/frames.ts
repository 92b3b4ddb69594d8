/**
 * The peer protocol between data planes (stick-table replication): JSON text frames on a
 * websocket, authenticated like the control channel (`Authorization: Bearer`).
 *
 * Each connection carries one direction of data: the side that connected (the *sender*, which
 * found the other in its peers list) sends its own tables; the side that accepted (the
 * *receiver*) merges them. Two data planes that know each other hold two connections.
 *
 *   sender                                   receiver
 *   hello {node, instance}          ──────▶
 *                                   ◀──────  hello {node, instance}
 *   stick {update} ... (full state) ──────▶  merged; one per origin chunk
 *   synced                          ──────▶  from here on `stick` frames are deltas (lag measured)
 *   stick {update} ... (deltas)     ──────▶
 *                                   ◀──────  resync (a table appeared here: send everything again)
 *
 * `update` is validated with `parseStickUpdate` (stick/parse-update.ts). Liveness: the sender pings
 * every heartbeat and drops a connection that missed two pongs; either side closes with a code below
 * and a reason naming the fault on a bad frame.
 */
import { z } from 'zod';

export const PEER_PROTOCOL = 1;

export const PeerHelloSchema = z.strictObject({
  type: z.literal('hello'),
  protocol: z.literal(PEER_PROTOCOL),
  /** The data plane's name. */
  node: z.string().min(1).max(253),
  /** Its process instance (origin.ts): a restart is a new instance. */
  instance: z.string().min(1).max(64),
});

/** Validated further by `parseStickUpdate`. */
export const StickFrameSchema = z.strictObject({ type: z.literal('stick'), update: z.unknown() });
export const SyncedFrameSchema = z.strictObject({ type: z.literal('synced') });
export const ResyncFrameSchema = z.strictObject({ type: z.literal('resync') });

/** What a receiver accepts after the hello. */
export const SenderFrameSchema = z.discriminatedUnion('type', [StickFrameSchema, SyncedFrameSchema]);
/** What a sender accepts after the hello. */
export const ReceiverFrameSchema = z.discriminatedUnion('type', [ResyncFrameSchema]);

export type PeerHello = z.infer<typeof PeerHelloSchema>;
export type SenderFrame = z.infer<typeof SenderFrameSchema>;
export type ReceiverFrame = z.infer<typeof ReceiverFrameSchema>;

export const PeerCloseCode = {
  /** The first frame was not a valid hello, or none came in time. */
  BadHello: 4000,
  /** A frame failed validation; the reason names the field. */
  BadFrame: 4001,
  /** The sender connected to its own process (a `--peers` list naming this data plane too). */
  Self: 4003,
  /** The sender fell too far behind (its socket buffer over the bound); it reconnects and sends everything again. */
  TooSlow: 4004,
  /** This peer is no longer in the peers list. */
  Removed: 4005,
  GoingAway: 1001,
} as const;

/** A close reason fits 123 bytes of UTF-8; cut on a character boundary. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > 120) break;
    out += ch;
  }
  return `${out}...`;
}
