// SnapshotSchema against every snapshot the translator's golden files hold, plus the errors it
// gives for broken ones. The golden files are read as files: api imports nothing of the controller.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseSnapshot, SnapshotSchema } from './schema.ts';
import type * as ir from './ir.ts';

const TESTDATA = resolve(fileURLToPath(import.meta.url), '../../../../controller/src/translator/testdata');

async function goldenSnapshots(): Promise<[string, unknown][]> {
  const files = (await readdir(TESTDATA)).filter((f) => f.endsWith('.out.yaml')).sort();
  const out: [string, unknown][] = [];
  for (const f of files) {
    const doc = parse(await readFile(join(TESTDATA, f), 'utf8')) as { snapshot?: unknown };
    out.push([f, doc.snapshot]);
  }
  return out;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

describe('SnapshotSchema', () => {
  it("accepts every snapshot in the translator's golden files, unchanged", async () => {
    const goldens = await goldenSnapshots();
    assert.ok(goldens.length >= 10, `only ${goldens.length} golden files found in ${TESTDATA}`);
    const probeKinds = new Set<string>();
    let servers = 0;
    for (const [file, snapshot] of goldens) {
      assert.notEqual(snapshot, undefined, `${file} has no snapshot`);
      const result = parseSnapshot(snapshot);
      assert.ok(result.ok, `${file}: ${result.ok ? '' : result.error}`);
      assert.deepEqual(result.snapshot, snapshot, `${file}: parsing changed the snapshot`);
      // And after crossing the wire as JSON.
      assert.deepEqual(SnapshotSchema.parse(JSON.parse(JSON.stringify(snapshot))), snapshot);
      for (const c of result.snapshot.clusters) {
        if (c.health) probeKinds.add(c.health.probe.kind);
        servers += c.servers.length;
      }
    }
    // The goldens exercise the interesting branches, so this test means something.
    assert.ok(probeKinds.has('http') && probeKinds.has('tcp'), `probe kinds seen: ${[...probeKinds].join(', ')}`);
    assert.ok(servers > 5);
  });

  it('names the field path of the first problem', async () => {
    const [, golden] = (await goldenSnapshots()).find(([f]) => f === 'basic-http.out.yaml')!;
    const base = golden as ir.Snapshot;

    const badPort = clone(base);
    (badPort.clusters[0]!.servers[1] as { port: unknown }).port = 70000;
    assert.deepEqual(parseSnapshot(badPort), { ok: false, error: 'clusters[0].servers[1].port: Too big: expected number to be <=65535' });

    const wrongType = clone(base);
    (wrongType.listeners[0] as { mode: unknown }).mode = 'udp';
    const r1 = parseSnapshot(wrongType);
    assert.ok(!r1.ok);
    assert.match(r1.error, /^listeners\[0\]\.mode: /);

    const missing = clone(base) as unknown as { clusters: Record<string, unknown>[] };
    delete missing.clusters[0]!.retries;
    const r2 = parseSnapshot(missing);
    assert.ok(!r2.ok);
    assert.match(r2.error, /^clusters\[0\]\.retries: /);

    const unknownField = clone(base) as unknown as { listeners: Record<string, unknown>[] };
    unknownField.listeners[0]!.ssl = true;
    const r3 = parseSnapshot(unknownField);
    assert.ok(!r3.ok);
    assert.match(r3.error, /^listeners\[0\]: Unrecognized key: "ssl"/);

    const two = clone(base);
    (two.listeners[0] as { port: unknown }).port = -1;
    (two.listeners[1] as { port: unknown }).port = -1;
    const r4 = parseSnapshot(two);
    assert.ok(!r4.ok);
    assert.match(r4.error, /^listeners\[0\]\.port: .*\(and 1 more\)$/);

    assert.deepEqual(parseSnapshot(null), { ok: false, error: '(root): Invalid input: expected object, received null' });
  });

  it('accepts what the data plane can run but the resources do not allow: port 0, fractional milliseconds', () => {
    const snapshot: ir.Snapshot = {
      listeners: [
        {
          name: 'default/web#0',
          frontend: 'default/web',
          mode: 'tcp',
          address: '127.0.0.1',
          port: 0,
          acceptProxy: false,
          maxConnections: 0,
          timeouts: { clientMs: 0.5, httpRequestMs: 1, httpKeepAliveMs: 1, tunnelMs: null },
          forwardFor: null,
          defaultCluster: null,
        },
      ],
      clusters: [],
    };
    assert.deepEqual(parseSnapshot(snapshot), { ok: true, snapshot });
  });
});
