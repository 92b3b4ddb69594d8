/**
 * Load-balancing algorithms through the real translator and the real proxy, over real sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, servedBy } from '../helpers/http-client.ts';
import { backend, freePort, httpServers, listener, server, seeded, startProxy, tally, yaml, type Spec } from '../helpers/manifests.ts';
import type { FakeHttpServer } from '../helpers/fake-upstream.ts';

/** The Backend `web` over `servers` plus the Frontend `web` on a free port. */
async function webProxy(t: Parameters<typeof startProxy>[0], servers: FakeHttpServer[], spec: Spec, perServer: Spec[] = [], options: { random?: () => number } = {}) {
  const port = await freePort();
  const docs = [backend('web', { servers: servers.map((s, i) => server(s, perServer[i] ?? {})), ...spec }), listener('web', port, 'web')];
  const harness = await startProxy(t, docs, options);
  return { harness, port: harness.port('web'), docs };
}

test('roundrobin with equal weights rotates through every server with no repeat in a cycle', async (t) => {
  const servers = await httpServers(t, ['s1', 's2', 's3']);
  const { port } = await webProxy(t, servers, { balance: 'roundrobin' });
  const names = await servedBy(port, 12);
  const cycle = names.slice(0, 3);
  assert.deepEqual([...cycle].sort(), ['s1', 's2', 's3'], `first cycle ${cycle.join(',')}`);
  for (let i = 0; i < names.length; i++) assert.equal(names[i], cycle[i % 3], `request ${i}: ${names.join(',')}`);
});

test('roundrobin weights 3:1 give exactly 30 and 10 of 40 requests, interleaved', async (t) => {
  const servers = await httpServers(t, ['heavy', 'light']);
  const { port } = await webProxy(t, servers, { balance: 'roundrobin' }, [{ weight: 3 }, { weight: 1 }]);
  const names = await servedBy(port, 40);
  assert.deepEqual(tally(names), { heavy: 30, light: 10 });
  // Smooth weighted round robin: the light server never gets two turns in a row.
  for (let i = 1; i < names.length; i++) assert.ok(!(names[i] === 'light' && names[i - 1] === 'light'), names.join(','));
});

test('static-rr weights 2:1:1 give exactly 20, 10 and 10 of 40 requests', async (t) => {
  const servers = await httpServers(t, ['a', 'b', 'c']);
  const { port } = await webProxy(t, servers, { balance: 'static-rr' }, [{ weight: 2 }, { weight: 1 }, { weight: 1 }]);
  const names = await servedBy(port, 40);
  assert.deepEqual(tally(names), { a: 20, b: 10, c: 10 });
});

test('leastconn sends most requests to the fast servers while the slow one is busy', async (t) => {
  const [slow] = await httpServers(t, ['slow'], { delayMs: 300 });
  const fast = await httpServers(t, ['fast1', 'fast2']);
  const { port } = await webProxy(t, [slow!, ...fast], { balance: 'leastconn' });
  // 5 concurrent clients, 60 requests in all, each client sequential on its own connection.
  const names: string[] = [];
  let left = 60;
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--;
      const res = await get(port, '/');
      assert.equal(res.status, 200);
      names.push(String(res.headers['x-server']));
    }
  };
  await Promise.all(Array.from({ length: 5 }, worker));
  const counts = tally(names);
  // Round robin would give each server 20; leastconn leaves the busy server alone.
  assert.ok((counts.slow ?? 0) < 10, `slow got ${counts.slow}: ${JSON.stringify(counts)}`);
  assert.ok((counts.fast1 ?? 0) > 15 && (counts.fast2 ?? 0) > 15, JSON.stringify(counts));
});

test('first fills server 1 up to maxConnections, then server 2, and leaves server 3 idle', async (t) => {
  const servers = await httpServers(t, ['f1', 'f2', 'f3'], { delayMs: 300 });
  const [f1, f2, f3] = servers as [FakeHttpServer, FakeHttpServer, FakeHttpServer];
  const { port } = await webProxy(t, servers, { balance: 'first' }, [{ maxConnections: 2 }, { maxConnections: 2 }, { maxConnections: 2 }]);
  const results = await Promise.all(Array.from({ length: 4 }, () => get(port, '/')));
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
  assert.deepEqual(tally(results.map((r) => String(r.headers['x-server']))), { f1: 2, f2: 2 });
  assert.equal(f1.maxInFlight, 2);
  assert.equal(f2.maxInFlight, 2);
  assert.equal(f3.requests.length, 0);
  // Once everything is idle again, the first server takes the next request.
  const again = await get(port, '/');
  assert.equal(again.headers['x-server'], 'f1');
});

test('source pins one client address to one server across new connections', async (t) => {
  const servers = await httpServers(t, ['s1', 's2', 's3']);
  const { port } = await webProxy(t, servers, { balance: 'source' });
  const names: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await get(port, '/'); // a new connection each time
    assert.equal(res.status, 200);
    names.push(String(res.headers['x-server']));
  }
  assert.equal(new Set(names).size, 1, names.join(','));
});

