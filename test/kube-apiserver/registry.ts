/**
 * The resource types the emulator serves, by group/version/resource. Built-in types are registered
 * at start (builtins.ts); custom resource types come and go with their CRDs (crd-registry.ts).
 * Discovery reads this registry on every request, so a new CRD shows up in the same tick.
 */
import type { StatusCause } from './errors.ts';
import type { KubeObject } from './types.ts';

/** Per-request facts a strategy may need. */
export interface WriteContext {
  /** `Strict`, `Warn` (the default when absent) or `Ignore` (reference §3.13). */
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  /** `Warning` headers to send back (unknown fields under Warn). */
  warnings: string[];
  /** True for writes through the `status` subresource. */
  subresource: 'status' | undefined;
}

/**
 * Type-specific behaviour, the emulator's version of the API server's REST strategies. Every hook
 * is optional; hooks throw ApiError for 400-class decode errors and return causes for 422s.
 */
export interface Strategy {
  /** Decoding: prune/default/strict field checks (custom resources), time formats (Lease). */
  decode?(obj: KubeObject, ctx: WriteContext): void;
  /** Server-set fields and defaults on create (Namespace phase, Service clusterIP, CRD status). */
  prepareCreate?(obj: KubeObject): void;
  /** Same on update; `old` is the stored object. */
  prepareUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Semantic validation: 422 causes. */
  validate?(obj: KubeObject, old: KubeObject | undefined, ctx: WriteContext): StatusCause[];
  /** Storage form → this version's form (events.k8s.io/v1 is stored as core/v1 Events). */
  toVersion?(stored: KubeObject): KubeObject;
  /** This version's form → storage form. */
  fromVersion?(obj: KubeObject): KubeObject;
  /** Finalizers besides metadata.finalizers that hold a deletion (a Namespace's spec.finalizers). */
  pendingFinalizers?(obj: KubeObject): boolean;
}

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

export interface ResourceType {
  group: string;
  version: string;
  /** Plural, the path segment. */
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** One store per group/resource, shared by every version that serves it. */
  storageKey: string;
  /** Custom resources: list items keep kind/apiVersion, no strategic merge patch, PUT needs an RV. */
  custom: boolean;
  statusSubresource: boolean;
  /** metadata.generation is kept and bumped on changes outside metadata (and status). */
  hasGeneration: boolean;
  /** PUT without metadata.resourceVersion is allowed (true for most built-ins; false for CRs). */
  allowUnconditionalUpdate: boolean;
  /** Field selector labels beyond metadata.name and metadata.namespace. */
  fieldLabels: Record<string, (obj: KubeObject) => string | undefined>;
  /** Printer columns for Table output; absent means Name + Age. */
  printerColumns?: PrinterColumn[];
  strategy: Strategy;
}

export const apiVersionOf = (t: { group: string; version: string }): string => (t.group === '' ? t.version : `${t.group}/${t.version}`);
export const storageKeyOf = (group: string, resource: string): string => `${group}/${resource}`;

export class Registry {
  private readonly types = new Map<string, ResourceType>();

  add(type: ResourceType): void {
    this.types.set(`${type.group}/${type.version}/${type.resource}`, type);
  }

  remove(group: string, version: string, resource: string): void {
    this.types.delete(`${group}/${version}/${resource}`);
  }

  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.get(`${group}/${version}/${resource}`);
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Every served version of a group/resource. */
  byStorageKey(key: string): ResourceType[] {
    return this.all().filter((t) => t.storageKey === key);
  }

  /** Groups in registration order (built-ins first, then CRD groups), versions by kube priority. */
  groups(): { name: string; versions: string[] }[] {
    const out = new Map<string, Set<string>>();
    for (const t of this.types.values()) {
      if (!out.has(t.group)) out.set(t.group, new Set());
      out.get(t.group)!.add(t.version);
    }
    return [...out].map(([name, versions]) => ({ name, versions: [...versions].sort(compareKubeVersions) }));
  }

  resources(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.version === version);
  }
}

/**
 * Kubernetes version priority (apimachinery `CompareKubeAwareVersionStrings`): GA before beta
 * before alpha, higher numbers first; non-kube names last, alphabetically. Negative means `a` first.
 */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (m === null) return undefined;
    const stability = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [stability, Number(m[1]), m[3] === undefined ? 0 : Number(m[3])];
  };
  const ra = rank(a);
  const rb = rank(b);
  if (ra === undefined && rb === undefined) return a < b ? -1 : a > b ? 1 : 0;
  if (ra === undefined) return 1;
  if (rb === undefined) return -1;
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i] - ra[i];
  return 0;
}
