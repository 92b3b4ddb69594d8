/**
 * The controller's public API without Kubernetes: the translator, the file provider and the
 * control channel, which standalone `switchyard run` uses. Everything that talks to an API server
 * (and loads @kubernetes/client-node, ~85 MiB) is in `@switchyard/controller/kubernetes`.
 */
// Time: the Clock that everything below takes (clock.ts says which system clock is whose default), Kubernetes time formats.
export { monotonicClock, systemClock, type Clock, type Timer } from './clock.ts';
export { formatMicroTime, isMicroTime } from './kube-time.ts';
export { formatFieldPath, translate } from './translator/translate.ts';
export type {
  ConditionStatus,
  Endpoint,
  FieldError,
  RawObject,
  ResourceResult,
  ResultCondition,
  TranslateInput,
  TranslateResult,
} from './translator/translate.ts';
export { formatLoadError, isManifestFile, loadManifests, parseManifests, watchManifests } from './provider/file/index.ts';
export type { LoadError, LoadResult, ManifestWatcher, WatchOptions } from './provider/file/index.ts';
// The channel server is websocket code (ws, node:http): its own entry point,
// @switchyard/controller/channel-server, so `switchyard run` does not load it.
export type { ChannelServer, ChannelServerOptions } from './channel/channel-server.ts';
export type { DataplaneStatus, LocalFleet } from './channel/fleet.ts';
export { SnapshotCache, canonicalJson, snapshotVersion, type SnapshotCacheOptions, type SnapshotContents } from './channel/snapshot-cache.ts';
export type { AckEvent, HealthEvent, NackEvent } from './channel/stream.ts';
export { objectKey, type VersionedSnapshot } from './channel/versioned-snapshot.ts';
export { retranslate } from './translator/incremental.ts';
export type { Translation, TranslationStats } from './translator/incremental.ts';
