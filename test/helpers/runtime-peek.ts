/**
 * Read-only looks at the live data plane for assertions the wire cannot show. `servers()` is
 * public; the queue length is read from the runtime's clusters, which are not a public API.
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
  const runtime = (harness.dataplane as unknown as { runtime: { clusters: Map<string, { queueLength: number }> } | null }).runtime;
  const found = runtime?.clusters.get(cluster);
  assert.ok(found, `cluster ${cluster} not found in the runtime`);
  return found.queueLength;
}
