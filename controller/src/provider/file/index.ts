export { formatLoadError, isManifestFile, loadManifests, parseManifests } from './load-manifests.ts';
export type { LoadError, LoadResult } from './load-manifests.ts';
export { watchManifests } from './watch-manifests.ts';
export type { ManifestWatcher, WatchOptions } from './watch-manifests.ts';
