/**
 * Session persistence through the real translator and proxy, over real sockets: cookie insert,
 * rewrite and prefix (with indirect, nocache, expiry and down servers), and stick tables (stick on
 * src, and a session cookie learnt from responses).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeQuanta, toQuanta } from '../../dataplane/src/persistence/cookie-date.ts';
import { get } from '../helpers/http-client.ts';
import { eventually } from '../helpers/eventually.ts';
import { backend, freePort, healthPolicy, httpServers, listener, server, startProxy, type Spec } from '../helpers/manifests.ts';
import type { FakeHttpServer } from '../helpers/fake-upstream.ts';

type Ctx = Parameters<typeof startProxy>[0];

async function persistent(t: Ctx, servers: FakeHttpServer[], spec: Spec, extra: Parameters<typeof startProxy>[1] = []) {
  const port = await freePort();
  const harness = await startProxy(t, [backend('web', { balance: 'roundrobin', servers: servers.map((s) => server(s)), ...spec }), listener('web', port, 'web'), ...extra]);
  return { harness, port: harness.port('web') };
}

function setCookie(res: { headers: Record<string, unknown> }): string[] {
  const v = res.headers['set-cookie'];
  return Array.isArray(v) ? (v as string[]) : [];
}

test('cookie insert: the first response names the server, later requests carrying it stay there', async (t) => {
  const servers = await httpServers(t, ['s1', 's2', 's3']);
  const { port } = await persistent(t, servers, { persistence: { cookie: { name: 'SRV', mode: 'insert', secure: true, httpOnly: true } } });
  const first = await get(port, '/');
  const served = String(first.headers['x-server']);
  assert.deepEqual(setCookie(first), [`SRV=${served}; path=/; HttpOnly; Secure`], 'attributes in HAProxy order');
  for (let i = 0; i < 6; i++) {
    const again = await get(port, '/', { headers: { cookie: `other=1; SRV=${served}` } });
    assert.equal(again.headers['x-server'], served, `request ${i}`);
  }
  // Without indirect the server sees the cookie, as in HAProxy.
  const seen = servers.find((s) => s.name === served)!.requests.at(-1)!;
  assert.equal(seen.headers.cookie, `other=1; SRV=${served}`);
});

test('cookie insert indirect nocache: the server never sees the cookie, the client gets it only when it lacks it, marked private', async (t) => {
  // nocache marks only responses a shared cache could store (HAProxy's rule): this one has max-age.
  const servers = await httpServers(t, ['s1', 's2'], { headers: () => ({ 'set-cookie': 'SRV=from-app', 'cache-control': 'max-age=60' }) });
  const { port } = await persistent(t, servers, { persistence: { cookie: { name: 'SRV', mode: 'insert', indirect: true, nocache: true } } });
  const first = await get(port, '/');
  const served = String(first.headers['x-server']);
  assert.deepEqual(setCookie(first), [`SRV=${served}; path=/`], "the application's own SRV cookie is removed");
  assert.match(String(first.headers['cache-control']), /private/);
  const again = await get(port, '/', { headers: { cookie: `SRV=${served}; lang=en` } });
  assert.equal(again.headers['x-server'], served);
  assert.deepEqual(setCookie(again), [], 'a client with a valid cookie gets no new one');
  const seen = servers.find((s) => s.name === served)!.requests.at(-1)!;
  assert.equal(seen.headers.cookie, 'lang=en');
});

test('cookie rewrite: the application cookie value is replaced by the server cookie', async (t) => {
  const servers = await httpServers(t, ['s1', 's2'], { headers: () => ({ 'set-cookie': 'SRV=app-value; Path=/app' }) });
  const { port } = await persistent(t, servers, { persistence: { cookie: { name: 'SRV', mode: 'rewrite' } } });
  const first = await get(port, '/');
  const served = String(first.headers['x-server']);
  assert.deepEqual(setCookie(first), [`SRV=${served}; Path=/app`]);
  for (let i = 0; i < 4; i++) assert.equal((await get(port, '/', { headers: { cookie: `SRV=${served}` } })).headers['x-server'], served);
});

test('cookie prefix: the server cookie is prefixed to the application value and stripped on the way in', async (t) => {
  const servers = await httpServers(t, ['s1', 's2'], { headers: () => ({ 'set-cookie': 'JSESSIONID=abc123; Path=/' }) });
  const { port } = await persistent(t, servers, { persistence: { cookie: { name: 'JSESSIONID', mode: 'prefix' } } });
  const first = await get(port, '/');
  const served = String(first.headers['x-server']);
  assert.deepEqual(setCookie(first), [`JSESSIONID=${served}~abc123; Path=/`]);
  const again = await get(port, '/', { headers: { cookie: `JSESSIONID=${served}~abc123` } });
  assert.equal(again.headers['x-server'], served);
  const seen = servers.find((s) => s.name === served)!.requests.at(-1)!;
  assert.equal(seen.headers.cookie, 'JSESSIONID=abc123');
});

test('a cookie naming a down server is redispatched with redispatch on, and served by its server with it off', async (t) => {
  const check = healthPolicy('fast', { interval: '100ms', timeout: '500ms', rise: 1, fall: 1, http: { path: '/healthz' } });
  for (const redispatch of [true, false]) {
    const servers = await httpServers(t, ['s1', 's2']);
    const { port } = await persistent(t, servers, { redispatch, healthPolicyRef: { name: 'fast' }, persistence: { cookie: { name: 'SRV', mode: 'insert' } } }, [check]);
    servers[0]!.healthStatus = 500; // s1 fails its checks but still answers traffic
    // s1 is out of the balancing once four requests in a row avoid it (round robin alternates).
    await eventually(async () => {
      for (let i = 0; i < 4; i++) assert.equal((await get(port, '/')).headers['x-server'], 's2');
    });
    const res = await get(port, '/', { headers: { cookie: 'SRV=s1' } });
    if (redispatch) {
      assert.equal(res.headers['x-server'], 's2', 'redispatch on: balanced to a server that is up');
      assert.deepEqual(setCookie(res), ['SRV=s2; path=/'], 'and the client is given the new server');
    } else {
      assert.equal(res.headers['x-server'], 's1', 'redispatch off: the named server serves it');
    }
  }
});

test('cookie maxIdle and maxLife: a fresh cookie keeps its server, an idle or too old one is ignored and re-issued', async (t) => {
  const servers = await httpServers(t, ['s1', 's2']);
  const { port } = await persistent(t, servers, { balance: 'first', persistence: { cookie: { name: 'SRV', mode: 'insert', indirect: true, maxIdle: '10m', maxLife: '1h' } } });
  const first = await get(port, '/');
  const cookie = setCookie(first)[0]!;
  assert.match(cookie, /^SRV=s1\|[A-Za-z0-9+/]{5}\|[A-Za-z0-9+/]{5}; path=\/$/, 'dated cookies carry last-seen and first-seen dates');
  // Dates in HAProxy's encoding, forged in the past: the proxy's clock is the wall clock.
  const at = (secondsAgo: number) => encodeQuanta(toQuanta(Math.floor(Date.now() / 1000) - secondsAgo));
  const fresh = await get(port, '/', { headers: { cookie: `SRV=s2|${at(30)}|${at(60)}` } });
  assert.equal(fresh.headers['x-server'], 's2', 'a fresh cookie keeps the client on its server');
  const idle = await get(port, '/', { headers: { cookie: `SRV=s2|${at(11 * 60)}|${at(20 * 60)}` } });
  assert.equal(idle.headers['x-server'], 's1', 'idle longer than maxIdle: ignored, balanced (first picks s1)');
  assert.match(setCookie(idle)[0] ?? '', /^SRV=s1\|/, 'and re-issued');
  const old = await get(port, '/', { headers: { cookie: `SRV=s2|${at(30)}|${at(2 * 3600)}` } });
  assert.equal(old.headers['x-server'], 's1', 'older than maxLife: ignored');
  assert.match(setCookie(old)[0] ?? '', /^SRV=s1\|/);
});

test('stick on src: every request of a client goes to one server, and it moves when that server goes down', async (t) => {
  const check = healthPolicy('fast', { interval: '100ms', timeout: '500ms', rise: 1, fall: 1, http: { path: '/healthz' } });
  const servers = await httpServers(t, ['s1', 's2', 's3']);
  const { port } = await persistent(
    t,
    servers,
    { redispatch: true, healthPolicyRef: { name: 'fast' }, persistence: { stick: { on: 'src', table: { type: 'ip', size: '10k', expire: '30m' } } } },
    [check],
  );
  const names = new Set<string>();
  for (let i = 0; i < 9; i++) names.add(String((await get(port, '/')).headers['x-server']));
  assert.equal(names.size, 1, `roundrobin would spread; the stick table keeps one server: ${[...names].join(',')}`);
  const stuck = [...names][0]!;
  servers.find((s) => s.name === stuck)!.healthStatus = 500;
  await eventually(async () => assert.notEqual((await get(port, '/')).headers['x-server'], stuck));
  const moved = String((await get(port, '/')).headers['x-server']);
  for (let i = 0; i < 4; i++) assert.equal((await get(port, '/')).headers['x-server'], moved, 'the new server sticks too');
});

test('stick on a session cookie learnt from the response (store-response)', async (t) => {
  let n = 0;
  const servers = await httpServers(t, ['s1', 's2', 's3'], { headers: (req): Record<string, string> => (req.headers.cookie ? {} : { 'set-cookie': `JSESSIONID=sess${++n}; Path=/` }) });
  const { port } = await persistent(t, servers, {
    persistence: { stick: { on: 'req.cook(JSESSIONID)', storeResponse: 'res.cook(JSESSIONID)', table: { type: 'string', length: 32, size: '100k', expire: '30m' } } },
  });
  const sessions: [string, string][] = [];
  for (let i = 0; i < 3; i++) {
    const res = await get(port, '/login');
    const cookie = setCookie(res)[0]!;
    sessions.push([cookie.slice(0, cookie.indexOf(';')), String(res.headers['x-server'])]);
  }
  assert.equal(new Set(sessions.map(([, s]) => s)).size, 3, 'roundrobin spread the logins');
  for (let round = 0; round < 3; round++) {
    for (const [cookie, owner] of sessions) assert.equal((await get(port, '/cart', { headers: { cookie } })).headers['x-server'], owner);
  }
});
