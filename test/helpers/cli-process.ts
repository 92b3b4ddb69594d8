/**
 * The `switchyard` command as a real child process, for the CLI integration tests: spawn it with
 * the Node running the tests (Node 24), collect its output, read its JSON log lines (pino, on
 * stdout), signal it and wait for it to exit. And `curl` as the client, run asynchronously so the
 * fake upstream servers living in the test process keep answering meanwhile.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const SWITCHYARD_BIN = join(REPO_ROOT, 'cli/bin/switchyard.js');
export const CURL = '/usr/bin/curl';

/** One pino log line, as JSON. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** The stdout lines that are JSON objects (the log), in order. */
  logs(): LogLine[];
  /** Null while running. */
  exit(): Exit | null;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Sends `signal` (if still running) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  /** Kills the process (SIGKILL) if it still runs; for t.after. */
  kill(): Promise<void>;
}

export interface CliOptions {
  cwd?: string;
  /** Runs it through another command, e.g. `ip netns exec NAME` to put a data plane in its own network namespace. */
  prefix?: string[];
  /** Another copy of cli/bin/switchyard.js (default SWITCHYARD_BIN). */
  bin?: string;
  /** The environment (default the test's). */
  env?: NodeJS.ProcessEnv;
}

/** Spawns `switchyard ARGS...` with the tests' Node. */
export function spawnCli(args: string[], options: CliOptions = {}): CliProcess {
  // The log level comes from --log-level, not from whatever LOG_LEVEL the test runner has.
  const env = { ...(options.env ?? process.env) };
  delete env.LOG_LEVEL;
  const argv = [...(options.prefix ?? []), process.execPath, options.bin ?? SWITCHYARD_BIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let exit: Exit | null = null;
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<Exit>((resolveExit) => {
    child.once('close', (code, signal) => {
      exit = { code, signal };
      resolveExit(exit);
    });
  });
  const proc: CliProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    logs: () => parseLog(out),
    exit: () => exit,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (exit === null) child.kill(signal);
      return exited;
    },
    async kill() {
      if (exit === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return proc;
}

/** Runs `switchyard ARGS...` to completion. */
export async function runCli(args: string[], options: Omit<CliOptions, 'prefix'> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args, options);
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

export function parseLog(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (value !== null && typeof value === 'object' && 'msg' in value) lines.push(value as LogLine);
    } catch {
      // a partial last line: read it next time
    }
  }
  return lines;
}

export interface CurlResult {
  /** 0 when curl could not get a response (connection refused, timeout...). */
  status: number;
  body: string;
  /** curl's exit code: 0 on success. */
  exitCode: number;
  stderr: string;
}

/** One request with curl on a new connection; never rejects. */
export function curl(url: string, options: { maxTimeSeconds?: number; headers?: string[] } = {}): Promise<CurlResult> {
  const headers = (options.headers ?? []).flatMap((h) => ['--header', h]);
  const args = ['--silent', '--show-error', '--noproxy', '*', '--max-time', String(options.maxTimeSeconds ?? 5), ...headers, '--write-out', '\n%{http_code}', url];
  return new Promise((resolveCurl) => {
    execFile(CURL, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      const cut = stdout.lastIndexOf('\n');
      const status = Number(stdout.slice(cut + 1)) || 0;
      const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolveCurl({ status, body: stdout.slice(0, Math.max(cut, 0)), exitCode, stderr });
    });
  });
}

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
