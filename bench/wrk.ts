/**
 * wrk: the command line the harness gives it, and a parser for what it prints with `--latency`.
 *
 * wrk formats numbers with units: latencies in us/ms/s/m/h (`529.03us`, `1.47s`), byte counts in
 * powers of 1024 (`19.84MB` is 19.84 MiB), per-thread rates in powers of 1000 (`70.07k`).
 * The parser is pure and tested on real outputs in fixtures/wrk/.
 */
import { spawn } from 'node:child_process';

export interface WrkLatency {
  avgMs: number;
  stdevMs: number;
  maxMs: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export interface WrkSocketErrors {
  connect: number;
  read: number;
  write: number;
  timeout: number;
}

export interface WrkResult {
  /** Completed requests (`N requests in T`). */
  requests: number;
  durationSeconds: number;
  bytesRead: number;
  requestsPerSecond: number;
  /** Transfer/sec in bytes per second. */
  transferBytesPerSecond: number;
  latency: WrkLatency;
  socketErrors: WrkSocketErrors;
  /** Responses whose status was not 2xx or 3xx. */
  non2xx3xx: number;
}

const TIME_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const BYTE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4, PB: 1024 ** 5 };

/** `529.03us` -> 0.52903, `1.12ms` -> 1.12, `1.47s` -> 1470 (milliseconds). */
export function parseTimeMs(text: string): number {
  const m = /^(-?[\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk time: ${JSON.stringify(text)}`);
  // Dividing keeps `513.00us` at exactly 0.513 (multiplying by 0.001 would not).
  return m[2] === 'us' ? Number(m[1]) / 1000 : Number(m[1]) * TIME_UNITS_MS[m[2]!]!;
}

/** `19.84MB` -> bytes; wrk's K/M/G are powers of 1024. */
export function parseBytes(text: string): number {
  const m = /^([\d.]+)(B|KB|MB|GB|TB|PB)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk byte count: ${JSON.stringify(text)}`);
  return Number(m[1]) * BYTE_UNITS[m[2]!]!;
}

function match(text: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (!m) throw new Error(`wrk output has no ${what} line`);
  return m;
}

/** Parses the output of `wrk --latency`; throws when it is not a completed run. */
export function parseWrk(output: string): WrkResult {
  const total = match(output, /^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h)), ([\d.]+[KMGTP]?B) read\s*$/m, '"requests in"');
  const rps = match(output, /^Requests\/sec:\s+([\d.]+)\s*$/m, 'Requests/sec');
  const transfer = match(output, /^Transfer\/sec:\s+([\d.]+[KMGTP]?B)\s*$/m, 'Transfer/sec');
  const lat = match(output, /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+\s*$/m, 'Latency');
  const pct = (p: number): number => parseTimeMs(match(output, new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm'), `${p}% latency`)[1]!);
  const sock = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$/m.exec(output);
  const non2xx = /^\s*Non-2xx or 3xx responses: (\d+)\s*$/m.exec(output);
  return {
    requests: Number(total[1]),
    durationSeconds: parseTimeMs(total[2]!) / 1000,
    bytesRead: parseBytes(total[3]!),
    requestsPerSecond: Number(rps[1]),
    transferBytesPerSecond: parseBytes(transfer[1]!),
    latency: {
      avgMs: parseTimeMs(lat[1]!),
      stdevMs: parseTimeMs(lat[2]!),
      maxMs: parseTimeMs(lat[3]!),
      p50Ms: pct(50),
      p75Ms: pct(75),
      p90Ms: pct(90),
      p99Ms: pct(99),
    },
    socketErrors: sock
      ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx3xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/** Socket errors plus non-2xx/3xx responses. */
export function errorCount(r: WrkResult): number {
  const s = r.socketErrors;
  return s.connect + s.read + s.write + s.timeout + r.non2xx3xx;
}

export interface WrkOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Always 1 in the harness: the same for every contender. */
  threads: number;
  headers?: string[];
  /** Socket/request timeout; slower responses count as timeouts and are missing from the latencies. */
  timeoutSeconds?: number;
}

/** The wrk command line (without the binary). */
export function wrkArgs(o: WrkOptions): string[] {
  const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.durationSeconds}s`, '--latency'];
  if (o.timeoutSeconds !== undefined) args.push('--timeout', `${o.timeoutSeconds}s`);
  for (const h of o.headers ?? []) args.push('-H', h);
  args.push(o.url);
  return args;
}

export interface WrkRun {
  /** The command line that ran, for the record. */
  command: string[];
  output: string;
  result: WrkResult | null;
  error: string | null;
}

/**
 * Runs wrk (through `prefix`, e.g. `taskset -c 1`) and parses its output. `track` is told the
 * child's pid so that Ctrl-C can stop it.
 */
export function runWrk(wrk: string, o: WrkOptions, prefix: string[], track?: (pid: number, done: Promise<void>) => void): Promise<WrkRun> {
  const command = [...prefix, wrk, ...wrkArgs(o)];
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const done = new Promise<void>((res) => child.once('close', () => res()));
    if (child.pid !== undefined) track?.(child.pid, done);
    child.once('error', (e) => resolve({ command, output: out + err, result: null, error: `cannot run wrk: ${e.message}` }));
    child.once('close', (code, signal) => {
      const output = out + err;
      try {
        resolve({ command, output, result: parseWrk(out), error: code === 0 ? null : `wrk exited with ${signal ?? code}` });
      } catch {
        const first = output.trim().split('\n')[0] ?? '';
        resolve({ command, output, result: null, error: `wrk failed (${signal ?? `exit ${code}`}): ${first}` });
      }
    });
  });
}
