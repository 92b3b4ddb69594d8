/**
 * Fake servers on 127.0.0.1 port 0 for integration tests: HTTP servers that answer with their
 * name (optionally slowly, or with a status), and TCP servers that greet with their name and echo.
 */
import http from 'node:http';
import net from 'node:net';

export interface FakeHttpServer {
  readonly name: string;
  readonly port: number;
  /** Requests seen, in order. */
  readonly requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  /** Requests in progress now and the most seen at once. */
  inFlight: number;
  maxInFlight: number;
  /** Delay before answering (ms); changeable while running. */
  delayMs: number;
  /** Status for /healthz; set to 500 to fail health checks without closing the port. */
  healthStatus: number;
  /** Requests for /healthz seen (health probes). */
  healthChecks: number;
  stop(): Promise<void>;
}

export interface FakeHttpOptions {
  delayMs?: number;
  port?: number;
  host?: string;
  /** Extra response headers for a request (e.g. a Set-Cookie the application issues). */
  headers?: (req: http.IncomingMessage, index: number) => Record<string, string | string[]>;
}

export async function startHttpServer(name: string, options: FakeHttpOptions = {}): Promise<FakeHttpServer> {
  const sockets = new Set<net.Socket>();
  const state: FakeHttpServer = {
    name,
    port: 0,
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    delayMs: options.delayMs ?? 0,
    healthStatus: 200,
    healthChecks: 0,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      state.healthChecks++;
      res.statusCode = state.healthStatus;
      res.end('ok');
      return;
    }
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      const answer = (): void => {
        state.inFlight--;
        res.setHeader('x-server', name);
        if (options.headers) for (const [k, v] of Object.entries(options.headers(req, state.requests.length))) res.setHeader(k, v);
        res.end(`${name}\n`);
      };
      if (state.delayMs > 0) setTimeout(answer, state.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  (state as { port: number }).port = (server.address() as net.AddressInfo).port;
  return state;
}

export interface FakeTcpServer {
  readonly name: string;
  readonly port: number;
  connections: number;
  stop(): Promise<void>;
}

/** Greets each connection with `name\n`, then echoes what it receives. */
export async function startTcpServer(name: string): Promise<FakeTcpServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state: FakeTcpServer = {
    name,
    port: (server.address() as net.AddressInfo).port,
    connections: 0,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}

/** A port that nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
