/**
 * Access logs from `switchyard run` as a real process, with curl as the client: HAProxy's
 * log-format variables, captured headers and samples, one line per request however it ends
 * (served, denied by a rule, no server).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { curl, spawnCli, tempDir } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';
import { closedPort, startHttpServer } from '../helpers/fake-upstream.ts';

const WAIT = { timeoutMs: 20_000, intervalMs: 50 };

test('access log lines carry HAProxy variables, captures, samples and termination states', async (t) => {
  const web = await startHttpServer('web1');
  t.after(() => web.stop());
  const port = await closedPort();
  const dir = await tempDir('switchyard-access-log-');
  t.after(dir.remove);
  const format = '%ci %f %b/%s %ST %B %tsc %{+Q}r %hr host=%[hdr(host),lower] Tw=%Tw Tc=%Tc Tr=%Tr Ta=%Ta rc=%rc';
  await writeFile(
    join(dir.path, 'site.yaml'),
    JSON.stringify({
      apiVersion: 'switchyard.dev/v1alpha1',
      kind: 'Frontend',
      metadata: { name: 'www' },
      spec: {
        binds: [{ address: '127.0.0.1', port }],
        httpRequest: [
          { action: 'capture', sample: 'req.hdr(user-agent)', length: 8 },
          { action: 'capture', sample: 'req.hdr(x-req-id)', length: 16 },
          { action: 'deny', status: 403, if: '{ path_beg /admin }' },
        ],
        useBackends: [{ backend: 'empty', if: '{ path_beg /none }' }],
        defaultBackend: { name: 'web' },
        log: { format },
      },
    }) +
      '\n---\n' +
      JSON.stringify({ apiVersion: 'switchyard.dev/v1alpha1', kind: 'Backend', metadata: { name: 'web' }, spec: { servers: [{ name: 'web1', address: '127.0.0.1', port: web.port }] } }) +
      '\n---\n' +
      JSON.stringify({ apiVersion: 'switchyard.dev/v1alpha1', kind: 'Backend', metadata: { name: 'empty' }, spec: { servers: [{ name: 'gone', address: '127.0.0.1', port: await closedPort() }], retries: 0 } }),
  );
  const sy = spawnCli(['run', '-f', dir.path, '--workers', '1', '--log-level', 'info']);
  t.after(() => sy.kill());
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => assert.equal((await curl(`${base}/`)).status, 200), WAIT);

  const access = () => sy.logs().filter((l) => l.log === 'access');
  // The line of the request above reaches us after its response: count from after it.
  await eventually(() => assert.ok(access().some((l) => String(l.msg).includes('"GET / HTTP/1.1"'))), WAIT);
  const before = access().length;
  await curl(`${base}/shop?item=1`, { headers: ['User-Agent: curl-test-agent', 'X-Req-Id: abc', 'Host: WWW.Example.com'] });
  await curl(`${base}/admin/keys`, { headers: ['User-Agent: x'] });
  await curl(`${base}/none`);
  const lines = await eventually(() => {
    const got = access().slice(before);
    assert.equal(got.length, 3, JSON.stringify(got));
    return got.map((l) => l.msg);
  }, WAIT);

  const [served, denied, noServer] = lines as [string, string, string];
  assert.match(
    served,
    /^127\.0\.0\.1 default\/www default\/web\/web1 200 \d+ ---- "GET \/shop\?item=1 HTTP\/1\.1" \{curl-tes\|abc\} host=www\.example\.com Tw=\d+ Tc=\d+ Tr=\d+ Ta=\d+ rc=0$/,
  );
  assert.match(denied, /^127\.0\.0\.1 default\/www default\/www\/<NOSRV> 403 \d+ PR-- "GET \/admin\/keys HTTP\/1\.1" \{x\|\} /);
  assert.match(noServer, / default\/empty\/gone 503 \d+ SC-- "GET \/none HTTP\/1\.1" /);
});
