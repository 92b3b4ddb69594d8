/**
 * CPU time and resident memory of a process and its descendants, from /proc.
 *
 * CPU: utime+stime of the process and of every live descendant, plus cutime+cstime (children
 * that already exited and were waited for). Read before and after a wrk run, the difference is
 * what the proxy (nginx: master and workers) spent serving it.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** Clock ticks. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses, so fields start after the last `)`. */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/PID/stat line');
  const pid = Number(text.slice(0, text.indexOf('(')).trim());
  // After ") ": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17); index 0 is field 3.
  const f = text.slice(close + 2).trim().split(/\s+/);
  const num = (field: number): number => Number(f[field - 3]);
  return { pid, ppid: num(4), utime: num(14), stime: num(15), cutime: num(16), cstime: num(17) };
}

/** VmRSS in KiB from /proc/PID/status, or null if absent (a zombie). */
export function parseVmRssKiB(status: string): number | null {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return m ? Number(m[1]) : null;
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Every live descendant of `pid` (children, grandchildren...). */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s === null) continue;
    const list = parent.get(s.ppid) ?? [];
    list.push(s.pid);
    parent.set(s.ppid, list);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    for (const child of parent.get(stack.pop()!) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}

let ticks: number | null = null;
/** Clock ticks per second (getconf CLK_TCK; 100 on Linux). */
export function clockTicks(): number {
  if (ticks === null) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** CPU seconds used so far by `pid` and its descendants (live and reaped). */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    const s = readStat(p);
    if (s !== null) total += s.utime + s.stime + s.cutime + s.cstime;
  }
  return total / clockTicks();
}

/** Summed VmRSS (KiB) of `pid` and its descendants. */
export function treeRssKiB(pid: number): number {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      total += parseVmRssKiB(readFileSync(`/proc/${p}/status`, 'utf8')) ?? 0;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

/**
 * CPU ticks used so far by every process that is neither `self` nor one of its descendants, nor
 * a kernel thread (ksoftirqd does the loopback work of the benchmark itself): other people's
 * work on the machine. Includes cutime/cstime, so children they reaped are counted.
 */
export function foreignTicks(self: number): Map<number, number> {
  const stats: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s !== null) stats.push(s);
  }
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const ours = new Set<number>([self]);
  const stack = [self];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop()!) ?? []) {
      if (ours.has(c)) continue;
      ours.add(c);
      stack.push(c);
    }
  }
  const out = new Map<number, number>();
  for (const s of stats) {
    if (ours.has(s.pid) || s.pid === 2 || s.ppid === 2) continue;
    out.set(s.pid, s.utime + s.stime + s.cutime + s.cstime);
  }
  return out;
}

/**
 * CPU seconds other processes used between two `foreignTicks` readings. A process that exited
 * meanwhile shows up in its parent's cutime/cstime with its whole lifetime, so what it had used
 * at the first reading is taken off again; a process born meanwhile counts fully.
 */
export function foreignCpuSeconds(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  for (const [pid, t] of before) if (!after.has(pid)) ticks -= t;
  return Math.max(0, ticks) / clockTicks();
}
