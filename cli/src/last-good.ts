/**
 * Last known good resources for standalone mode. A resource that fails validation keeps its
 * previous valid version, and a file that no longer parses keeps its previous documents, so an
 * editing mistake never removes configuration that was serving.
 */
import type { RawObject, ResourceResult } from '@switchyard/controller';

export class LastGood {
  private readonly byResource = new Map<string, RawObject>();
  private readonly byFile = new Map<string, RawObject[]>();

  /** The loaded objects plus, for each file that failed to parse, its last good documents. */
  fill(objects: RawObject[], brokenFiles: ReadonlySet<string>): RawObject[] {
    if (brokenFiles.size === 0) return objects;
    const out = [...objects];
    for (const file of brokenFiles) out.push(...(this.byFile.get(file) ?? []));
    return out;
  }

  /** Replaces each invalid resource by its last good version; returns `objects` when none is known. */
  substitute(objects: RawObject[], invalid: ResourceResult[]): RawObject[] {
    const replace = new Map<string, RawObject>();
    for (const r of invalid) {
      const good = this.byResource.get(keyOf(r.kind, r.namespace, r.name));
      if (good) replace.set(keyOf(r.kind, r.namespace, r.name), good);
    }
    if (replace.size === 0) return objects;
    return objects.map((o) => replace.get(objectKey(o)) ?? o);
  }

  /** Records the resources that compiled cleanly and the files they came from. */
  remember(objects: RawObject[], results: ResourceResult[]): void {
    const ok = new Set(results.filter((r) => r.errors.length === 0).map((r) => keyOf(r.kind, r.namespace, r.name)));
    const files = new Map<string, RawObject[]>();
    for (const o of objects) {
      const key = objectKey(o);
      if (!ok.has(key)) continue;
      this.byResource.set(key, o);
      const file = o.source?.split('#')[0];
      if (file) files.set(file, [...(files.get(file) ?? []), o]);
    }
    for (const [file, list] of files) this.byFile.set(file, list);
  }
}

function objectKey(o: RawObject): string {
  const obj = (o.object ?? {}) as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  return keyOf(String(obj.kind), String(obj.metadata?.namespace ?? 'default'), String(obj.metadata?.name));
}

function keyOf(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
