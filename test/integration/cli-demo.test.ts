/**
 * `switchyard demo` as a real process: three demo servers on 127.0.0.1:9001-9003 and
 * examples/quickstart in front of them (HTTP round robin on 8080, TCP leastconn on 8081).
 * Those ports are fixed, so the test is skipped when any of them is taken.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { curl, spawnCli } from '../helpers/cli-process.ts';
import { eventually } from '../helpers/eventually.ts';

const DEMO_PORTS = [9001, 9002, 9003, 8080, 8081];
const WAIT = { timeoutMs: 20_000, intervalMs: 50 };

/** Null when 127.0.0.1:port can be bound now, else why not. */
async function busy(port: number): Promise<string | null> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
  } catch (err) {
    return `127.0.0.1:${port} is not free (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return null;
}

function demoName(body: string): string {
  const m = /^Hello from (demo-\d) \(127\.0\.0\.1:900\d\)\n/.exec(body);
  assert.ok(m, `not a demo server's answer: ${JSON.stringify(body)}`);
  return m[1]!;
}

test('switchyard demo: greets, balances HTTP over demo-1/2/3 on 8080, proxies TCP on 8081, exits 0 on SIGINT', async (t) => {
  for (const port of DEMO_PORTS) {
    const reason = await busy(port);
    if (reason !== null) {
      t.skip(`switchyard demo needs 127.0.0.1:9001-9003, 8080 and 8081: ${reason}`);
      return;
    }
  }

  const demo = spawnCli(['demo']);
  t.after(() => demo.kill());
  const describe = (): string => `\n--- stdout ---\n${demo.stdout()}\n--- stderr ---\n${demo.stderr()}`;

  await eventually(() => {
    assert.equal(demo.exit(), null, `demo exited early${describe()}`);
    assert.ok(demo.stdout().includes('Switchyard is running examples/quickstart in front of three demo servers'), 'no greeting yet');
  }, WAIT);
  assert.ok(demo.stdout().includes('for i in 1 2 3 4; do curl -s http://127.0.0.1:8080/; done'), describe());
  assert.ok(demo.stdout().includes('Edit examples/quickstart/*.yaml'), describe());

  // HTTP, round robin with demo-3 at weight 2: four requests are demo-1, demo-2 and demo-3 twice.
  const answers: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await curl('http://127.0.0.1:8080/');
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /X-Forwarded-For: 127\.0\.0\.1\n$/, 'the quickstart Backend sets forwardFor');
    answers.push(demoName(r.body));
  }
  assert.deepEqual([...answers].sort(), ['demo-1', 'demo-2', 'demo-3', 'demo-3'], `served by ${answers.join(' ')}`);

  // TCP on 8081: the HTTP exchange passes through untouched (no X-Forwarded-For added).
  const tcp = await curl('http://127.0.0.1:8081/tcp');
  assert.equal(tcp.exitCode, 0, tcp.stderr);
  assert.equal(tcp.status, 200, tcp.body);
  demoName(tcp.body);
  assert.match(tcp.body, /You asked for GET \/tcp; X-Forwarded-For: -\n$/);

  const exit = await demo.stop('SIGINT');
  assert.deepEqual(exit, { code: 0, signal: null }, describe());
  assert.equal(demo.stderr(), '');
});
