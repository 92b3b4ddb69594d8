/**
 * Every process the harness starts goes through here, so that all of them (and their children,
 * such as nginx workers) are stopped on exit, on Ctrl-C and on errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { descendants } from './procfs.ts';

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
