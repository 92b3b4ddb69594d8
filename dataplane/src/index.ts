export { Dataplane, type ApplyResult } from './runtime/dataplane.ts';
export { createLogger, type Logger } from './logger.ts';
export type { ServerState } from './upstream/server-state.ts';
