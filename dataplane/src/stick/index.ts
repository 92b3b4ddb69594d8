/**
 * Stick tables (HAProxy semantics, one state per writing origin, replicated as whole states).
 * The contract the rules and sessions use is types.ts; the rest is the implementation and the
 * replication the transports (peers/, workers/) drive. Test helpers: ./testing.ts.
 */
export type { StickDataType, StickEntry, StickTableHandle, StickTableLookup, Trackers } from './types.ts';
export { StickTable, type NowClock } from './table.ts';
export type { Entry } from './entry.ts';
export { SessionTrackers } from './trackers.ts';
export { ChangeFeed, StickTables, type FeedOptions, type OriginFilter, type TableFilter } from './replication.ts';
export type { StickRow, StickTableUpdate, StickUpdate } from './wire.ts';
export { parseStickUpdate } from './parse-update.ts';
export { convertKey } from './keys.ts';
export { wallClock } from './wall-clock.ts';
