import type { ir } from '@switchyard/api';

/**
 * A published snapshot. `version` is a content hash of the snapshot AND `contents`, so every
 * replica names the same world the same way, and a spec change that leaves the snapshot as it
 * was (a new generation) still yields a new version that data planes ACK.
 */
export interface VersionedSnapshot {
  version: string;
  snapshot: ir.Snapshot;
  /** `Kind/namespace/name` -> metadata.generation of every Accepted object the snapshot was built from. */
  contents: ReadonlyMap<string, number | null>;
}

export function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