test('uri sends one path to one server and spreads 50 paths over several servers', async (t) => {
  const servers = await httpServers(t, ['s1', 's2', 's3']);
  const { port } = await webProxy(t, servers, { balance: 'uri' });
  const same = await servedBy(port, 6, '/static/app.js');
  assert.equal(new Set(same).size, 1, same.join(','));
  // The query string is not part of the key by default.
  const withQuery = await servedBy(port, 3, '/static/app.js?v=2');
  assert.deepEqual(withQuery, [same[0], same[0], same[0]]);
  const spread = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const [name] = await servedBy(port, 1, `/item/${i}`);
    spread.add(name!);
    const [again] = await servedBy(port, 1, `/item/${i}`);
    assert.equal(again, name, `/item/${i} moved`);
  }
  assert.ok(spread.size > 1, `50 paths all on ${[...spread]}`);
});

test('hdr(X-User): one user always on one server; without the header requests are served in round robin', async (t) => {
  const servers = await httpServers(t, ['s1', 's2', 's3']);
  const { port } = await webProxy(t, servers, { balance: 'hdr', hashKey: 'X-User' });
  const byUser = new Map<string, string>();
  for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']) {
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await get(port, '/', { headers: { 'X-User': user } });
      assert.equal(res.status, 200);
      names.add(String(res.headers['x-server']));
    }
    assert.equal(names.size, 1, `${user} went to ${[...names]}`);
    byUser.set(user, [...names][0]!);
  }
  assert.ok(new Set(byUser.values()).size > 1, `every user on the same server: ${JSON.stringify([...byUser])}`);
  const anonymous = await servedBy(port, 6);
  assert.ok(anonymous.every((n) => n.startsWith('s')), anonymous.join(','));
  assert.equal(new Set(anonymous).size, 3, `no key should fall back to round robin: ${anonymous.join(',')}`);
});

test('url_param(user): one value always on one server; without the parameter requests are served in round robin', async (t) => {
  const servers = await httpServers(t, ['s1', 's2', 's3']);
  const { port } = await webProxy(t, servers, { balance: 'url_param', hashKey: 'user' });
  const byUser = new Map<string, string>();
  for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']) {
    const names = await servedBy(port, 2, `/page?x=1&user=${user}`);
    const other = await servedBy(port, 2, `/other?user=${user}&y=2`);
    assert.equal(new Set([...names, ...other]).size, 1, `${user} went to ${names},${other}`);
    byUser.set(user, names[0]!);
  }
  assert.ok(new Set(byUser.values()).size > 1, `every user on the same server: ${JSON.stringify([...byUser])}`);
  const anonymous = await servedBy(port, 6, '/page?x=1');
  assert.ok(anonymous.every((n) => n.startsWith('s')), anonymous.join(','));
  assert.equal(new Set(anonymous).size, 3, `no key should fall back to round robin: ${anonymous.join(',')}`);
});

test('consistent hashing: adding a fifth server moves only some paths, all of them to the new server', async (t) => {
  const servers = await httpServers(t, ['c1', 'c2', 'c3', 'c4', 'c5']);
  const four = servers.slice(0, 4);
  const { harness, port, docs } = await webProxy(t, four, { balance: 'uri', hashType: 'consistent' });
  const paths = Array.from({ length: 200 }, (_, i) => `/objects/${i}/data`);
  const serverFor = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const p of paths) out.push((await servedBy(port, 1, p))[0]!);
    return out;
  };
  const before = await serverFor();
  assert.ok(before.every((n) => /^c[1-4]$/.test(n)), 'served by the four servers');
  assert.ok(new Set(before).size === 4, `200 paths use every server: ${JSON.stringify(tally(before))}`);

  const spec = { ...docs[0]!.spec, servers: servers.map((s) => server(s)) };
  await harness.apply(yaml({ ...docs[0]!, spec }, docs[1]!));
  const after = await serverFor();
  const moved = paths.filter((_, i) => after[i] !== before[i]);
  const wrong = paths.filter((_, i) => after[i] !== before[i] && after[i] !== 'c5');
  assert.deepEqual(wrong, [], 'a path that moves must move to the new server');
  assert.ok(moved.length >= 10 && moved.length <= 80, `${moved.length} of 200 paths moved (expected about 1/5)`);
});

test('random (power of two choices) gives every server some of 300 requests', async (t) => {
  const servers = await httpServers(t, ['r1', 'r2', 'r3', 'r4']);
  const { port } = await webProxy(t, servers, { balance: 'random' }, [], { random: seeded(42) });
  const names = await servedBy(port, 300);
  const counts = tally(names);
  assert.deepEqual(Object.keys(counts).sort(), ['r1', 'r2', 'r3', 'r4'], JSON.stringify(counts));
  for (const n of ['r1', 'r2', 'r3', 'r4']) assert.ok(counts[n]! >= 30, JSON.stringify(counts));
});

test('weight 0 and disabled servers take no traffic', async (t) => {
  const servers = await httpServers(t, ['on', 'zero', 'off']);
  const { port } = await webProxy(t, servers, { balance: 'roundrobin' }, [{}, { weight: 0 }, { disabled: true }]);
  const names = await servedBy(port, 10);
  assert.deepEqual(tally(names), { on: 10 });
});
