import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { ir } from '@switchyard/api';
import { Dataplane } from '../runtime/dataplane.ts';
import type { ApplyResult } from '../runtime/dataplane.ts';
import { startServer } from '../health/test-support.ts';
import { SnapshotApplier, type SnapshotTarget } from './snapshot-applier.ts';
import { silentLogger, tcpSnapshot } from '../../../test/helpers/snapshots.ts';

/** A target that records what it was asked to apply and answers as told. */
class FakeTarget implements SnapshotTarget {
  readonly applied: ir.Snapshot[] = [];
  answer: ApplyResult = { ok: true };
  async apply(snapshot: ir.Snapshot): Promise<ApplyResult> {
    this.applied.push(snapshot);
    return this.answer;
  }
}

async function echoServer(t: TestContext, greeting: string): Promise<number> {
  const server = await startServer((socket) => socket.end(`${greeting}\n`));
  t.after(() => server.close());
  return server.port;
}

/** What the listener on `port` answers to a new connection. */
function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (s: string) => (data += s));
    socket.on('end', () => resolve(data.trim()));
    socket.on('error', reject);
  });
}

describe('SnapshotApplier', () => {
  it('validates before building: a schema-invalid snapshot is NACKed naming the field, and nothing is applied', async () => {
    const target = new FakeTarget();
    const applier = new SnapshotApplier({ dataplane: target, logger: silentLogger() });
    const bad = tcpSnapshot(1) as unknown as { clusters: { servers: { weight: unknown }[] }[] };
    bad.clusters[0]!.servers[0]!.weight = 'heavy';
    const outcome = await applier.apply({ version: 'v1', snapshot: bad });
    assert.deepEqual(outcome, { ok: false, version: 'v1', error: 'invalid snapshot: clusters[0].servers[0].weight: Invalid input: expected number, received string' });
    assert.deepEqual(target.applied, []);
    assert.equal(applier.version, null);
  });

  it('applies a valid snapshot, skips the version already served, and keeps the served version on a failure', async () => {
    const target = new FakeTarget();
    const applier = new SnapshotApplier({ dataplane: target, logger: silentLogger() });
    assert.deepEqual(await applier.apply({ version: 'v1', snapshot: tcpSnapshot(1) }), { ok: true, version: 'v1', skipped: false });
    assert.deepEqual(target.applied, [tcpSnapshot(1)]);
    assert.equal(applier.version, 'v1');

    assert.deepEqual(await applier.apply({ version: 'v1', snapshot: tcpSnapshot(1) }), { ok: true, version: 'v1', skipped: true });
    assert.equal(target.applied.length, 1, 'the same version is not rebuilt');

    target.answer = { ok: false, error: 'listener default/web#0 on 127.0.0.1:1: EADDRINUSE' };
    assert.deepEqual(await applier.apply({ version: 'v2', snapshot: tcpSnapshot(2) }), { ok: false, version: 'v2', error: 'listener default/web#0 on 127.0.0.1:1: EADDRINUSE' });
    assert.equal(applier.version, 'v1');

    // A target that throws is a NACK too, never a rejection.
    const throwing: SnapshotTarget = { apply: () => Promise.reject(new Error('kaput')) };
    const a2 = new SnapshotApplier({ dataplane: throwing, logger: silentLogger() });
    assert.deepEqual(await a2.apply({ version: 'v1', snapshot: tcpSnapshot(1) }), { ok: false, version: 'v1', error: 'kaput' });
  });

  it('applies pushes one at a time, in order', async () => {
    const order: string[] = [];
    let release: (() => void) | null = null;
    const target: SnapshotTarget = {
      apply: async (s) => {
        const port = String(s.clusters[0]!.servers[0]!.port);
        order.push(`start ${port}`);
        if (port === '1') await new Promise<void>((resolve) => (release = resolve));
        order.push(`end ${port}`);
        return { ok: true };
      },
    };
    const applier = new SnapshotApplier({ dataplane: target, logger: silentLogger() });
    const first = applier.apply({ version: 'v1', snapshot: tcpSnapshot(1) });
    const second = applier.apply({ version: 'v2', snapshot: tcpSnapshot(2) });
    while (release === null) await new Promise((resolve) => setImmediate(resolve));
    (release as () => void)();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['start 1', 'end 1', 'start 2', 'end 2']);
    assert.equal(applier.version, 'v2');
  });

  it('with a real Dataplane: a snapshot whose port is taken is NACKed and the last good one keeps serving', async (t) => {
    const dataplane = new Dataplane({ logger: silentLogger() });
    t.after(() => dataplane.close());
    const applier = new SnapshotApplier({ dataplane, logger: silentLogger() });
    const alpha = await echoServer(t, 'alpha');
    const beta = await echoServer(t, 'beta');

    assert.equal((await applier.apply({ version: 'v1', snapshot: tcpSnapshot(alpha) })).ok, true);
    const port = dataplane.boundPort('default/web#0')!;
    assert.equal(await greeting(port), 'alpha');

    // v2 moves the listener to a port something else holds: refused, nothing changes.
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const taken = (squatter.address() as net.AddressInfo).port;
    const outcome = await applier.apply({ version: 'v2', snapshot: tcpSnapshot(beta, taken) });
    assert.equal(outcome.ok, false);
    assert.match((outcome as { error: string }).error, new RegExp(`^listener default/web#0 on 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE`));
    assert.equal(applier.version, 'v1');
    assert.equal(await greeting(port), 'alpha', 'the last good snapshot still serves');
    assert.equal(dataplane.snapshot!.clusters[0]!.servers[0]!.port, alpha);

    // v3 reprograms the same listener to beta.
    assert.equal((await applier.apply({ version: 'v3', snapshot: tcpSnapshot(beta) })).ok, true);
    assert.equal(await greeting(port), 'beta');
  });
});
