import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canonicalJson, SnapshotCache, snapshotVersion } from './snapshot-cache.ts';
import { tcpSnapshot } from '../../../test/helpers/snapshots.ts';
import type { VersionedSnapshot } from './versioned-snapshot.ts';

const contents = new Map<string, number | null>([
  ['Frontend/default/web', 1],
  ['Backend/default/web', 3],
]);

describe('SnapshotCache', () => {
  it('versions by content: a short hex hash, null when unchanged, a new version when the snapshot or contents change', () => {
    const cache = new SnapshotCache();
    assert.equal(cache.current, null);
    const v1 = cache.publish(tcpSnapshot(1000), contents);
    assert.ok(v1);
    assert.match(v1.version, /^[0-9a-f]{16}$/);
    assert.equal(cache.current, v1);

    // Same content, new objects and another key order: unchanged.
    const reordered = new Map([...contents].reverse());
    assert.equal(cache.publish(structuredClone(tcpSnapshot(1000)), reordered), null);
    assert.equal(cache.current, v1);

    // The snapshot changes.
    const v2 = cache.publish(tcpSnapshot(1001), contents);
    assert.ok(v2);
    assert.notEqual(v2.version, v1.version);

    // Only a generation changes (a spec edit that compiles to the same snapshot): a new version.
    const v3 = cache.publish(tcpSnapshot(1001), new Map([...contents, ['Backend/default/web', 4]]));
    assert.ok(v3);
    assert.notEqual(v3.version, v2.version);
    assert.deepEqual(v3.snapshot, v2.snapshot);
    assert.equal(v3.contents.get('Backend/default/web'), 4);

    // Back to the first world: the same version as the first time.
    const again = cache.publish(tcpSnapshot(1000), contents);
    assert.ok(again);
    assert.equal(again.version, v1.version);
  });

  it('hashes object keys in any order the same, but array order matters', () => {
    const a = tcpSnapshot(1000);
    const shuffled = { stickTables: a.stickTables, clusters: a.clusters, listeners: a.listeners };
    assert.equal(snapshotVersion(shuffled, contents), snapshotVersion(a, contents));
    assert.equal(canonicalJson({ b: 1, a: [2, { d: null, c: 'x' }] }), '{"a":[2,{"c":"x","d":null}],"b":1}');
    const twoServers = tcpSnapshot(1000);
    twoServers.clusters[0]!.servers.push({ ...twoServers.clusters[0]!.servers[0]!, name: 's2', id: 2, port: 1001 });
    const swapped = structuredClone(twoServers);
    swapped.clusters[0]!.servers.reverse();
    assert.notEqual(snapshotVersion(twoServers, contents), snapshotVersion(swapped, contents));
  });

  it('is deterministic across processes', () => {
    const here = snapshotVersion(tcpSnapshot(1234), contents);
    const module = fileURLToPath(new URL('./snapshot-cache.ts', import.meta.url));
    const support = fileURLToPath(new URL('../../../test/helpers/snapshots.ts', import.meta.url));
    const script = `
      const { snapshotVersion } = await import(${JSON.stringify(module)});
      const { tcpSnapshot } = await import(${JSON.stringify(support)});
      process.stdout.write(snapshotVersion(tcpSnapshot(1234), [['Frontend/default/web', 1], ['Backend/default/web', 3]]));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout, here);
  });

  it('keeps the last N versions for get(), evicting the oldest', () => {
    const cache = new SnapshotCache({ keep: 3 });
    const published: VersionedSnapshot[] = [];
    for (let port = 1; port <= 5; port++) published.push(cache.publish(tcpSnapshot(port), contents)!);
    assert.equal(cache.get(published[0]!.version), undefined);
    assert.equal(cache.get(published[1]!.version), undefined);
    for (const p of published.slice(2)) assert.equal(cache.get(p.version), p);
    assert.deepEqual(cache.versions(), published.slice(2).map((p) => p.version));

    // Re-publishing an old version that is still held makes it the newest, so it is evicted last.
    assert.equal(cache.publish(tcpSnapshot(3), contents), published[2]);
    cache.publish(tcpSnapshot(6), contents);
    cache.publish(tcpSnapshot(7), contents);
    assert.deepEqual(cache.versions(), [published[2]!.version, cache.versions()[1], cache.current!.version]);
    assert.throws(() => new SnapshotCache({ keep: 0 }), RangeError);
  });

  it('freezes what it publishes and keeps its own copy', () => {
    const cache = new SnapshotCache();
    const input = tcpSnapshot(1000);
    const published = cache.publish(input, contents)!;
    input.clusters[0]!.servers[0]!.port = 9;
    assert.equal(published.snapshot.clusters[0]!.servers[0]!.port, 1000);
    assert.ok(Object.isFrozen(published));
    assert.ok(Object.isFrozen(published.snapshot.clusters[0]!.servers[0]));
    assert.throws(() => {
      (published.snapshot.listeners as unknown[]).push({});
    }, TypeError);
    assert.throws(() => (published.contents as Map<string, number | null>).set('x', 1), TypeError);
    assert.throws(() => (published.contents as Map<string, number | null>).delete('Frontend/default/web'), TypeError);
    assert.deepEqual([...published.contents.keys()], ['Backend/default/web', 'Frontend/default/web']);
  });

  it('tells onPublish listeners about new versions only, and unsubscribes', () => {
    const cache = new SnapshotCache();
    const seen: string[] = [];
    const off = cache.onPublish((s) => seen.push(s.version));
    const v1 = cache.publish(tcpSnapshot(1), contents)!;
    cache.publish(tcpSnapshot(1), contents);
    const v2 = cache.publish(tcpSnapshot(2), contents)!;
    off();
    cache.publish(tcpSnapshot(3), contents);
    assert.deepEqual(seen, [v1.version, v2.version]);
  });
});
