export { Dataplane, type ApplyResult } from './runtime/dataplane.ts';
export { createLogger, type Logger } from './logger.ts';
export type { ServerState } from './upstream/server-state.ts';
export { SnapshotApplier, type ApplyOutcome, type SnapshotTarget, type VersionedPush } from './channel/snapshot-applier.ts';
export {
  ControlChannelClient,
  backoffDelay,
  type Backoff,
  type ClientEvent,
  type ClientState,
  type ControlChannelClientOptions,
  type HealthSource,
} from './channel/control-channel-client.ts';
export { PeerMesh, checkPeerUrl, type PeerMeshOptions, type PeerMeshStats, type PeerStats } from './peers/peer-mesh.ts';
export { parseHostPort, type HostPort } from './peers/address.ts';
