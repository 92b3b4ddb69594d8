/** The controller's public API, for the CLI and tests. */
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
