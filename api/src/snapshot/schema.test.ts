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
          rules: null,
        },
      ],
      clusters: [],
      stickTables: [],
    };
    assert.deepEqual(parseSnapshot(snapshot), { ok: true, snapshot });
  });
});

describe('SnapshotSchema: traffic management', () => {
  async function golden(name: string): Promise<ir.Snapshot> {
    const [, snapshot] = (await goldenSnapshots()).find(([f]) => f === name)!;
    return snapshot as ir.Snapshot;
  }
  /** The listener of traffic-rules.in.yaml with http rules of every kind. */
  const withRules = (s: ir.Snapshot): ir.Listener & { rules: ir.Rules } =>
    s.listeners.find((l): l is ir.Listener & { rules: ir.Rules } => l.name === 'shop/www#0' && l.rules !== null)!;

  it('the goldens exercise rules, stick tables and persistence', async () => {
    const rules = await golden('traffic-rules.out.yaml');
    const listener = withRules(rules);
    const actions = new Set(listener.rules.httpRequest.map((r) => r.action));
    for (const a of ['redirect', 'deny', 'track-sc', 'set-header', 'add-header', 'del-header', 'capture', 'set-path', 'return', 'allow']) {
      assert.ok(actions.has(a as ir.HttpRequestAction['action']), `no ${a} rule in traffic-rules`);
    }
    assert.ok(rules.stickTables.length > 0);
    const persistence = await golden('persistence.out.yaml');
    assert.ok(persistence.clusters.some((c) => c.cookie !== null));
    assert.ok(persistence.clusters.some((c) => c.stick?.storeResponse));
  });

  it('rejects criteria whose patterns do not fit their method', async () => {
    const base = await golden('traffic-rules.out.yaml');
    const bad = clone(base);
    const rule = withRules(bad).rules.httpRequest.find((r) => r.action === 'deny' && r.condition !== null)!;
    const criterion = rule.condition!.any[0]![0]!.criteria[0]! as { method: string; patterns: unknown[] };
    criterion.method = 'int';
    const r = parseSnapshot(bad);
    assert.ok(!r.ok);
    assert.match(r.error, /^listeners\[\d+\]\.rules\.httpRequest\[\d+\]\.condition\.any\[0\]\[0\]\.criteria\[0\]\.patterns\[0\]: /);

    const ignoreCaseIp = clone(base);
    const c2 = withRules(ignoreCaseIp).rules.httpRequest.find((r) => r.action === 'deny' && r.condition !== null)!.condition!.any[0]![0]!.criteria[0]!;
    (c2 as { ignoreCase: boolean }).ignoreCase = true;
    assert.ok(!parseSnapshot(ignoreCaseIp).ok, 'ignoreCase is only for string methods');

    const patternsOnFound = clone(await golden('traffic-rules.out.yaml'));
    const found = withRules(patternsOnFound).rules.httpResponse.flatMap((r) => r.condition?.any.flat() ?? []).flatMap((t) => t.criteria).find((c) => c.method === 'found')!;
    (found as { patterns: string[] }).patterns = ['x'];
    assert.ok(!parseSnapshot(patternsOnFound).ok, 'found takes no patterns');
  });

  it('rejects references to stick tables the snapshot does not have, and duplicate tables', async () => {
    const base = await golden('traffic-rules.out.yaml');
    const dangling = clone(base);
    dangling.stickTables = dangling.stickTables.filter((t) => t.name !== 'frontend:shop/www');
    const r = parseSnapshot(dangling);
    assert.ok(!r.ok);
    assert.match(r.error, /^listeners\[\d+\]\.rules\.httpRequest\[\d+\]\.table: unknown stick table "frontend:shop\/www"/);

    const twice = clone(base);
    twice.stickTables.push(clone(twice.stickTables[0]!));
    const r2 = parseSnapshot(twice);
    assert.ok(!r2.ok);
    assert.match(r2.error, /^stickTables\[\d+\]\.name: duplicate stick table/);

    const persistence = clone(await golden('persistence.out.yaml'));
    persistence.stickTables = [];
    const r3 = parseSnapshot(persistence);
    assert.ok(!r3.ok);
    assert.match(r3.error, /^clusters\[\d+\]\.stick\.table: unknown stick table "backend:default\/stick-session"/);
  });

  it('rejects empty conditions and unknown stick data', async () => {
    const base = await golden('traffic-rules.out.yaml');
    const empty = clone(base);
    withRules(empty).rules.httpRequest[0]!.condition!.any = [];
    assert.ok(!parseSnapshot(empty).ok);

    const data = clone(base);
    (data.stickTables[0]!.store[0] as { type: string }).type = 'http_req_rates';
    assert.ok(!parseSnapshot(data).ok);

    const noPeriod = clone(base);
    delete (noPeriod.stickTables.find((t) => t.store.some((d) => 'periodMs' in d))!.store.find((d) => 'periodMs' in d) as { periodMs?: number }).periodMs;
    assert.ok(!parseSnapshot(noPeriod).ok);
  });
});
