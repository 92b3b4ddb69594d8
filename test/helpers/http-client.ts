/**
 * A tiny keep-alive HTTP/1.1 client over one raw socket, for tests that must see exactly what
 * the proxy sends (status line, headers, connection reuse), and a helper for one-shot requests
 * with arbitrary bytes.
 */
import net from 'node:net';
import http from 'node:http';

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request through Node's client with a fresh agent (new connection each time unless an agent is given). */
export function get(port: number, path = '/', options: { headers?: Record<string, string>; agent?: http.Agent; method?: string; body?: string } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends raw bytes on a new connection and returns everything received until the proxy closes (or timeoutMs). */
export function raw(port: number, payload: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (out += c));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(out);
    });
    socket.write(payload);
  });
}

/** Which server answered each of `n` sequential requests on one keep-alive connection. */
export async function servedBy(port: number, n: number, path = '/'): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const names: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const res = await get(port, path, { agent });
      names.push(res.status === 200 ? String(res.headers['x-server']) : `status-${res.status}`);
    }
  } finally {
    agent.destroy();
  }
  return names;
}
