/**
 * Built-in types the product and its tools touch (reference §3.15): Namespace, Secret, Service,
 * EndpointSlice, core/v1 and events.k8s.io/v1 Event, Lease; plus store-only types that charts and
 * `kubectl describe` reach for (ConfigMap, ServiceAccount, Pod, Deployment, ReplicaSet, RBAC).
 * Only rules that catch real client bugs are enforced (MicroTime precision, Secret base64, names);
 * there is no defaulting beyond what clients read back (Service clusterIP, Namespace phase).
 */
import { badRequest, fieldError } from './errors.ts';
import type { StatusCause } from './errors.ts';
import { validateName } from './meta.ts';
import type { NameRule } from './meta.ts';
import type { PrinterColumn, Registry, ResourceType, Strategy } from './registry.ts';
import { storageKeyOf } from './registry.ts';
import type { FieldGetter } from './selectors.ts';
import type { JsonObject, KubeObject } from './types.ts';
import { clone, isObject, jsonEqual } from './types.ts';

interface BuiltinSpec {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  statusSubresource?: boolean;
  hasGeneration?: boolean;
  nameRule?: NameRule;
  fieldLabels?: Record<string, FieldGetter>;
  strategy?: Strategy;
  /** Storage shared with another group/resource (events.k8s.io/v1 events live with core events). */
  storageKey?: string;
  /** Table columns after Name (default: Age). */
  printerColumns?: PrinterColumn[];
}

/** Wraps a strategy so that metadata.name follows the type's naming rule. */
function withNameRule(rule: NameRule, strategy: Strategy): Strategy {
  return {
    ...strategy,
    validate: (obj, old, ctx) => [...validateName(obj.metadata.name ?? '', rule), ...(strategy.validate?.(obj, old, ctx) ?? [])],
  };
}

export function builtinType(spec: BuiltinSpec): ResourceType {
  const singular = spec.kind.toLowerCase();
  return {
    group: spec.group,
    version: spec.version,
    resource: spec.resource,
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    singular,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    namespaced: spec.namespaced,
    storageKey: spec.storageKey ?? storageKeyOf(spec.group, spec.resource),
    custom: false,
    statusSubresource: spec.statusSubresource ?? false,
    hasGeneration: spec.hasGeneration ?? false,
    allowUnconditionalUpdate: true,
    fieldLabels: spec.fieldLabels ?? {},
    printerColumns: spec.printerColumns,
    strategy: withNameRule(spec.nameRule ?? 'subdomain', spec.strategy ?? {}),
  };
}

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
const get = (obj: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), obj);

// ---- MicroTime (Lease, Event): exactly six fractional digits, or the Go decoder fails (reference §0.7).

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$/;

function checkMicroTimes(obj: KubeObject, kind: string, version: string, paths: string[]): void {
  for (const path of paths) {
    const v = get(obj, path);
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !MICRO_TIME.test(v)) {
      const frac = typeof v === 'string' ? (/\.\d*[^.]*$/.exec(v)?.[0] ?? v.slice(19)) : String(v);
      throw badRequest(
        `${kind} in version "${version}" cannot be handled as a ${kind}: parsing time ${JSON.stringify(String(v))} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${JSON.stringify(frac)} as ".000000"`,
      );
    }
  }
}

// ---- Namespace: `spec.finalizers: [kubernetes]` holds the deletion until the namespace is empty.

const namespaceStrategy: Strategy = {
  prepareCreate(obj) {
    const spec = (obj.spec ??= {}) as JsonObject;
    if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
    obj.status = { phase: 'Active' };
  },
  prepareUpdate(obj, old) {
    // spec.finalizers only change through /finalize (the namespace controller, here controllers.ts).
    obj.spec = clone(old.spec ?? {});
  },
  pendingFinalizers: (obj) => ((get(obj, 'spec.finalizers') as unknown[] | undefined) ?? []).length > 0,
};

// ---- Secret: data is base64; stringData is merged into data on write; type defaults and is immutable.

