/**
 * `/version`, `/api`, `/apis`, `/apis/{g}` and the per-version resource lists, computed from the
 * registry on every request so that a CRD appears the moment it is established (reference §3.12).
 * Aggregated discovery (`as=APIGroupDiscoveryList`) is not served: kubectl 1.30/1.33 accept the
 * plain documents and then fetch each group version, as the reference observed.
 */
import type { Registry, ResourceType } from './registry.ts';
import { apiVersionOf } from './registry.ts';
import type { JsonObject } from './types.ts';

/**
 * Kubernetes 1.30: every client in the reference is happy with it, and the cloud-SDK kubectl
 * dispatcher then runs kubectl 1.30 (it picks the minor matching the server).
 */
export const VERSION_INFO = {
  major: '1',
  minor: '30',
  gitVersion: 'v1.30.0',
  gitCommit: '7c48c2bd72b9bf5c44d21d7338cc7bea77d0ad2a',
  gitTreeState: 'clean',
  buildDate: '2024-04-17T17:27:25Z',
  goVersion: 'go1.22.2',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersions(serverAddress: string): JsonObject {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(name: string, versions: string[]): JsonObject {
  const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: entries, preferredVersion: entries[0] };
}

export function apiGroupList(registry: Registry): JsonObject {
  const groups = registry.groups().filter((g) => g.name !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => apiGroup(g.name, g.versions)) };
}

export function apiGroupDocument(registry: Registry, name: string): JsonObject | undefined {
  const group = registry.groups().find((g) => g.name === name && name !== '');
  return group === undefined ? undefined : { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group.name, group.versions) };
}

function resourceEntries(t: ResourceType): JsonObject[] {
  const main: JsonObject = { name: t.resource, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: VERBS };
  if (t.shortNames.length > 0) main.shortNames = t.shortNames;
  if (t.categories.length > 0) main.categories = t.categories;
  const out = [main];
  if (t.statusSubresource) out.push({ name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
  return out;
}

export function apiResourceList(registry: Registry, group: string, version: string): JsonObject | undefined {
  const types = registry.resources(group, version);
  if (types.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources: types.flatMap(resourceEntries) };
}
