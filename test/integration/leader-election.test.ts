/**
 * Leader election against the Kubernetes API emulator, through client-node and a real Lease:
 * electors with short real timings (lease 1.5 s, renew deadline 1 s, retry 0.2 s) contend for one
 * Lease; at no moment do two of them lead; stopping the leader moves leadership, whether it
 * releases the lease (the next candidate takes it at its next retry) or just stops renewing (the
 * next candidate takes it once the lease expired on its own clock).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoordinationV1Api, KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { isMicroTime } from '@switchyard/controller';
import { KubernetesLeaseLock, LeaderElector } from '@switchyard/controller/kubernetes';
import { eventually } from '../helpers/eventually.ts';
import { startKubeApiServer } from '../kube-apiserver/index.ts';

const NAMESPACE = 'default';
const LEASE = 'switchyard-controller';

interface Replica {
  identity: string;
  elector: LeaderElector;
  terms: number;
  stop(): Promise<void>;
}

test('leader election over a Lease: one leader at a time, and leadership moves when the leader stops', async (t) => {
  const api = await startKubeApiServer();
  t.after(() => api.close());
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(api.kubeconfig());
  const leases = kubeConfig.makeApiClient(CoordinationV1Api);
  const readLease = (): Promise<V1Lease> => leases.readNamespacedLease({ name: LEASE, namespace: NAMESPACE });

  // Every term in this process, to catch two leaders at once the moment it would happen.
  const leading = new Set<string>();
  const overlaps: string[] = [];
  const replicas: Replica[] = [];
  t.after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
  });

  function start(identity: string, releaseOnCancel: boolean): Replica {
    const replica: Replica = { identity, terms: 0, elector: undefined as unknown as LeaderElector, stop: async () => {} };
    replica.elector = new LeaderElector({
      lock: KubernetesLeaseLock.fromKubeConfig(kubeConfig, NAMESPACE, LEASE),
      identity,
      leaseDurationMs: 1500,
      renewDeadlineMs: 1000,
      retryPeriodMs: 200,
      releaseOnCancel,
      onStartedLeading: (signal) => {
        replica.terms++;
        if (leading.size > 0) overlaps.push(`${identity} started leading while ${[...leading].join(', ')} led`);
        leading.add(identity);
        signal.addEventListener('abort', () => leading.delete(identity), { once: true });
      },
    });
    const controller = new AbortController();
    const done = replica.elector.run(controller.signal);
    replica.stop = async () => {
      controller.abort();
      await done;
    };
    replicas.push(replica);
    return replica;
  }

  // a starts alone and creates the Lease.
  const a = start('a', true);
  await eventually(() => assert.equal(a.elector.isLeader, true));
  const created = await readLease();
  assert.equal(created.spec?.holderIdentity, 'a');
  assert.equal(created.spec?.leaseDurationSeconds, 2);
  assert.equal(created.spec?.leaseTransitions, 0);
  assert.ok(isMicroTime(String(created.spec?.acquireTime)), `acquireTime ${String(created.spec?.acquireTime)}`);

  // b joins and follows; a keeps renewing (renewTime moves) and stays the only leader.
  const b = start('b', false);
  await eventually(() => assert.equal(b.elector.leader, 'a'));
  const firstRenew = String((await readLease()).spec?.renewTime);
  await eventually(async () => assert.notEqual(String((await readLease()).spec?.renewTime), firstRenew));
  assert.ok(isMicroTime(String((await readLease()).spec?.renewTime)));
  assert.equal(b.elector.isLeader, false);
  assert.equal(a.elector.isLeader, true);

  // a stops and releases: b takes over.
  await a.stop();
  assert.equal(a.elector.isLeader, false);
  await eventually(() => assert.equal(b.elector.isLeader, true));
  let lease = await readLease();
  assert.equal(lease.spec?.holderIdentity, 'b');
  assert.equal(lease.spec?.leaseTransitions, 1);

  // c joins; b stops without releasing (as if it crashed): c takes over once the lease expired.
  const c = start('c', false);
  await eventually(() => assert.equal(c.elector.leader, 'b'));
  await b.stop();
  assert.equal((await readLease()).spec?.holderIdentity, 'b', 'b left its lease to expire');
  await eventually(() => assert.equal(c.elector.isLeader, true));
  lease = await readLease();
  assert.equal(lease.spec?.holderIdentity, 'c');
  assert.equal(lease.spec?.leaseTransitions, 2);

  assert.deepEqual(overlaps, []);
  // Every Lease request was well formed (MicroTimes accepted): only 200, 201, 404 (first read) and 409 (lost races).
  const leaseRequests = api.requests().filter((r) => r.url.includes('/leases'));
  assert.ok(leaseRequests.some((r) => r.method === 'POST' && r.status === 201));
  assert.ok(leaseRequests.some((r) => r.method === 'PUT' && r.status === 200));
  assert.deepEqual(
    leaseRequests.filter((r) => ![200, 201, 404, 409].includes(r.status)).map((r) => `${r.method} ${r.url} ${r.status}`),
    [],
  );
  assert.deepEqual(
    replicas.map((r) => [r.identity, r.terms]),
    [
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ],
  );
});
