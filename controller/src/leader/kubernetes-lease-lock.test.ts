/**
 * KubernetesLeaseLock against a stand-in for the Lease endpoints of an API server (real socket,
 * port 0): the requests client-node sends, 404/409 mapping, MicroTime on the wire, cancellation.
 * test/integration/leader-election.test.ts runs the elector against the full emulator.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { eventually } from '../../../test/helpers/eventually.ts';
import { KubernetesLeaseLock } from './kubernetes-lease-lock.ts';
import { LeaseConflictError, type LeaderRecord } from './lease-lock.ts';
import { isMicroTime } from '../kube-time.ts';

interface Logged {
  method: string;
  url: string;
  body: Record<string, unknown> | null;
}

const PATH = '/apis/coordination.k8s.io/v1/namespaces/ns1/leases';

async function startLeaseServer(): Promise<{ url: string; log: Logged[]; hold: { next: boolean }; close(): Promise<void> }> {
  let stored: Record<string, unknown> | null = null;
  let rv = 100;
  const log: Logged[] = [];
  const hold = { next: false };
  const status = (res: http.ServerResponse, code: number, reason: string, message: string): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
  };
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      log.push({ method: req.method ?? '', url: req.url ?? '', body });
      if (hold.next) {
        hold.next = false;
        return; // never answer: the client must give up through its signal
      }
      const spec = (body?.spec ?? {}) as Record<string, unknown>;
      for (const field of ['acquireTime', 'renewTime']) {
        if (body && typeof spec[field] === 'string' && !isMicroTime(spec[field])) {
          return status(res, 400, 'BadRequest', `Lease in version "v1" cannot be handled as a Lease: parsing time "${String(spec[field])}"`);
        }
      }
      const meta = (body?.metadata ?? {}) as Record<string, unknown>;
      if (req.method === 'GET' && req.url === `${PATH}/lock`) {
        if (!stored) return status(res, 404, 'NotFound', 'leases.coordination.k8s.io "lock" not found');
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(stored));
      }
      if (req.method === 'POST' && req.url === PATH) {
        if (stored) return status(res, 409, 'AlreadyExists', 'leases.coordination.k8s.io "lock" already exists');
        stored = { ...body, metadata: { ...meta, namespace: 'ns1', labels: { app: 'switchyard' }, resourceVersion: String(++rv) } };
        res.writeHead(201, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(stored));
      }
      if (req.method === 'PUT' && req.url === `${PATH}/lock`) {
        const current = stored?.metadata as Record<string, unknown> | undefined;
        if (!current || meta.resourceVersion !== current.resourceVersion) {
          return status(res, 409, 'Conflict', 'Operation cannot be fulfilled on leases.coordination.k8s.io "lock": the object has been modified');
        }
        stored = { ...body, metadata: { ...meta, resourceVersion: String(++rv) } };
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(stored));
      }
      status(res, 404, 'NotFound', 'not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    hold,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function kubeConfigFor(url: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: url, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
    currentContext: 'test',
  });
  return kc;
}

const record = (holder: string, stamp: string, transitions = 0): LeaderRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: stamp,
  renewTime: stamp,
  leaseTransitions: transitions,
});

test('KubernetesLeaseLock: get/create/update over the Lease API, 404 as null, 409 as LeaseConflictError', async (t) => {
  const server = await startLeaseServer();
  t.after(() => server.close());
  const lock = KubernetesLeaseLock.fromKubeConfig(kubeConfigFor(server.url), 'ns1', 'lock');
  assert.equal(lock.description, 'ns1/lock');

  assert.equal(await lock.get(), null);

  const created = await lock.create(record('a', '2026-11-21T10:00:00.000000Z'));
  assert.equal(created, '101');
  const post = server.log.at(-1);
  assert.equal(post?.method, 'POST');
  assert.deepEqual(post?.body, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'lock', namespace: 'ns1' },
    spec: {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-21T10:00:00.000000Z',
      renewTime: '2026-11-21T10:00:00.000000Z',
      leaseTransitions: 0,
    },
  });

  await assert.rejects(lock.create(record('b', '2026-11-21T10:00:00.000000Z')), LeaseConflictError);

  // Microseconds written by another client survive a read and a write back.
  const observed = await lock.get();
  assert.deepEqual(observed, { record: record('a', '2026-11-21T10:00:00.000000Z'), resourceVersion: '101' });

  await assert.rejects(lock.update(record('a', '2026-11-21T10:00:02.123456Z'), '99'), (err: unknown) => {
    return err instanceof LeaseConflictError && /the object has been modified/.test(err.message);
  });

  const renewed = { ...record('a', '2026-11-21T10:00:00.000000Z'), renewTime: '2026-11-21T10:00:02.123456Z' };
  assert.equal(await lock.update(renewed, '101'), '102');
  const put = server.log.at(-1);
  assert.equal(put?.method, 'PUT');
  const meta = put?.body?.metadata as Record<string, unknown>;
  assert.equal(meta.resourceVersion, '101');
  assert.deepEqual(meta.labels, { app: 'switchyard' }, 'the PUT carries the object as last read');
  assert.equal((put?.body?.spec as Record<string, unknown>).renewTime, '2026-11-21T10:00:02.123456Z');
  assert.deepEqual(await lock.get(), { record: renewed, resourceVersion: '102' });
});

test('KubernetesLeaseLock: a request is abandoned when its signal aborts', async (t) => {
  const server = await startLeaseServer();
  t.after(() => server.close());
  const lock = KubernetesLeaseLock.fromKubeConfig(kubeConfigFor(server.url), 'ns1', 'lock');
  server.hold.next = true;
  const controller = new AbortController();
  const pending = lock.get(controller.signal);
  await eventually(() => assert.equal(server.log.length, 1));
  controller.abort(new Error('renew deadline'));
  await assert.rejects(pending);
  // The lock still works afterwards.
  assert.equal(await lock.get(), null);
});
