// The api package is pure; its tests may still use the test runner.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { BALANCE_ALGORITHMS, BackendSchema, BackendSpec } from '../resources/backend.ts';
import { Mode } from '../resources/common.ts';
import { FrontendSpec } from '../resources/frontend.ts';
import { HealthPolicySpec } from '../resources/health-policy.ts';
import { applyDefaults, buildCrds, jsonSchemaToStructural, KINDS, structuralErrors, validate, zodToStructural } from './index.ts';
import type { CustomResourceDefinition, JSONSchemaProps } from './index.ts';

type Json = Record<string, unknown>;

const crds = buildCrds();
const byKind = (kind: string): CustomResourceDefinition => crds.find((c) => c.spec.names.kind === kind)!;
const rootOf = (kind: string): JSONSchemaProps => byKind(kind).spec.versions[0].schema.openAPIV3Schema;
const specOf = (kind: string): JSONSchemaProps => rootOf(kind).properties!.spec;
const zodSpecs: Record<string, z.ZodType> = { Frontend: FrontendSpec, Backend: BackendSpec, HealthPolicy: HealthPolicySpec };

/** Every schema node (not value-validation branches) with its path. */
function* nodes(s: JSONSchemaProps, path = ''): Generator<[string, JSONSchemaProps]> {
  yield [path || '<root>', s];
  for (const [k, v] of Object.entries(s.properties ?? {})) yield* nodes(v, `${path}.${k}`);
  if (s.items !== undefined) yield* nodes(s.items, `${path}[*]`);
  if (typeof s.additionalProperties === 'object') yield* nodes(s.additionalProperties, `${path}.*`);
}

