/**
 * What the controller knows about the data planes, as the status writer consumes it. The channel
 * server keeps the `LocalFleet` of the streams connected to this replica; `controller/src/fleet`
 * merges the reports of every replica into one `FleetView` for the leader.
 */
import type { ServerHealth } from '@switchyard/api';

export interface DataplaneStatus {
  /** The name the data plane gave in its hello. */
  node: string;
  /** The controller replica it is connected to. */
  replica: string;
  /** The version it last ACKed (or announced in its hello as already serving), or null. */
  ackedVersion: string | null;
  /** Its last NACK, cleared when it later ACKs that version or a newer push. */
  nack: { version: string; error: string } | null;
  /** Its last health report: every server of the snapshot it serves. Empty until the first report. */
  health: readonly ServerHealth[];
  /** Milliseconds since the epoch when any of the above last changed. */
  updatedAt: number;
  /**
   * Where its stick-table peer server is reachable (hello `peer.url`), or null/absent when it has
   * none. Other data planes of the fleet learn it through `peers` messages.
   */
  peerUrl?: string | null;
}

/** The data planes connected to one replica. */
export interface LocalFleet {
  list(): DataplaneStatus[];
  /** Called after any connect, disconnect, ACK, NACK or health report; returns an unsubscribe. */
  onChange(listener: () => void): () => void;
}