const secretStrategy: Strategy = {
  decode(obj) {
    const data = (obj.data ?? {}) as JsonObject;
    if (!isObject(data)) throw badRequest('json: cannot unmarshal into Go struct field Secret.data of type map[string][]uint8');
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0)
        throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (key ${JSON.stringify(k)})`);
    }
    if (isObject(obj.stringData)) {
      const merged: JsonObject = { ...data };
      for (const [k, v] of Object.entries(obj.stringData)) merged[k] = Buffer.from(String(v), 'utf8').toString('base64');
      obj.data = merged;
    }
    delete obj.stringData;
    if (obj.type === undefined || obj.type === '') obj.type = 'Opaque';
  },
  validate(obj, old) {
    const errors: StatusCause[] = [];
    const size = Object.values((obj.data ?? {}) as Record<string, string>).reduce((n, v) => n + Buffer.from(v, 'base64').length, 0);
    if (size > 1024 * 1024) errors.push({ reason: 'FieldValueTooLong', message: 'Too long: must have at most 1048576 bytes', field: 'data' });
    if (old !== undefined) {
      if (old.type !== obj.type) errors.push(fieldError.invalid('type', obj.type, 'field is immutable'));
      if (old.immutable === true && !jsonEqual(old.data, obj.data)) errors.push(fieldError.forbidden('data', 'field is immutable when `immutable` is set'));
    }
    return errors;
  },
};

// ---- Service: type, clusterIP and port defaults; allocated values survive updates that omit them.

let nextClusterIp = 1;
const allocateClusterIp = (): string => `10.96.${Math.floor(nextClusterIp / 250)}.${(nextClusterIp++ % 250) + 1}`;

function defaultServicePorts(spec: JsonObject): void {
  if (!Array.isArray(spec.ports)) return;
  for (const p of spec.ports) {
    if (!isObject(p)) continue;
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined) p.targetPort = p.port;
  }
}

const serviceStrategy: Strategy = {
  prepareCreate(obj) {
    const spec = (obj.spec ??= {}) as JsonObject;
    spec.type ??= 'ClusterIP';
    if (spec.type !== 'ExternalName') {
      spec.clusterIP ??= allocateClusterIp();
      spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
    }
    spec.sessionAffinity ??= 'None';
    defaultServicePorts(spec);
    obj.status = { loadBalancer: {} };
  },
  prepareUpdate(obj, old) {
    const spec = (obj.spec ??= {}) as JsonObject;
    const oldSpec = (old.spec ?? {}) as JsonObject;
    // Upstream's patchAllocatedValues: an update that leaves out the allocated IP keeps it.
    for (const k of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy']) if (spec[k] === undefined && oldSpec[k] !== undefined) spec[k] = clone(oldSpec[k]);
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    defaultServicePorts(spec);
  },
  validate(obj, old) {
    const errors: StatusCause[] = [];
    const spec = (obj.spec ?? {}) as JsonObject;
    const ports = Array.isArray(spec.ports) ? spec.ports : [];
    if (ports.length === 0 && spec.type !== 'ExternalName' && spec.clusterIP !== 'None') errors.push(fieldError.required('spec.ports'));
    ports.forEach((p, i) => {
      const port = isObject(p) ? p.port : undefined;
      if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535)
        errors.push(fieldError.invalid(`spec.ports[${i}].port`, port, 'must be between 1 and 65535, inclusive'));
    });
    if (old !== undefined) {
      const was = (old.spec as JsonObject | undefined)?.clusterIP;
      if (was !== undefined && spec.clusterIP !== was && spec.type !== 'ExternalName') errors.push(fieldError.invalid('spec.clusterIPs[0]', spec.clusterIP, 'may not change once set'));
    }
    return errors;
  },
};

// ---- Events: core/v1 is the storage form; events.k8s.io/v1 is converted (reference §2.4).

const coreEventFields: Record<string, FieldGetter> = {
  ...Object.fromEntries(
    ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map((f) => [`involvedObject.${f}`, (o: KubeObject) => str(get(o, `involvedObject.${f}`))]),
  ),
  reason: (o) => str(o.reason),
  reportingComponent: (o) => str(o.reportingComponent),
  source: (o) => str(get(o, 'source.component')),
  type: (o) => str(o.type),
};

const coreEventStrategy: Strategy = {
  decode: (obj) => checkMicroTimes(obj, 'Event', 'v1', ['eventTime', 'series.lastObservedTime']),
  validate(obj) {
    const errors: StatusCause[] = [];
    const ns = get(obj, 'involvedObject.namespace');
    if (typeof ns === 'string' && ns !== '' && ns !== obj.metadata.namespace)
      errors.push(fieldError.invalid('involvedObject.namespace', ns, 'does not match event.namespace'));
    if (obj.type !== undefined && obj.type !== 'Normal' && obj.type !== 'Warning') errors.push(fieldError.notSupported('type', obj.type, ['Normal', 'Warning']));
    return errors;
  },
};

/** events.k8s.io/v1 field name → core/v1 field name. */
const EVENT_FIELD_MAP: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['reportingController', 'reportingComponent'],
];
const SHARED_EVENT_FIELDS = ['metadata', 'eventTime', 'series', 'related', 'action', 'reason', 'type', 'reportingInstance'];

function renameFields(obj: KubeObject, pairs: [string, string][]): KubeObject {
  const out: KubeObject = { metadata: clone(obj.metadata) };
  for (const k of SHARED_EVENT_FIELDS) if (k !== 'metadata' && obj[k] !== undefined) out[k] = clone(obj[k]);
  for (const [from, to] of pairs) if (obj[from] !== undefined) out[to] = clone(obj[from]);
  if (isObject(out.series) && isObject(obj.series)) {
    // core/v1 EventSeries has count + lastObservedTime, like events.k8s.io/v1.
    out.series = clone(obj.series);
  }
  return out;
}

const eventsV1Strategy: Strategy = {
  decode: (obj) => checkMicroTimes(obj, 'Event', 'v1', ['eventTime', 'series.lastObservedTime']),
  fromVersion: (obj) => renameFields(obj, EVENT_FIELD_MAP),
  toVersion: (stored) => renameFields(stored, EVENT_FIELD_MAP.map(([a, b]) => [b, a])),
  validate(obj) {
    // Runs on the storage (core) form; the field names in messages are events.k8s.io/v1's.
    const errors: StatusCause[] = [];
    if (obj.eventTime === undefined) errors.push(fieldError.required('eventTime'));
    if (!obj.reportingComponent) errors.push(fieldError.required('reportingController'));
    if (!obj.reportingInstance) errors.push(fieldError.required('reportingInstance'));
    if (!obj.action) errors.push(fieldError.required('action'));
    if (!obj.reason) errors.push(fieldError.required('reason'));
    if (obj.type !== 'Normal' && obj.type !== 'Warning') errors.push(fieldError.notSupported('type', obj.type ?? '', ['Normal', 'Warning']));
    return errors;
  },
};

// ---- Lease: MicroTimes, positive duration.

const leaseStrategy: Strategy = {
  decode: (obj) => checkMicroTimes(obj, 'Lease', 'v1', ['spec.acquireTime', 'spec.renewTime']),
  validate(obj) {
    const errors: StatusCause[] = [];
    const d = get(obj, 'spec.leaseDurationSeconds');
    if (d !== undefined && d !== null && (!Number.isInteger(d) || (d as number) <= 0)) errors.push(fieldError.invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
    const t = get(obj, 'spec.leaseTransitions');
    if (t !== undefined && t !== null && (!Number.isInteger(t) || (t as number) < 0)) errors.push(fieldError.invalid('spec.leaseTransitions', t, 'must be greater than or equal to 0'));
    return errors;
  },
};

// ---- EndpointSlice: the fields the controller reads must be well formed.

const endpointSliceStrategy: Strategy = {
  validate(obj, old) {
    const errors: StatusCause[] = [];
    const addressType = obj.addressType;
    if (addressType === undefined) errors.push(fieldError.required('addressType'));
    else if (!['IPv4', 'IPv6', 'FQDN'].includes(addressType as string)) errors.push(fieldError.notSupported('addressType', addressType, ['IPv4', 'IPv6', 'FQDN']));
    if (old !== undefined && old.addressType !== addressType) errors.push(fieldError.invalid('addressType', addressType, 'field is immutable'));
    const endpoints = Array.isArray(obj.endpoints) ? obj.endpoints : [];
    endpoints.forEach((e, i) => {
      const addresses = isObject(e) && Array.isArray(e.addresses) ? e.addresses : [];
      if (addresses.length === 0) errors.push(fieldError.required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
      if (addresses.length > 100) errors.push(fieldError.tooMany(`endpoints[${i}].addresses`, addresses.length, 100));
    });
    const ports = Array.isArray(obj.ports) ? obj.ports : [];
    ports.forEach((p, i) => {
      const port = isObject(p) ? p.port : undefined;
      if (port !== undefined && port !== null && (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535))
        errors.push(fieldError.invalid(`ports[${i}].port`, port, 'must be between 1 and 65535, inclusive'));
    });
    return errors;
  },
};

/** Some of kubectl's usual columns, where a JSONPath can express them (the rest show Name and Age). */
const column = (name: string, jsonPath: string, type = 'string'): PrinterColumn => ({ name, type, jsonPath });
const AGE = column('Age', '.metadata.creationTimestamp', 'date');
const COLUMNS: Record<string, PrinterColumn[]> = {
  namespaces: [column('Status', '.status.phase'), AGE],
  services: [column('Type', '.spec.type'), column('Cluster-IP', '.spec.clusterIP'), AGE],
  events: [column('Last Seen', '.lastTimestamp', 'date'), column('Type', '.type'), column('Reason', '.reason'), column('Object', '.involvedObject.name'), column('Message', '.message')],
  secrets: [column('Type', '.type'), AGE],
  leases: [column('Holder', '.spec.holderIdentity'), AGE],
  endpointslices: [column('AddressType', '.addressType'), AGE],
};

export function registerBuiltins(registry: Registry): void {
  const core = (s: Omit<BuiltinSpec, 'group' | 'version'>): void => registry.add(builtinType({ group: '', version: 'v1', printerColumns: COLUMNS[s.resource], ...s }));
  core({ resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true, nameRule: 'label', strategy: namespaceStrategy, fieldLabels: { 'status.phase': (o) => str(get(o, 'status.phase')) } });
  core({ resource: 'secrets', kind: 'Secret', namespaced: true, strategy: secretStrategy, fieldLabels: { type: (o) => str(o.type) } });
  core({ resource: 'services', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], statusSubresource: true, nameRule: 'label', strategy: serviceStrategy });
  core({ resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'], strategy: coreEventStrategy, fieldLabels: coreEventFields });
  core({ resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] });
  core({ resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'] });
  core({ resource: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'], statusSubresource: true, fieldLabels: { 'spec.nodeName': (o) => str(get(o, 'spec.nodeName')), 'status.phase': (o) => str(get(o, 'status.phase')) } });
  core({ resource: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'] });

  registry.add(
    builtinType({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true, hasGeneration: true, strategy: endpointSliceStrategy, printerColumns: COLUMNS.endpointslices }),
  );
  registry.add(
    builtinType({ group: 'events.k8s.io', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'], storageKey: storageKeyOf('', 'events'), strategy: eventsV1Strategy }),
  );
  registry.add(builtinType({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true, strategy: leaseStrategy, printerColumns: COLUMNS.leases }));
  for (const [resource, kind, shortNames] of [
    ['deployments', 'Deployment', ['deploy']],
    ['replicasets', 'ReplicaSet', ['rs']],
  ] as const)
    registry.add(builtinType({ group: 'apps', version: 'v1', resource, kind, namespaced: true, shortNames: [...shortNames], categories: ['all'], statusSubresource: true, hasGeneration: true }));
  for (const [resource, kind, namespaced] of [
    ['roles', 'Role', true],
    ['rolebindings', 'RoleBinding', true],
    ['clusterroles', 'ClusterRole', false],
    ['clusterrolebindings', 'ClusterRoleBinding', false],
  ] as const)
    registry.add(builtinType({ group: 'rbac.authorization.k8s.io', version: 'v1', resource, kind, namespaced, nameRule: 'path-segment' }));
}

/** The namespaces every cluster starts with. */
export const SEED_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
/** Namespaces that may not be deleted. */
export const UNDELETABLE_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
