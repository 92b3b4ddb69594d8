/**
 * Read-only looks at the live data plane for assertions the wire cannot show.
 */
import assert from 'node:assert/strict';
import type { Harness } from './dataplane-harness.ts';
import type { ServerState } from '@switchyard/dataplane';

/** The live state of the server `name` (first match over every Backend). */
export function serverState(harness: Harness, name: string): ServerState {
  const s = harness.dataplane.servers().find((x) => x.name === name);
  assert.ok(s, `server ${name} not found`);
  return s;
}

/** Requests waiting in the queue of the Backend `cluster` (`namespace/name`). */
export function queueLength(harness: Harness, cluster: string): number {
  const length = harness.dataplane.queueLength(cluster);
  assert.ok(length !== undefined, `cluster ${cluster} not found in the runtime`);
  return length;
}
