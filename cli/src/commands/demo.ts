/**
 * `switchyard demo`: three small HTTP servers on 127.0.0.1:9001-9003 that say who they are, and
 * Switchyard in front of them running examples/quickstart, so a new user has something to curl.
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './run.ts';

const QUICKSTART = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples/quickstart');
const DEMO_PORTS = [9001, 9002, 9003];

export async function demo(options: { logLevel: string }): Promise<number> {
  const servers: http.Server[] = [];
  for (const [i, port] of DEMO_PORTS.entries()) {
    const name = `demo-${i + 1}`;
    const server = http.createServer((req, res) => {
      if (req.url === '/healthz') return void res.end('ok\n');
      res.setHeader('content-type', 'text/plain');
      res.end(`Hello from ${name} (127.0.0.1:${port})\nYou asked for ${req.method} ${req.url}; X-Forwarded-For: ${req.headers['x-forwarded-for'] ?? '-'}\n`);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
    } catch (err) {
      process.stderr.write(`switchyard demo: cannot start demo server on 127.0.0.1:${port}: ${(err as Error).message}\n`);
      for (const s of servers) s.close();
      return 1;
    }
    servers.push(server);
  }
  let stop = (): void => {};
  const until = new Promise<void>((resolve) => {
    stop = resolve;
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  let greeted = false;
  const code = await run({
    path: QUICKSTART,
    logLevel: options.logLevel,
    until,
    onApplied: () => {
      if (greeted) return;
      greeted = true;
      process.stdout.write(
        [
          '',
          'Switchyard is running examples/quickstart in front of three demo servers (demo-3 has weight 2).',
          '',
          '  HTTP, round robin:   for i in 1 2 3 4; do curl -s http://127.0.0.1:8080/; done',
          '  TCP, leastconn:      curl -s http://127.0.0.1:8081/',
          '  Check a manifest:    npx switchyard validate -f examples/quickstart',
          '',
          `Edit ${path.relative(process.cwd(), QUICKSTART) || QUICKSTART}/*.yaml and the change applies at once. Ctrl-C stops.`,
          '',
        ].join('\n'),
      );
    },
  });
  stop();
  for (const s of servers) s.close();
  return code;
}
