/**
 * Every process the harness starts goes through here, so that all of them (and their children,
 * such as nginx workers) are stopped on exit, on Ctrl-C and on errors. Also the tools it needs
 * (found on the PATH or in the sbin folders) and the machine they run on, for the reports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { descendants } from './procfs.ts';
import type { Machine } from './report.ts';

/** A command on the PATH or in the sbin folders (where Debian puts haproxy and nginx). */
export function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

/** First line a command prints on stdout or stderr (nginx -v uses stderr, wrk -v exits 1). */
export function firstLine(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n')[0]!.trim();
}

/** The hard limit of open files (what the wrapped commands raise theirs to). */
export function hardFileLimit(): number {
  const n = Number(firstLine('sh', ['-c', 'ulimit -Hn']));
  return Number.isFinite(n) && n > 0 ? n : 1_048_576;
}

/** `abc1234`, with `+ uncommitted changes` when the sources differ from it (read-only git). */
export function switchyardRevision(repo: string): string {
  const rev = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (rev.status !== 0) return 'unknown revision';
  const dirty = spawnSync('git', ['-C', repo, 'status', '--porcelain', '--', 'api', 'controller', 'dataplane', 'cli', 'package-lock.json'], { encoding: 'utf8' });
  return `${rev.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted changes' : ''}`;
}

/**
 * The machine and the versions of what runs on it, for the reports' machine line. `tools`: the
 * paths found by findTool; a tool a benchmark does not use (null) is left out of the line.
 */
export function machineInfo(repo: string, tools: { haproxy: string | null; nginx: string | null; wrk: string | null }): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const version = (path: string | null, clean: (line: string) => string): string => (path === null ? '' : clean(firstLine(path, ['-v'])));
  return {
    nproc: availableParallelism(),
    cpuModel: model,
    kernel: release(),
    node: firstLine(join(repo, 'node_modules', '.bin', 'node'), ['-v']),
    haproxy: version(tools.haproxy, (l) => l.replace(/ - https?:\S+$/, '')),
    nginx: version(tools.nginx, (l) => l.replace(/^nginx version:\s*/, '')),
    wrk: version(tools.wrk, (l) => l.replace(/\s*\[.*$/, '')),
    memTotalMiB: Math.round(totalmem() / (1024 * 1024)),
    switchyard: switchyardRevision(repo),
  };
}

export interface Managed {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Set once the process has exited. */
  exitInfo: { code: number | null; signal: string | null } | null;
  exited: Promise<void>;
}

export interface StartOptions {
  /** stdout and stderr go there. */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** CPU list for `taskset -c`, or null for no pinning. */
  cpus: string | null;
}

/**
 * The command wrapped so that its open-files limit is raised to the hard limit (the proxies and
 * the idle-connection client need more than 10,000 descriptors) and, when `cpus` is set, pinned
 * with taskset. `sh`, and then `taskset`, exec the command, so the pid is the command's.
 */
export function wrapCommand(argv: string[], cpus: string | null): string[] {
  const pin = cpus === null ? [] : ['taskset', '-c', cpus];
  return ['sh', '-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...pin, ...argv];
}

function signalTree(pid: number, signal: NodeJS.Signals): void {
  let pids: number[] = [];
  try {
    pids = descendants(pid);
  } catch {
    // /proc unreadable: the root alone
  }
  for (const p of [pid, ...pids]) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

export class Processes {
  private readonly live = new Set<Managed>();
  private readonly shortLived = new Set<number>();

  start(name: string, argv: string[], options: StartOptions): Managed {
    const command = wrapCommand(argv, options.cpus);
    const fd = openSync(options.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command[0]!, command.slice(1), { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`cannot start ${name}: ${argv.join(' ')}`);
    const managed: Managed = {
      name,
      pid: child.pid,
      child,
      logFile: options.logFile,
      exitInfo: null,
      exited: new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          managed.exitInfo = { code, signal };
          this.live.delete(managed);
          resolve();
        });
      }),
    };
    child.once('error', () => {
      // reported through exitInfo/exited; spawn errors also emit 'exit' or leave pid undefined
    });
    this.live.add(managed);
    return managed;
  }

  /** A short-lived child (wrk, the idle-connection client) to stop if the harness is interrupted. */
  track(pid: number, done: Promise<void>): void {
    this.shortLived.add(pid);
    void done.then(() => this.shortLived.delete(pid));
  }

  /** SIGTERM to the process and its descendants, SIGKILL after `graceMs`. */
  async stop(m: Managed, graceMs = 3000): Promise<void> {
    if (m.exitInfo !== null) return;
    const tree = [m.pid, ...descendants(m.pid)];
    signalTree(m.pid, 'SIGTERM');
    const timedOut = await Promise.race([m.exited.then(() => false), sleep(graceMs).then(() => true)]);
    // Whatever is left (the process itself if it ignored SIGTERM, workers of a master that died) is killed.
    for (const p of tree) {
      if (p === m.pid && !timedOut) continue;
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (timedOut) await Promise.race([m.exited, sleep(1000)]);
  }

  async stopAll(): Promise<void> {
    for (const pid of this.shortLived) signalTree(pid, 'SIGKILL');
    await Promise.all([...this.live].map((m) => this.stop(m)));
  }

  /** Synchronous last resort for process 'exit': SIGKILL whatever is still running. */
  killAllSync(): void {
    for (const pid of this.shortLived) signalTree(pid, 'SIGKILL');
    for (const m of this.live) signalTree(m.pid, 'SIGKILL');
  }
}
