/**
 * The memory test: a proxy's resident memory (VmRSS from /proc, summed over its processes)
 * idle, then with N idle keep-alive client connections held by bench/idle-connections.ts
 * in a separate process, then after they closed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { wrapCommand, type Managed, type Processes } from './processes.ts';
import { treeRssKiB } from './procfs.ts';

export interface IdleResult {
  contender: string;
  requested: number;
  /** Connections open when the RSS was read. */
  held: number;
  failed: number;
  failures: Record<string, number>;
  /** Connections the proxy closed while they were held. */
  closedByPeer: number;
  openSeconds: number;
  rssIdleKiB: number;
  rssHeldKiB: number;
  rssAfterKiB: number;
  /** (rssHeld - rssIdle) / held, in KiB; null when nothing was held. */
  perConnectionKiB: number | null;
  error: string | null;
}

/** Median of a few readings 200 ms apart (RSS moves with garbage collection). */
async function sampleRss(pid: number, samples = 5): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    values.push(treeRssKiB(pid));
    if (i < samples - 1) await sleep(200);
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

interface Holder {
  next(): Promise<Record<string, unknown>>;
  send(line: string): void;
  done: Promise<void>;
}

function startHolder(node: string, args: string[], cpus: string | null, procs: Processes): Holder {
  const command = wrapCommand([node, join(import.meta.dirname, 'idle-connections.ts'), ...args], cpus);
  const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const done = new Promise<void>((resolve) => child.once('close', () => resolve()));
  if (child.pid !== undefined) procs.track(child.pid, done);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const queue: Record<string, unknown>[] = [];
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  let closed = false;
  const closedValue = (): Record<string, unknown> => ({ type: 'exit', stderr: stderr.trim().split('\n').slice(-3).join(' ') });
  createInterface({ input: child.stdout }).on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const w = waiting.shift();
    if (w) w(msg);
    else queue.push(msg);
  });
  void done.then(() => {
    closed = true;
    for (const w of waiting.splice(0)) w(closedValue());
  });
  return {
    next: () => {
      const m = queue.shift();
      if (m) return Promise.resolve(m);
      if (closed) return Promise.resolve(closedValue());
      return new Promise((resolve) => waiting.push(resolve));
    },
    send: (line) => {
      if (!closed) child.stdin.write(`${line}\n`);
    },
    done,
  };
}

export interface IdleOptions {
  contender: string;
  port: number;
  proxy: Managed;
  count: number;
  node: string;
  /** Where the client runs (taskset list), or null. */
  cpus: string | null;
  procs: Processes;
  /** Pause before reading the RSS after opening and after closing (default 2 s). */
  settleMs?: number;
}

export async function measureIdleConnections(o: IdleOptions): Promise<IdleResult> {
  const result: IdleResult = {
    contender: o.contender,
    requested: o.count,
    held: 0,
    failed: 0,
    failures: {},
    closedByPeer: 0,
    openSeconds: 0,
    rssIdleKiB: 0,
    rssHeldKiB: 0,
    rssAfterKiB: 0,
    perConnectionKiB: null,
    error: null,
  };
  result.rssIdleKiB = await sampleRss(o.proxy.pid);
  const holder = startHolder(o.node, ['--port', String(o.port), '--count', String(o.count)], o.cpus, o.procs);
  const ready = await holder.next();
  if (ready.type !== 'ready') {
    result.error = `idle-connection client failed: ${String(ready.stderr ?? JSON.stringify(ready))}`;
    return result;
  }
  result.failed = Number(ready.failed);
  result.failures = ready.failures as Record<string, number>;
  result.openSeconds = Number(ready.elapsedMs) / 1000;
  await sleep(o.settleMs ?? 2000); // let the proxy settle (buffers released, GC)
  result.rssHeldKiB = await sampleRss(o.proxy.pid);
  holder.send('report');
  const report = await holder.next();
  result.held = Number(report.alive ?? 0);
  result.closedByPeer = Number(report.closedByPeer ?? 0);
  holder.send('exit');
  await Promise.race([holder.done, sleep(5000)]);
  await sleep(o.settleMs ?? 2000);
  result.rssAfterKiB = await sampleRss(o.proxy.pid);
  if (result.held > 0) result.perConnectionKiB = (result.rssHeldKiB - result.rssIdleKiB) / result.held;
  if (o.proxy.exitInfo !== null) result.error = `${o.proxy.name} exited during the memory test`;
  return result;
}
