/**
 * Continuous HTTP load for integration tests: `workers` loops, each sending sequential requests
 * over its own keep-alive connection, recording every outcome until stopped. A test sets `phase`
 * to label what it is doing; each result carries the phase that was current when it was sent.
 */
import http from 'node:http';
import { eventually } from './eventually.ts';
import { get } from './http-client.ts';

export interface LoadResult {
  /** Phase when the request was sent. */
  phase: string;
  /** 0 when the request failed at the socket level. */
  status: number;
  /** x-server of a 200, else empty. */
  server: string;
  error: string | null;
}

export interface Load {
  phase: string;
  readonly results: LoadResult[];
  /** Results that are not a 200 (errors and other statuses). */
  failures(): LoadResult[];
  /** Waits until `n` more results than now have been recorded. */
  more(n: number, timeoutMs?: number): Promise<LoadResult[]>;
  stop(): Promise<void>;
}

export function startLoad(port: number, options: { workers?: number; path?: (i: number) => string } = {}): Load {
  const workers = options.workers ?? 4;
  let stopped = false;
  let sent = 0;
  const results: LoadResult[] = [];
  const load: Load = {
    phase: 'start',
    results,
    failures: () => results.filter((r) => r.status !== 200),
    async more(n: number, timeoutMs = 10_000) {
      const from = results.length;
      await eventually(
        () => {
          if (results.length < from + n) throw new Error(`load made ${results.length - from} of ${n} requests`);
        },
        { timeoutMs, intervalMs: 10 },
      );
      return results.slice(from);
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
  const loop = async (): Promise<void> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (!stopped) {
        const phase = load.phase;
        const path = options.path ? options.path(sent++) : '/';
        try {
          const res = await get(port, path, { agent });
          results.push({ phase, status: res.status, server: res.status === 200 ? String(res.headers['x-server']) : '', error: null });
        } catch (err) {
          results.push({ phase, status: 0, server: '', error: (err as Error).message });
        }
      }
    } finally {
      agent.destroy();
    }
  };
  const loops = Array.from({ length: workers }, () => loop());
  return load;
}
