import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareAddresses, resolveEndpoints } from './endpoints.ts';
import { projectService, projectSlice, secretValue } from './projection.ts';
import type { ServiceView, SliceView } from './projection.ts';

interface SliceInput {
  name: string;
  service?: string;
  addressType?: string;
  ports?: unknown[];
  endpoints?: unknown[];
  namespace?: string;
}

function slice(s: SliceInput): SliceView {
  const labels = s.service === undefined ? {} : { 'kubernetes.io/service-name': s.service };
  const view = projectSlice({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: s.namespace ?? 'shop', name: s.name, labels },
    addressType: s.addressType ?? 'IPv4',
    ports: s.ports ?? [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: s.endpoints ?? [],
  });
  assert.ok(view, `slice ${s.name} projects`);
  return view;
}

function service(ports: unknown[], name = 'web', namespace = 'shop'): ServiceView {
  const view = projectService({ apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec: { ports } });
  assert.ok(view);
  return view;
}

const ep = (address: string, ready?: boolean | null) => (ready === undefined ? { addresses: [address] } : { addresses: [address], conditions: { ready } });
const HTTP = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }];

test('ready and missing-ready endpoints are used; ready: false is skipped (null counts as ready, like kube-proxy)', () => {
  const s = slice({ name: 'web-1', service: 'web', endpoints: [ep('10.0.0.1', true), ep('10.0.0.2', false), ep('10.0.0.3'), ep('10.0.0.4', null)] });
  assert.deepEqual(resolveEndpoints(service(HTTP), [s]), [
    { address: '10.0.0.1', port: 8080, name: 'http', servicePort: 80 },
    { address: '10.0.0.3', port: 8080, name: 'http', servicePort: 80 },
    { address: '10.0.0.4', port: 8080, name: 'http', servicePort: 80 },
  ]);
});

test('several slices of one Service are merged, de-duplicated and sorted numerically', () => {
  const a = slice({ name: 'web-a', service: 'web', endpoints: [ep('10.0.0.10'), ep('10.0.0.2')] });
  const b = slice({ name: 'web-b', service: 'web', endpoints: [ep('10.0.0.9'), ep('10.0.0.2')] }); // 10.0.0.2 moved slices
  const other = slice({ name: 'api-a', service: 'api', endpoints: [ep('10.9.9.9')] });
  assert.deepEqual(
    resolveEndpoints(service(HTTP), [b, other, a]).map((e) => e.address),
    ['10.0.0.2', '10.0.0.9', '10.0.0.10'],
  );
});

test('slices of a same-named Service in another namespace are not used', () => {
  const elsewhere = slice({ name: 'web-x', service: 'web', namespace: 'other', endpoints: [ep('10.1.1.1')] });
  assert.deepEqual(resolveEndpoints(service(HTTP), [elsewhere]), []);
});

test('named ports map to the Service port of the same name; unnamed single port; unknown names skipped', () => {
  const svc = service([
    { name: 'http', port: 80, targetPort: 'web' },
    { name: 'admin', port: 9000, targetPort: 9001 },
  ]);
  const s = slice({
    name: 'web-1',
    service: 'web',
    ports: [
      { name: 'http', port: 8080 },
      { name: 'admin', port: 9001 },
      { name: 'renamed-away', port: 7000 }, // the Service no longer has this port (stale slice)
    ],
    endpoints: [ep('10.0.0.1')],
  });
  assert.deepEqual(resolveEndpoints(svc, [s]), [
    { address: '10.0.0.1', port: 8080, name: 'http', servicePort: 80 },
    { address: '10.0.0.1', port: 9001, name: 'admin', servicePort: 9000 },
  ]);

  const single = service([{ port: 443, targetPort: 8443 }]);
  const unnamed = slice({ name: 'web-2', service: 'web', ports: [{ port: 8443 }], endpoints: [ep('10.0.0.5')] });
  assert.deepEqual(resolveEndpoints(single, [unnamed]), [{ address: '10.0.0.5', port: 8443, servicePort: 443 }]);
});

test('two Service ports on one target port give one endpoint per port name', () => {
  const svc = service([
    { name: 'http', port: 80, targetPort: 8080 },
    { name: 'alt', port: 8000, targetPort: 8080 },
  ]);
  const s = slice({ name: 'w', service: 'web', ports: [{ name: 'http', port: 8080 }, { name: 'alt', port: 8080 }], endpoints: [ep('10.0.0.1')] });
  assert.deepEqual(resolveEndpoints(svc, [s]), [
    { address: '10.0.0.1', port: 8080, name: 'alt', servicePort: 8000 },
    { address: '10.0.0.1', port: 8080, name: 'http', servicePort: 80 },
  ]);
});

test('dual stack: the IPv4 and the IPv6 slice both count, IPv4 first', () => {
  const v4 = slice({ name: 'web-v4', service: 'web', endpoints: [ep('10.0.0.1')] });
  const v6 = slice({ name: 'web-v6', service: 'web', addressType: 'IPv6', endpoints: [ep('fd00::2'), ep('fd00::1')] });
  assert.deepEqual(
    resolveEndpoints(service(HTTP), [v6, v4]).map((e) => e.address),
    ['10.0.0.1', 'fd00::1', 'fd00::2'],
  );
});

test('UDP ports, portless ports and FQDN slices are ignored; only the first address of an endpoint is used', () => {
  const svc = service([
    { name: 'http', port: 80, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ]);
  assert.deepEqual(svc.ports, [{ name: 'http', port: 80 }]);
  const s = slice({
    name: 'w',
    service: 'web',
    ports: [{ name: 'http', port: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }, { name: 'any' }],
    endpoints: [{ addresses: ['10.0.0.1', '10.0.0.99'] }],
  });
  assert.deepEqual(s.ports, [{ name: 'http', port: 8080 }]);
  assert.deepEqual(s.addresses, ['10.0.0.1']);
  assert.equal(
    projectSlice({ metadata: { name: 'f', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'FQDN', endpoints: [] }),
    null,
  );
  assert.equal(projectSlice({ metadata: { name: 'orphan', namespace: 'shop' }, addressType: 'IPv4', endpoints: [] }), null);
});

test('compareAddresses: IPv4 numerically, then the rest by text', () => {
  assert.deepEqual(['fd00::1', '10.0.0.10', '9.0.0.1', '10.0.0.9'].sort(compareAddresses), ['9.0.0.1', '10.0.0.9', '10.0.0.10', 'fd00::1']);
});

test('secretValue decodes base64, trims, and treats empty or missing as null', () => {
  const secret = (data: Record<string, string>) => ({ metadata: { name: 's', namespace: 'n' }, data });
  assert.equal(secretValue(secret({ token: Buffer.from('s3cret\n').toString('base64') }), 'token'), 's3cret');
  assert.equal(secretValue(secret({ token: '' }), 'token'), null);
  assert.equal(secretValue(secret({ other: 'eA==' }), 'token'), null);
  assert.equal(secretValue({ metadata: { name: 's' } }, 'token'), null);
});
