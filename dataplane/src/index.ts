export { Dataplane, type ApplyResult } from './runtime/dataplane.ts';
export { createLogger, type Logger } from './logger.ts';
export type { ServerState } from './upstream/server-state.ts';
export { SnapshotApplier, type ApplyOutcome, type SnapshotTarget, type VersionedPush } from './channel/snapshot-applier.ts';
// The control channel client and the peer mesh are websocket code (ws, which loads node:http,
// https, tls...: about 12 MiB of RSS). `switchyard run` without peers needs neither, so they are
// separate entry points, imported where used: @switchyard/dataplane/channel and /peers.
export type {
  ControlChannelClient,
  Backoff,
  ClientEvent,
  ClientState,
  ControlChannelClientOptions,
  HealthSource,
} from './channel/control-channel-client.ts';
export type { PeerMesh, PeerMeshOptions, PeerMeshStats, PeerStats } from './peers/peer-mesh.ts';
export { checkPeerUrl, parseHostPort, type HostPort } from './peers/address.ts';