/** Schema node at a dotted path such as `spec.binds[*].port`. */
function at(root: JSONSchemaProps, path: string): JSONSchemaProps | undefined {
  let node: JSONSchemaProps | undefined = root;
  for (const part of path.split('.')) {
    const m = /^([^[]+)((?:\[[^\]]*\])*)$/.exec(part);
    if (m === null || node === undefined) return undefined;
    node = node.properties?.[m[1]];
    for (let i = 0; i < (m[2].match(/\[/g) ?? []).length; i++) node = node?.items;
  }
  return node;
}

describe('generated CRDs: structural schema', () => {
  for (const crd of crds) {
    const root = crd.spec.versions[0].schema.openAPIV3Schema;
    it(`${crd.metadata.name} passes the structural checker`, () => {
      assert.deepEqual(structuralErrors(root), []);
    });

    it(`${crd.metadata.name}: every node is typed, nothing JSON-Schema-only is left`, () => {
      const text = JSON.stringify(root);
      for (const word of ['"$ref"', '"$schema"', '"$defs"', '"definitions"', '"const"', '"propertyNames"', 'x-kubernetes-preserve-unknown-fields']) {
        assert.ok(!text.includes(word), `${word} in the schema`);
      }
      for (const [path, s] of nodes(root)) {
        assert.ok(s.type !== undefined || s['x-kubernetes-int-or-string'] === true, `${path} has no type`);
        assert.ok(!(s.type !== undefined && s['x-kubernetes-int-or-string']), `${path} has type and int-or-string`);
        assert.ok(!(s.properties !== undefined && s.additionalProperties !== undefined), `${path}: properties with additionalProperties`);
        assert.notEqual(s.additionalProperties, false, `${path}: additionalProperties: false`);
        for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
          for (const b of s[key] ?? []) {
            for (const forbidden of ['type', 'properties', 'items', 'description', 'default', 'additionalProperties', 'nullable'] as const) {
              assert.equal(b[forbidden], undefined, `${path}.${key} branch sets ${forbidden}`);
            }
            for (const name of b.required ?? []) assert.ok(s.properties?.[name] !== undefined, `${path}.${key} requires unknown field ${name}`);
          }
        }
        if (s.type === 'array') assert.ok(s.items !== undefined, `${path} array without items`);
        for (const name of s.required ?? []) assert.ok(s.properties?.[name] !== undefined, `${path} requires unknown field ${name}`);
      }
    });

    it(`${crd.metadata.name}: top level is apiVersion, kind, metadata, spec, status`, () => {
      assert.equal(root.type, 'object');
      assert.deepEqual(Object.keys(root.properties!), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
      assert.deepEqual(root.properties!.apiVersion, { description: 'switchyard.dev/v1alpha1', type: 'string' });
      assert.equal(root.properties!.kind.type, 'string');
      assert.deepEqual(root.properties!.metadata, { type: 'object' });
      assert.deepEqual(root.required, ['spec']);
    });

    it(`${crd.metadata.name}: status conditions are a map keyed by type in the metav1.Condition shape`, () => {
      const conditions = root.properties!.status.properties!.conditions;
      assert.equal(conditions['x-kubernetes-list-type'], 'map');
      assert.deepEqual(conditions['x-kubernetes-list-map-keys'], ['type']);
      const item = conditions.items!;
      assert.deepEqual(Object.keys(item.properties!), ['type', 'status', 'reason', 'message', 'observedGeneration', 'lastTransitionTime']);
      assert.deepEqual([...item.required!].sort(), ['lastTransitionTime', 'message', 'reason', 'status', 'type']);
      assert.deepEqual(item.properties!.status.enum, ['True', 'False', 'Unknown']);
      assert.equal(item.properties!.observedGeneration.type, 'integer');
    });
  }

  it('Backend status reports server counts as integers', () => {
    const servers = rootOf('Backend').properties!.status.properties!.servers;
    assert.deepEqual(Object.keys(servers.properties!), ['total', 'up', 'down', 'maintenance']);
    for (const s of Object.values(servers.properties!)) assert.equal(s.type, 'integer');
    assert.equal(rootOf('Frontend').properties!.status.properties!.servers, undefined);
  });

  it('Backend status in the CRD is the one BackendSchema validates (one source of truth)', () => {
    const fromResource = BackendSchema.shape.status.unwrap();
    assert.equal(KINDS.find((k) => k.kind === 'Backend')!.status, fromResource);
    const status = { conditions: [], servers: { total: 3, up: 2, down: 1, maintenance: 0 } };
    assert.deepEqual(fromResource.parse(status), status);
    assert.equal(fromResource.safeParse({ servers: { total: -1 } }).success, false);
  });
});

describe('generated CRDs: names, versions, subresources, printer columns', () => {
  it('has one CRD per kind with the expected names', () => {
    assert.deepEqual(
      crds.map((c) => [c.metadata.name, c.spec.names.kind, c.spec.names.plural, c.spec.names.singular, c.spec.names.shortNames]),
      [
        ['frontends.switchyard.dev', 'Frontend', 'frontends', 'frontend', ['fe']],
        ['backends.switchyard.dev', 'Backend', 'backends', 'backend', ['be']],
        ['healthpolicies.switchyard.dev', 'HealthPolicy', 'healthpolicies', 'healthpolicy', ['hp']],
      ],
    );
    for (const c of crds) {
      assert.equal(c.apiVersion, 'apiextensions.k8s.io/v1');
      assert.equal(c.kind, 'CustomResourceDefinition');
      assert.equal(c.metadata.name, `${c.spec.names.plural}.${c.spec.group}`);
      assert.equal(c.spec.group, 'switchyard.dev');
      assert.equal(c.spec.scope, 'Namespaced');
      assert.equal(c.spec.names.listKind, `${c.spec.names.kind}List`);
      assert.deepEqual(c.spec.names.categories, ['switchyard']);
      assert.equal(c.spec.versions.length, 1);
      assert.equal(c.spec.versions.filter((v) => v.storage).length, 1);
      const [v] = c.spec.versions;
      assert.deepEqual([v.name, v.served, v.storage], ['v1alpha1', true, true]);
      assert.deepEqual(v.subresources, { status: {} });
    }
  });

  const columns = (kind: string) => byKind(kind).spec.versions[0].additionalPrinterColumns!;
  const visible = (kind: string) => columns(kind).filter((c) => !c.priority).map((c) => c.name);

  it('shows the useful columns in kubectl get', () => {
    assert.deepEqual(visible('Frontend'), ['Mode', 'Port', 'Default Backend', 'Accepted', 'Programmed', 'Age']);
    assert.deepEqual(visible('Backend'), ['Mode', 'Balance', 'Servers', 'Up', 'Accepted', 'Programmed', 'Age']);
    assert.deepEqual(visible('HealthPolicy'), ['Interval', 'Rise', 'Fall', 'Accepted', 'Programmed', 'Age']);
    // `kubectl get -o wide` adds what the Programmed condition says (`3/3 data planes`, or who rejected it).
    for (const kind of ['Frontend', 'Backend', 'HealthPolicy']) {
      assert.equal(columns(kind).find((c) => c.name === 'Data Planes')?.priority, 1, kind);
    }
    const col = (kind: string, name: string) => columns(kind).find((c) => c.name === name)!;
    assert.deepEqual(col('Frontend', 'Port'), { name: 'Port', type: 'integer', jsonPath: '.spec.binds[0].port', description: 'Port of the first bind.' });
    assert.equal(col('Frontend', 'Accepted').jsonPath, '.status.conditions[?(@.type=="Accepted")].status');
    assert.equal(col('Backend', 'Programmed').jsonPath, '.status.conditions[?(@.type=="Programmed")].status');
    assert.equal(col('Backend', 'Servers').jsonPath, '.status.servers.total');
    assert.equal(col('Backend', 'Up').jsonPath, '.status.servers.up');
    assert.equal(col('Frontend', 'Age').type, 'date');
  });

  it('every column points at a field the schema declares, with a matching type', () => {
    for (const c of crds) {
      const root = c.spec.versions[0].schema.openAPIV3Schema;
      for (const col of c.spec.versions[0].additionalPrinterColumns!) {
        if (col.jsonPath === '.metadata.creationTimestamp') {
          assert.equal(col.type, 'date');
          continue;
        }
        // .status.conditions[?(@.type=="X")].status → status.conditions[*].status
        const path = col.jsonPath.slice(1).replace(/\[\?\(@\.type=="\w+"\)\]/g, '[*]').replace(/\[\d+\]/g, '[*]');
        const node = at(root, path);
        assert.ok(node !== undefined, `${c.metadata.name} column ${col.name}: ${col.jsonPath} is not in the schema`);
        assert.equal(col.type, node.type, `${c.metadata.name} column ${col.name}`);
      }
    }
  });
});

/**
 * Walks zod's own JSON Schema next to the CRD's: same fields, same required fields outside
 * unions, every enum value present, same bounds.
 */
function agree(z: Json, crd: JSONSchemaProps, path: string, inUnion: boolean, problems: string[]): void {
  const union = (z.anyOf ?? z.oneOf) as Json[] | undefined;
  if (union !== undefined) {
    if (union.every((b) => Object.keys(b).length === 1 && 'required' in b)) {
      const rest = { ...z };
      delete rest.oneOf;
      delete rest.anyOf;
      assert.deepEqual(crd.oneOf ?? crd.anyOf, union, `${path}: value validation`);
      return agree(rest, crd, path, inUnion, problems);
    }
    if (union.every((b) => 'const' in b)) {
      const values = union.map((b) => b.const);
      if (!(crd.enum !== undefined && values.every((v) => crd.enum!.includes(v)))) problems.push(`${path}: literals ${values} not an enum`);
      return;
    }
    if (union.every((b) => b.type === 'object')) {
      if (crd.type !== 'object') problems.push(`${path}: union of objects is not an object`);
      for (const b of union) agree(b, crd, path, true, problems);
      return;
    }
    if (crd['x-kubernetes-int-or-string'] !== true) problems.push(`${path}: integer|string union is not int-or-string`);
    return;
  }
  if (z.type !== crd.type) problems.push(`${path}: type ${String(z.type)} vs ${crd.type}`);
  const values = 'const' in z ? [z.const] : (z.enum as unknown[] | undefined);
  for (const v of values ?? []) if (!crd.enum?.includes(v)) problems.push(`${path}: enum value ${JSON.stringify(v)} missing from the CRD`);
  if (!inUnion) {
    for (const key of ['minLength', 'maxLength', 'pattern', 'minItems', 'default'] as const) {
      if (JSON.stringify(z[key]) !== JSON.stringify(crd[key])) problems.push(`${path}: ${key} ${JSON.stringify(z[key])} vs ${JSON.stringify(crd[key])}`);
    }
    for (const key of ['minimum', 'maximum'] as const) {
      const zv = Math.abs(Number(z[key])) === Number.MAX_SAFE_INTEGER ? undefined : z[key];
      if (zv !== crd[key]) problems.push(`${path}: ${key} ${String(zv)} vs ${String(crd[key])}`);
    }
  }
  if (z.type === 'object') {
    const props = (z.properties ?? {}) as Record<string, Json>;
    for (const [name, p] of Object.entries(props)) {
      const c = crd.properties?.[name];
      if (c === undefined) problems.push(`${path}.${name}: missing from the CRD`);
      else agree(p, c, `${path}.${name}`, inUnion, problems);
    }
    const zr = [...((z.required as string[] | undefined) ?? [])].sort();
    const cr = [...(crd.required ?? [])].sort();
    if (inUnion) {
      for (const r of cr) if (!zr.includes(r)) problems.push(`${path}: CRD requires ${r}, which a branch does not`);
    } else if (JSON.stringify(zr) !== JSON.stringify(cr)) {
      problems.push(`${path}: required ${zr} vs ${cr}`);
    }
    if (!inUnion) for (const name of Object.keys(crd.properties ?? {})) if (!(name in props)) problems.push(`${path}.${name}: not in zod`);
  }
  if (z.type === 'array') agree(z.items as Json, crd.items!, `${path}[*]`, inUnion, problems);
}

describe('zod and the CRD agree', () => {
  for (const [kind, schema] of Object.entries(zodSpecs)) {
    it(`${kind}: same fields, required fields, enums, bounds and defaults`, () => {
      const problems: string[] = [];
      agree(z.toJSONSchema(schema, { io: 'input' }) as Json, specOf(kind), 'spec', false, problems);
      assert.deepEqual(problems, []);
    });
  }

  it('enums: balance algorithms, modes, redirect codes, rule actions', () => {
    const be = specOf('Backend').properties!;
    assert.deepEqual(be.balance.enum, [...BALANCE_ALGORITHMS]);
    assert.equal(be.balance.default, 'roundrobin');
    assert.deepEqual(be.mode.enum, Mode.options);
    assert.deepEqual(specOf('Frontend').properties!.mode.enum, Mode.options);
    const rule = specOf('Frontend').properties!.httpRequest.items!;
    assert.deepEqual(rule.required, ['action']);
    assert.deepEqual(rule.properties!.code, {
      description: 'For action redirect. Defaults to 302.',
      type: 'integer',
      enum: [301, 302, 303, 307, 308],
    });
    for (const a of ['set-header', 'deny', 'redirect', 'track-sc0', 'track-sc2', 'capture', 'allow']) assert.ok(rule.properties!.action.enum!.includes(a));
    assert.deepEqual(specOf('Frontend').properties!.tcpRequest.items!.properties!.action.enum, ['accept', 'reject', 'track-sc0', 'track-sc1', 'track-sc2']);
  });

  it('required: zod-required fields are CRD-required', () => {
    assert.deepEqual(specOf('Frontend').required, ['binds']);
    assert.equal(specOf('Frontend').properties!.binds.minItems, 1);
    assert.deepEqual(specOf('Backend').properties!.servers.items!.required, ['name', 'address', 'port']);
    assert.deepEqual(specOf('Backend').properties!.serviceRef.required, ['name', 'port']);
    assert.deepEqual(specOf('HealthPolicy').properties!.passive.required, ['observe']);
  });

  it('int-or-string: counts and service ports', () => {
    const size = specOf('Frontend').properties!.stickTable.properties!.size;
    assert.equal(size['x-kubernetes-int-or-string'], true);
    assert.equal(size.type, undefined);
    assert.equal(size.pattern, '^\\d+[kmg]?$');
    const port = specOf('Backend').properties!.serviceRef.properties!.port;
    assert.deepEqual([port['x-kubernetes-int-or-string'], port.minimum, port.maximum, port.minLength], [true, 1, 65535, 1]);
  });

  it('a rule field of only some actions carries no default (the API server would add it to every rule)', () => {
    const rule = specOf('Frontend').properties!.httpRequest.items!;
    for (const [name, p] of Object.entries(rule.properties!)) assert.equal(p.default, undefined, name);
    assert.match(rule.properties!.status.description!, /403 for deny, 200 for return/);
  });
});

const valid: Record<string, Json[]> = {
  Frontend: [
    { binds: [{ port: 80 }] },
    {
      mode: 'http',
      binds: [{ address: '::', port: 443, tls: { certificateRefs: [{ name: 'site' }], alpn: ['h2', 'http/1.1'], minVersion: 'TLSv1.2' }, acceptProxy: true }],
      vip: { address: '10.0.0.10', interface: 'eth0', priority: 150 },
      maxConnections: 10000,
      timeouts: { client: '1m30s', httpRequest: '5s' },
      forwardFor: { except: '127.0.0.0/8' },
      acls: [{ name: 'is_api', criterion: 'path_beg -i /api /v2' }],
      stickTable: { type: 'ip', size: '100k', expire: '30s', store: ['http_req_rate(10s)'] },
      httpRequest: [
        { action: 'track-sc0', key: 'src' },
        { action: 'deny', status: 429, if: '{ sc_http_req_rate(0) gt 100 }' },
        { action: 'deny' },
        { action: 'return', body: 'ok', contentType: 'text/plain' },
        { action: 'redirect', scheme: 'https', unless: '{ ssl_fc }' },
        { action: 'redirect', location: '/new', code: 301 },
        { action: 'set-header', name: 'X-Client', value: '%[src]' },
        { action: 'del-header', name: 'X-Internal' },
        { action: 'capture', sample: 'req.hdr(host)', length: 64 },
        { action: 'set-path', value: '/v2%[path]' },
        { action: 'allow', if: 'is_api' },
      ],
      httpResponse: [{ action: 'add-header', name: 'X-Served-By', value: 'switchyard' }],
      useBackends: [{ backend: 'api', if: 'is_api' }],
      defaultBackend: { name: 'web' },
      log: { format: '%ci:%cp %ST %B' },
    },
    { mode: 'tcp', binds: [{ port: 5432 }], stickTable: { type: 'ip', size: 1000 }, tcpRequest: [{ action: 'track-sc1', key: 'src' }, { action: 'reject', if: '{ sc_conn_cur(1) gt 10 }' }, { action: 'accept' }] },
  ],
  Backend: [
    {},
    {
      mode: 'http',
      balance: 'uri',
      hashType: 'consistent',
      uriHash: { depth: 2, whole: true },
      servers: [
        { name: 'web-1', address: '10.0.0.1', port: 8080, weight: 256, maxConnections: 100, slowStart: '30s', cookie: 's1' },
        { name: 'web_2.b', address: 'web-2.default.svc', port: 8080, backup: true, tls: { verify: false, caSecretRef: { name: 'ca' } }, proxyProtocol: 'v2' },
      ],
      healthPolicyRef: { name: 'http-check' },
      persistence: {
        cookie: { name: 'SRV', mode: 'insert', indirect: true, nocache: true, maxIdle: '30m' },
        stick: { on: 'req.cook(JSESSIONID)', storeResponse: 'res.cook(JSESSIONID)', table: { type: 'string', length: 32, size: '1m', expire: '8h' }, replicate: true },
      },
      timeouts: { connect: '500ms', server: '1m', queue: '10s' },
      retries: 0,
      redispatch: true,
      forwardFor: { header: 'X-Real-IP' },
      httpReuse: 'always',
    },
    { mode: 'tcp', balance: 'leastconn', serviceRef: { name: 'db', port: 'postgres' } },
    { balance: 'random', randomDraws: 3, serviceRef: { name: 'web', port: 8080 } },
  ],
  HealthPolicy: [
    { tcp: {} },
    { interval: '5s', rise: 1, fall: 1, port: 8081, tcp: { send: 'PING\\r\\n', expect: '+PONG' } },
    {
      http: { method: 'HEAD', path: '/healthz', host: 'example.com', headers: [{ name: 'X-Check', value: '1' }], expect: { status: [200, 204], header: { name: 'X-Ok', contains: 'y' } } },
      passive: { observe: 'layer7', onError: 'mark-down' },
    },
    { mysql: { user: 'haproxy' } },
    { pgsql: { user: 'haproxy' } },
    { redis: {} },
  ],
};

const invalid: Record<string, [string, Json][]> = {
  Frontend: [
    ['no binds', {}],
    ['empty binds', { binds: [] }],
    ['port 0', { binds: [{ port: 0 }] }],
    ['port 70000', { binds: [{ port: 70000 }] }],
    ['mode udp', { mode: 'udp', binds: [{ port: 53 }] }],
    ['unknown action', { binds: [{ port: 80 }], httpRequest: [{ action: 'teleport' }] }],
    ['rule without action', { binds: [{ port: 80 }], httpRequest: [{ name: 'X' }] }],
    ['redirect code 300', { binds: [{ port: 80 }], httpRequest: [{ action: 'redirect', location: '/', code: 300 }] }],
    ['deny status 700', { binds: [{ port: 80 }], httpRequest: [{ action: 'deny', status: 700 }] }],
    ['bad count', { binds: [{ port: 80 }], stickTable: { type: 'ip', size: '10x' } }],
    ['negative count', { binds: [{ port: 80 }], stickTable: { type: 'ip', size: -1 } }],
    ['bad duration', { binds: [{ port: 80 }], timeouts: { client: '30 seconds' } }],
    ['unknown field', { binds: [{ port: 80 }], frontendName: 'x' }],
    ['empty certificateRefs', { binds: [{ port: 443, tls: { certificateRefs: [] } }] }],
  ],
  Backend: [
    ['balance fastest', { balance: 'fastest' }],
    ['weight 300', { servers: [{ name: 'a', address: 'x', port: 80, weight: 300 }] }],
    ['server name with a leading dash', { servers: [{ name: '-a', address: 'x', port: 80 }] }],
    ['server without address', { servers: [{ name: 'a', port: 80 }] }],
    ['service port 0', { serviceRef: { name: 'svc', port: 0 } }],
    ['empty service port name', { serviceRef: { name: 'svc', port: '' } }],
    ['cookie mode', { persistence: { cookie: { name: 'S', mode: 'append' } } }],
    ['stick table type', { persistence: { stick: { on: 'src', table: { type: 'ipv4', size: 10 } } } }],
    ['retries 101', { retries: 101 }],
    ['randomDraws 0', { randomDraws: 0 }],
    ['fractional weight', { servers: [{ name: 'a', address: 'x', port: 80, weight: 1.5 }] }],
  ],
  HealthPolicy: [
    ['no probe', {}],
    ['two probes', { tcp: {}, http: {} }],
    ['rise 0', { rise: 0, tcp: {} }],
    ['interval 2', { interval: '2', tcp: {} }],
    ['lower-case method', { http: { method: 'get' } }],
    ['path without slash', { http: { path: 'healthz' } }],
    ['status range', { http: { expect: { statusRange: '200-600' } } }],
    ['observe layer5', { tcp: {}, passive: { observe: 'layer5' } }],
  ],
};

/**
 * zod rejects these, the CRD cannot: a discriminated union becomes one object, so an action's own
 * required fields and foreign fields are the controller's to report (Accepted=False).
 */
const knownGaps: [string, Json][] = [
  ['set-header without name', { binds: [{ port: 80 }], httpRequest: [{ action: 'set-header', value: 'v' }] }],
  ['deny with a redirect code', { binds: [{ port: 80 }], httpRequest: [{ action: 'deny', code: 301 }] }],
  ['capture without length', { binds: [{ port: 80 }], httpRequest: [{ action: 'capture', sample: 'src' }] }],
];

describe('zod and the CRD judge sample specs alike', () => {
  for (const [kind, samples] of Object.entries(valid)) {
    samples.forEach((sample, i) => {
      it(`${kind} sample ${i} is valid for both, and CRD defaulting agrees with zod's`, () => {
        const crd = specOf(kind);
        const parsed = zodSpecs[kind].safeParse(sample);
        assert.ok(parsed.success, `zod: ${parsed.error?.message}`);
        const defaulted = applyDefaults(crd, sample);
        assert.deepEqual(validate(crd, sample, 'spec'), []);
        assert.deepEqual(validate(crd, defaulted, 'spec'), []);
        // The API server's defaults, then zod's: nothing left for zod to add, nothing it rejects.
        const again = zodSpecs[kind].safeParse(defaulted);
        assert.ok(again.success, `zod after CRD defaulting: ${again.error?.message}`);
        assert.deepEqual(again.data, parsed.data);
      });
    });
  }
  for (const [kind, samples] of Object.entries(invalid)) {
    for (const [name, sample] of samples) {
      it(`${kind}: ${name} is invalid for both`, () => {
        assert.equal(zodSpecs[kind].safeParse(sample).success, false, 'zod accepted it');
        assert.notDeepEqual(validate(specOf(kind), applyDefaults(specOf(kind), sample), 'spec'), [], 'the CRD accepted it');
      });
    }
  }
  for (const [name, sample] of knownGaps) {
    it(`known gap, left to the controller: Frontend ${name}`, () => {
      assert.equal(FrontendSpec.safeParse(sample).success, false);
      assert.deepEqual(validate(specOf('Frontend'), sample, 'spec'), []);
    });
  }
  it('the whole object: spec is required, status is validated', () => {
    const root = rootOf('Backend');
    assert.deepEqual(validate(root, { apiVersion: 'switchyard.dev/v1alpha1', kind: 'Backend', metadata: { name: 'web' } }), ['.spec: Required value']);
    const condition = { type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };
    assert.deepEqual(validate(root, { spec: {}, status: { conditions: [condition], servers: { total: 3, up: 2, down: 1, maintenance: 0 } } }), []);
    assert.notDeepEqual(validate(root, { spec: {}, status: { conditions: [{ ...condition, status: 'Yes' }] } }), []);
  });
});

describe('the converter', () => {
  it('inlines $ref and drops $schema and additionalProperties: false', () => {
    const out = jsonSchemaToStructural({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { a: { $ref: '#/$defs/Ref', description: 'here' }, b: { $ref: '#/$defs/Ref' } },
      additionalProperties: false,
      $defs: { Ref: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false, description: 'there' } },
    });
    const ref = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    assert.deepEqual(out, { type: 'object', properties: { a: { description: 'here', ...ref }, b: { description: 'there', ...ref } } });
  });

  it('turns records into additionalProperties and drops safe-integer bounds', () => {
    assert.deepEqual(zodToStructural(z.record(z.string(), z.string())), { type: 'object', additionalProperties: { type: 'string' } });
    assert.deepEqual(zodToStructural(z.number().int()), { type: 'integer' });
    assert.deepEqual(zodToStructural(z.number().int().positive()), { type: 'integer', minimum: 1 });
    assert.deepEqual(zodToStructural(z.number().positive()), { type: 'number', minimum: 0, exclusiveMinimum: true });
  });

  it('turns literal unions into enums and nullable into nullable', () => {
    assert.deepEqual(zodToStructural(z.union([z.literal(1), z.literal(2)]).default(1)), { type: 'integer', enum: [1, 2], default: 1 });
    assert.deepEqual(zodToStructural(z.union([z.literal('a'), z.literal('b')])), { type: 'string', enum: ['a', 'b'] });
    assert.deepEqual(zodToStructural(z.string().nullable()), { type: 'string', nullable: true });
    assert.deepEqual(zodToStructural(z.union([z.number().int(), z.string()])), { 'x-kubernetes-int-or-string': true });
    assert.deepEqual(zodToStructural(z.union([z.number().int().min(0), z.string()]).describe('n')), { description: 'n', 'x-kubernetes-int-or-string': true, minimum: 0 });
  });

  it('refuses what a structural schema cannot say', () => {
    assert.throws(() => zodToStructural(z.union([z.string(), z.boolean()])), /type \["string","boolean"\] has no structural equivalent/);
    assert.throws(() => zodToStructural(z.union([z.string().min(1), z.boolean()])), /union of "string" \| "boolean"/);
    assert.throws(() => zodToStructural(z.object({ a: z.union([z.object({ x: z.string() }), z.object({ y: z.string() })]) })), /\.a: a union of objects without a discriminator/);
    assert.throws(() => zodToStructural(z.tuple([z.string(), z.number()])), /CRD schema at/);
    type Tree = { children: Tree[] };
    const Tree: z.ZodType<Tree> = z.lazy(() => z.object({ children: z.array(Tree) }));
    assert.throws(() => zodToStructural(Tree), /recursive \$ref/);
  });

  it('the checker catches what is not structural', () => {
    const bad = (schema: JSONSchemaProps, pattern: RegExp) =>
      assert.ok(structuralErrors({ type: 'object', properties: { f: schema } }).some((e) => pattern.test(e)), JSON.stringify(schema));
    bad({}, /needs a type/);
    bad({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } }, /exclusive/);
    bad({ type: 'object', additionalProperties: false }, /must be a schema/);
    bad({ type: 'string', anyOf: [{ type: 'string' } as JSONSchemaProps] }, /type is not allowed in a value validation/);
    bad({ type: 'object', properties: { a: { type: 'string' } }, oneOf: [{ required: ['b'] }] }, /required field b is not a property/);
    bad({ type: 'string', pattern: '^(?!x)' }, /lookaround/);
    bad({ type: 'integer', default: 'x' }, /default "x" is invalid/);
    bad({ type: 'string', enum: ['a', 1] }, /enum value 1/);
    bad({ type: 'array', items: { type: 'object', properties: { k: { type: 'string' } } }, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'] }, /must be required or defaulted/);
    bad({ type: 'string', 'x-kubernetes-int-or-string': true }, /exclusive/);
    bad({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true } as JSONSchemaProps, /not allowed/);
    assert.deepEqual(structuralErrors({ type: 'object', properties: { f: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } } }), []);
  });

  it('KINDS lists every resource kind of the api', () => {
    assert.deepEqual(
      KINDS.map((k) => k.kind),
      ['Frontend', 'Backend', 'HealthPolicy'],
    );
  });
});
