/**
 * A separate process that holds many idle keep-alive client connections to a proxy, for the
 * memory test (the harness measures the proxy's RSS meanwhile).
 *
 *   node bench/idle-connections.ts --port P --count 10000 [--concurrency 200] [--path /]
 *
 * Each connection sends one GET, reads the whole response and then stays open and silent, like
 * a browser between requests. When every attempt is done it prints one JSON line
 * {"type":"ready", held, failed, failures}. Then, per line on stdin: "report" prints
 * {"type":"report", alive, closedByPeer}; "exit" (or the end of stdin) closes everything and exits.
 * The harness raises the open-files limit before starting it; with EMFILE it holds what it can.
 */
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    count: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '200' },
    path: { type: 'string', default: '/' },
    timeout: { type: 'string', default: '10000' },
  },
});
if (values.port === undefined) {
  console.error('usage: node bench/idle-connections.ts --port P [--count N] [--concurrency C] [--path /]');
  process.exit(2);
}
const host = values.host;
const port = Number(values.port);
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const timeoutMs = Number(values.timeout);
const request = Buffer.from(`GET ${values.path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: switchyard-bench-idle\r\n\r\n`);

const held = new Set<Socket>();
const failures: Record<string, number> = {};
let failed = 0;
let closedByPeer = 0;
let stopping = false;

function fail(reason: string): void {
  failed++;
  failures[reason] = (failures[reason] ?? 0) + 1;
}

/** Opens one connection and completes one request/response; resolves once it is idle (or failed). */
function openOne(): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    let buf = Buffer.alloc(0);
    const socket = connect({ host, port });
    const finish = (reason: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (reason === null) {
        held.add(socket);
        socket.removeAllListeners('data');
        socket.on('data', () => {}); // an idle connection the server speaks on stays counted
      } else {
        fail(reason);
        socket.destroy();
      }
      resolve();
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (!status || status[1] !== '200') return finish(`status ${status?.[1] ?? '?'}`);
      if (/^connection:\s*close/im.test(head)) return finish('server closed after the response');
      const length = /^content-length:\s*(\d+)/im.exec(head);
      // Without a length (chunked), the head is enough to know the connection is established.
      if (!length || buf.length - end - 4 >= Number(length[1])) finish(null);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.once('close', () => {
      if (!settled) finish('closed before the response');
      else if (held.delete(socket) && !stopping) closedByPeer++;
    });
  });
}

const started = Date.now();
let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    next++;
    await openOne();
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
console.log(JSON.stringify({ type: 'ready', attempted: count, held: held.size, failed, failures, elapsedMs: Date.now() - started }));

const lines = createInterface({ input: process.stdin });
const shutdown = (): void => {
  stopping = true;
  for (const s of held) s.destroy();
  process.exit(0);
};
lines.on('line', (line) => {
  if (line.trim() === 'report') console.log(JSON.stringify({ type: 'report', alive: held.size, closedByPeer }));
  else if (line.trim() === 'exit') shutdown();
});
lines.once('close', shutdown);
process.once('SIGTERM', shutdown);
