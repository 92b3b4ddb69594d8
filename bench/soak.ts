/**
 * The soak benchmark: does Switchyard's memory stay flat under continuous mixed load? One
 * Switchyard (--workers 1, the main benchmark's HTTP and TCP frontends) in front of the same nginx
 * backends, pinned like the main benchmark's default mode, under wrk for --minutes (default 10),
 * its RSS read every 10 s. See bench/README.md ("Soak").
 *
 *   npm run bench:soak                          10 minutes after a 30 s warm-up
 *   npm run bench:soak -- --quick               2 minutes; indicative only
 *   npm run bench:soak -- --minutes 1 --out /tmp/soak-check
 *
 * The pure parts (schedule, slope, verdict, Markdown) are exported and unit-tested
 * (soak.test.ts); the run itself starts only when this file is the entry point.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LARGE_PATH, startBackends } from './backends.ts';
import { choosePorts, startSwitchyard, waitUntilAnswers, type Ports } from './contenders.ts';
import { findTool, hardFileLimit, machineInfo, Processes } from './processes.ts';
import { foreignCpuSeconds, foreignTicks, treeCpuSeconds, treeRssKiB } from './procfs.ts';
import { fmtInt, fmtPercent, machineLine, problemsSection, table, type Machine } from './report.ts';
import { errorCount, runWrk } from './wrk.ts';

// ---------- the schedule ----------

/** One block of load between two RSS samples. */
export const BLOCK_SECONDS = 10;
/** Blocks per cycle: keep-alive, keep-alive, bursts. */
export const CYCLE_BLOCKS = 3;
export const DEFAULT_MINUTES = 10;
export const QUICK_MINUTES = 2;
/** Blocks of load before the measured run (one cycle, so every data path is warm). */
export const WARMUP_BLOCKS = 3;
export const WRK_THREADS = 1;
export const WRK_TIMEOUT_SECONDS = 5;

export type LoadKind = 'keepalive' | 'close' | 'large' | 'tcp';

export interface LoadSpec {
  kind: LoadKind;
  title: string;
  /** For the schedule in words: `new connection per request (50 connections, Connection: close)`. */
  phrase: string;
  frontend: 'http' | 'tcp';
  path: string;
  connections: number;
  headers: string[];
}

/** The main benchmark's keepalive-50, close-50, large-1mib and tcp-50 scenarios (bench/run.ts). */
export const LOADS: Record<LoadKind, LoadSpec> = {
  keepalive: { kind: 'keepalive', title: 'Keep-alive, 50 connections', phrase: 'keep-alive (50 connections, GET /)', frontend: 'http', path: '/', connections: 50, headers: [] },
  close: { kind: 'close', title: 'New connection per request, 50 connections', phrase: 'new connection per request (50 connections, `Connection: close`)', frontend: 'http', path: '/', connections: 50, headers: ['Connection: close'] },
  large: { kind: 'large', title: '1 MiB response, 10 connections', phrase: `1 MiB responses (10 connections, GET ${LARGE_PATH})`, frontend: 'http', path: LARGE_PATH, connections: 10, headers: [] },
  tcp: { kind: 'tcp', title: 'TCP mode, keep-alive HTTP, 50 connections', phrase: 'TCP mode (50 connections, keep-alive HTTP through the tcp frontend)', frontend: 'tcp', path: '/', connections: 50, headers: [] },
};

export interface Step {
  kind: LoadKind;
  seconds: number;
}

const BURSTS: Step[] = [
  { kind: 'close', seconds: 3 },
  { kind: 'large', seconds: 3 },
  { kind: 'tcp', seconds: 4 },
];

/**
 * The wrk runs of block `index` (counted from the warm-up's first block), back to back, 10 s in
 * all: keep-alive in blocks 0 and 1 of each cycle, the three bursts in block 2. The warm-up is one
 * cycle, so the measured run starts with keep-alive and each of its minutes holds two cycles.
 */
export function blockSteps(index: number): Step[] {
  return index % CYCLE_BLOCKS === CYCLE_BLOCKS - 1 ? BURSTS.map((s) => ({ ...s })) : [{ kind: 'keepalive', seconds: BLOCK_SECONDS }];
}

/** The schedule in words, for the report. */
export function describeCycle(): string {
  const bursts = BURSTS.map((s) => `${LOADS[s.kind].phrase} ${s.seconds} s`).join(', ');
  return `${CYCLE_BLOCKS - 1} blocks of ${LOADS.keepalive.phrase}, then one block of bursts: ${bursts}`;
}

// ---------- samples and the verdict ----------

export interface SoakSample {
  /** Seconds since the measured run started (the end of the warm-up). */
  t: number;
  /** VmRSS of Switchyard's process tree. */
  rssKiB: number;
  /** Requests completed since the measured run started, and errors among them (cumulative). */
  requests: number;
  errors: number;
  /** Switchyard's user+system CPU seconds since the measured run started. */
  cpuSeconds: number;
}

export interface SoakCriteria {
  /** Flat: the second half's least-squares slope is below this (MiB per 10 minutes)... */
  maxSlopeMiBPer10Min: number;
  /** ...and |end RSS − warm RSS| / warm RSS is at most this. */
  maxEndChange: number;
}

export const FLAT_CRITERIA: SoakCriteria = { maxSlopeMiBPer10Min: 5, maxEndChange: 0.1 };

export type Verdict = 'flat' | 'not flat' | 'no verdict';

export interface SoakAnalysis {
  /** The first sample: right after the warm-up. */
  warmRssKiB: number | null;
  endRssKiB: number | null;
  maxRssKiB: number | null;
  maxAtSeconds: number | null;
  /** The second half: samples at or after this time (half the last sample's time). */
  secondHalfFromSeconds: number | null;
  secondHalfSamples: number;
  slopeMiBPer10Min: number | null;
  /** (end − warm) / warm. */
  endChange: number | null;
  verdict: Verdict;
  /** Why the verdict is "not flat" or "no verdict" (empty when flat). */
  reasons: string[];
}

/** Slope of the least-squares line through the points; null for fewer than two distinct x. */
export function leastSquaresSlope(points: readonly { x: number; y: number }[]): number | null {
  if (points.length < 2) return null;
  const mx = points.reduce((n, p) => n + p.x, 0) / points.length;
  const my = points.reduce((n, p) => n + p.y, 0) / points.length;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? null : sxy / sxx;
}

/** KiB per second -> MiB per 10 minutes. */
export function kibPerSecondToMiBPer10Min(slope: number): number {
  return (slope * 600) / 1024;
}

export function fmtSigned(n: number, digits: number): string {
  const s = n.toFixed(digits);
  return n >= 0 && !s.startsWith('-') ? `+${s}` : s;
}

/**
 * Warm, end and max RSS, the second half's slope and the verdict. `aborted`: why the run stopped
 * early (Switchyard exited...), which leaves no verdict.
 */
export function analyze(samples: readonly SoakSample[], criteria: SoakCriteria = FLAT_CRITERIA, aborted: string | null = null): SoakAnalysis {
  const out: SoakAnalysis = {
    warmRssKiB: null, endRssKiB: null, maxRssKiB: null, maxAtSeconds: null, secondHalfFromSeconds: null, secondHalfSamples: 0,
    slopeMiBPer10Min: null, endChange: null, verdict: 'no verdict', reasons: [],
  };
  if (samples.length > 0) {
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const max = samples.reduce((m, s) => (s.rssKiB > m.rssKiB ? s : m), first);
    out.warmRssKiB = first.rssKiB;
    out.endRssKiB = last.rssKiB;
    out.maxRssKiB = max.rssKiB;
    out.maxAtSeconds = max.t;
    out.endChange = first.rssKiB > 0 ? (last.rssKiB - first.rssKiB) / first.rssKiB : null;
    const from = (first.t + last.t) / 2;
    const half = samples.filter((s) => s.t >= from);
    out.secondHalfFromSeconds = from;
    out.secondHalfSamples = half.length;
    const slope = leastSquaresSlope(half.map((s) => ({ x: s.t, y: s.rssKiB })));
    out.slopeMiBPer10Min = slope === null ? null : kibPerSecondToMiBPer10Min(slope);
  }
  if (aborted !== null) out.reasons.push(aborted);
  if (out.slopeMiBPer10Min === null || out.endChange === null) out.reasons.push(`too few samples for a slope (${out.secondHalfSamples} in the second half, 2 needed)`);
  if (out.reasons.length > 0) return out;
  const slope = out.slopeMiBPer10Min!;
  const change = out.endChange!;
  if (!(slope < criteria.maxSlopeMiBPer10Min)) {
    out.reasons.push(`the slope over the second half is ${fmtSigned(slope, 1)} MiB per 10 minutes, not below ${criteria.maxSlopeMiBPer10Min}`);
  }
  if (!(Math.abs(change) <= criteria.maxEndChange)) {
    out.reasons.push(`the end RSS is ${fmtSigned(change * 100, 1)}% from the warm RSS, not within ±${Math.round(criteria.maxEndChange * 100)}%`);
  }
  out.verdict = out.reasons.length === 0 ? 'flat' : 'not flat';
  return out;
}

/** The samples at each whole minute (every 60 / sampleSeconds-th), and the last one. */
export function minuteSamples(samples: readonly SoakSample[], sampleSeconds = BLOCK_SECONDS): SoakSample[] {
  const every = Math.max(1, Math.round(60 / sampleSeconds));
  const picked = samples.filter((_, i) => i % every === 0);
  const last = samples.at(-1);
  if (last !== undefined && picked.at(-1) !== last) picked.push(last);
  return picked;
}

// ---------- wrk runs and totals ----------

export interface SoakRun {
  phase: 'warmup' | 'run';
  /** Block index, counted from the warm-up's first. */
  block: number;
  kind: LoadKind;
  seconds: number;
  /** null when wrk failed (error says why). */
  requests: number | null;
  durationSeconds: number | null;
  rps: number | null;
  p99Ms: number | null;
  /** Socket errors plus non-2xx/3xx responses. */
  errors: number;
  error: string | null;
}

export interface LoadTotals {
  kind: LoadKind;
  runs: number;
  failedRuns: number;
  /** wrk's own durations, summed. */
  seconds: number;
  requests: number;
  errors: number;
}

/** Per load kind, over the measured run (the warm-up is left out), in LOADS order. */
export function totalsByKind(runs: readonly SoakRun[]): LoadTotals[] {
  return (Object.keys(LOADS) as LoadKind[]).map((kind) => {
    const mine = runs.filter((r) => r.phase === 'run' && r.kind === kind);
    return {
      kind,
      runs: mine.length,
      failedRuns: mine.filter((r) => r.requests === null).length,
      seconds: mine.reduce((n, r) => n + (r.durationSeconds ?? 0), 0),
      requests: mine.reduce((n, r) => n + (r.requests ?? 0), 0),
      errors: mine.reduce((n, r) => n + r.errors, 0),
    };
  });
}

// ---------- the report ----------

export interface SoakSettings {
  minutes: number;
  quick: boolean;
  warmupSeconds: number;
  sampleSeconds: number;
  cycle: string;
  loads: LoadSpec[];
  proxyCpus: string | null;
  loadCpus: string | null;
  switchyardWorkers: number;
  wrkThreads: number;
  wrkTimeoutSeconds: number;
  criteria: SoakCriteria;
}

export interface SoakReport {
  schemaVersion: 1;
  kind: 'soak';
  date: string;
  totalSeconds: number;
  settings: SoakSettings;
  machine: Machine;
  /** The manifests Switchyard ran. */
  config: string;
  /** Switchyard's RSS once it answered, before any load. */
  startRssKiB: number | null;
  samples: SoakSample[];
  analysis: SoakAnalysis;
  totals: LoadTotals[];
  requests: number;
  errors: number;
  /** Switchyard's CPU seconds over the measured run, and per 100,000 requests. */
  cpuSeconds: number | null;
  cpuPer100k: number | null;
  /** Share of a CPU that processes outside the benchmark used during the measured run. */
  foreignLoad: number | null;
  runs: SoakRun[];
  /** Crashes, failed wrk runs and errors. */
  events: string[];
  /** Lines Switchyard printed at --log-level warn. */
  switchyardLog: string[];
}

export function fmtMiB(kib: number | null): string {
  return kib === null ? '–' : `${(kib / 1024).toFixed(1)} MiB`;
}

/** 75 -> `1:15`. */
export function fmtClock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function soakRunKind(s: Pick<SoakSettings, 'minutes' | 'quick'>): string {
  if (s.quick) return `**quick mode** (${s.minutes} min)`;
  return s.minutes >= DEFAULT_MINUTES ? `full run (${s.minutes} min)` : `short run (${s.minutes} min)`;
}

export function renderSoakMarkdown(r: SoakReport): string {
  const s = r.settings;
  const a = r.analysis;
  const c = s.criteria;
  const lines: string[] = [];
  lines.push('# Switchyard soak: memory under continuous load');
  lines.push('');
  lines.push(`${r.date} · ${soakRunKind(s)} · Switchyard ${r.machine.switchyard} · took ${Math.round(r.totalSeconds)} s`);
  lines.push('');
  const figures =
    `RSS ${fmtMiB(a.warmRssKiB)} after the warm-up, ${fmtMiB(a.endRssKiB)} at the end` +
    (a.endChange === null ? '' : ` (${fmtSigned(a.endChange * 100, 1)}%)`) +
    `, at most ${fmtMiB(a.maxRssKiB)}` +
    (a.slopeMiBPer10Min === null ? '' : `; slope over the second half ${fmtSigned(a.slopeMiBPer10Min, 2)} MiB per 10 minutes`) +
    '.';
  const verdict = a.verdict === 'flat' ? '**Verdict: flat.**' : a.verdict === 'not flat' ? '**Verdict: not flat.**' : '**No verdict.**';
  const why = a.reasons.join('; ').replace(/^./, (ch) => ch.toUpperCase());
  lines.push(`${verdict} ${figures}${why === '' ? '' : ` ${why}.`}`);
  lines.push('');
  lines.push(
    `Criteria for "flat": the least-squares slope of RSS over the second half of the measured run is below ${c.maxSlopeMiBPer10Min} MiB ` +
      `per 10 minutes, **and** the RSS at the end is within ±${Math.round(c.maxEndChange * 100)}% of the RSS after the warm-up.`,
  );
  lines.push('');
  if (s.quick || s.minutes < DEFAULT_MINUTES) {
    lines.push(
      `> **${s.quick ? 'Quick mode' : 'Short run'}:** ${s.minutes} min instead of ${DEFAULT_MINUTES}. The slope is fitted over ` +
        `${Math.round((s.minutes * 60) / 2)} s and extrapolated to 10 minutes, so one step of the heap moves it a lot; indicative only. ` +
        'Quote `npm run bench:soak` (10 minutes).',
    );
    lines.push('');
  }
  const pin = s.proxyCpus === null ? 'nothing pinned (fewer than 2 CPUs)' : `Switchyard pinned to CPU ${s.proxyCpus}, wrk and the backends to CPU ${s.loadCpus}`;
  lines.push(
    `- **Mode:** Switchyard --workers ${s.switchyardWorkers}${s.switchyardWorkers === 1 ? ' (one thread does everything)' : ''}, the main benchmark's ` +
      `HTTP and TCP frontends (3 nginx backend ports, round robin), ${pin}.`,
  );
  lines.push(
    `- **Load:** continuous: wrk -t${s.wrkThreads} --latency --timeout ${s.wrkTimeoutSeconds}s, runs back to back in blocks of ${s.sampleSeconds} s, ` +
      `a cycle of ${s.sampleSeconds * CYCLE_BLOCKS} s: ${s.cycle}. Before the measured run, ${s.warmupSeconds} s of the same (warm-up, not counted).`,
  );
  lines.push(`- **RSS:** VmRSS of Switchyard's process from /proc, read after each block (every ${s.sampleSeconds} s); ${fmtMiB(r.startRssKiB)} once it answered, before any load.`);
  lines.push(machineLine(r.machine));
  lines.push(`- **Other load on the machine:** ${r.foreignLoad === null ? 'not measured' : `${fmtPercent(r.foreignLoad)} of a CPU on average during the measured run`}.`);
  lines.push('');

  lines.push('## Memory');
  lines.push('');
  lines.push(
    table(
      ['After the warm-up', 'End', 'Max', 'Slope, second half', 'End vs warm-up', 'Verdict'],
      ['r', 'r', 'r', 'r', 'r', 'l'],
      [[
        fmtMiB(a.warmRssKiB),
        fmtMiB(a.endRssKiB),
        a.maxRssKiB === null ? '–' : `${fmtMiB(a.maxRssKiB)} at ${fmtClock(a.maxAtSeconds ?? 0)}`,
        a.slopeMiBPer10Min === null ? '–' : `${fmtSigned(a.slopeMiBPer10Min, 2)} MiB / 10 min (${a.secondHalfSamples} samples from ${fmtClock(a.secondHalfFromSeconds ?? 0)})`,
        a.endChange === null ? '–' : `${fmtSigned(a.endChange * 100, 1)}%`,
        a.verdict,
      ]],
    ),
  );
  lines.push('');

  lines.push('## Samples, every minute');
  lines.push('');
  const picked = minuteSamples(r.samples, s.sampleSeconds);
  lines.push(
    table(
      ['Time', 'RSS', 'Requests (cumulative)', 'Errors (cumulative)', 'req/s since the previous row', 'Switchyard CPU (cumulative)'],
      ['r', 'r', 'r', 'r', 'r', 'r'],
      picked.map((x, i) => {
        const prev = i > 0 ? picked[i - 1]! : null;
        const rate = prev !== null && x.t > prev.t ? (x.requests - prev.requests) / (x.t - prev.t) : null;
        return [fmtClock(x.t), fmtMiB(x.rssKiB), fmtInt(x.requests), fmtInt(x.errors), fmtInt(rate), `${x.cpuSeconds.toFixed(1)} s`];
      }),
    ),
  );
  lines.push('');
  lines.push(`Every sample (one per ${s.sampleSeconds} s) is in soak.json.`);
  lines.push('');

  lines.push('## Load');
  lines.push('');
  const rows = r.totals.map((t) => [
    LOADS[t.kind].title,
    String(t.runs) + (t.failedRuns > 0 ? ` (${t.failedRuns} failed)` : ''),
    `${Math.round(t.seconds)} s`,
    fmtInt(t.requests),
    fmtInt(t.seconds > 0 ? t.requests / t.seconds : null),
    fmtInt(t.errors),
  ]);
  const seconds = r.totals.reduce((n, t) => n + t.seconds, 0);
  rows.push(['**Total**', String(r.totals.reduce((n, t) => n + t.runs, 0)), `${Math.round(seconds)} s`, fmtInt(r.requests), fmtInt(seconds > 0 ? r.requests / seconds : null), fmtInt(r.errors)]);
  lines.push(table(['Load', 'wrk runs', 'Time', 'Requests', 'req/s (mean)', 'Errors'], ['l', 'r', 'r', 'r', 'r', 'r'], rows));
  lines.push('');
  lines.push(
    'Errors: wrk socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. ' +
      `Switchyard's CPU (user+system): ${r.cpuSeconds === null ? '–' : `${r.cpuSeconds.toFixed(1)} s`} over the measured run, ` +
      `${r.cpuPer100k === null ? '–' : r.cpuPer100k.toFixed(2)} s per 100,000 requests.`,
  );
  lines.push('');

  lines.push(...problemsSection(r.events, r.switchyardLog));
  return `${lines.join('\n')}\n`;
}

// ---------- arguments ----------

export const USAGE = `usage: npm run bench:soak [-- options]

  --minutes M     length of the measured run, after a ${WARMUP_BLOCKS * BLOCK_SECONDS} s warm-up (default ${DEFAULT_MINUTES})
  --quick         ${QUICK_MINUTES} minutes (unless --minutes says otherwise); indicative only
  --out DIR       where soak.md and soak.json go (default bench/results)
  --port-base P   first of the loopback ports to use (default: 24000, or the next free block)
  --keep-temp     keep the temp folder with configs and logs
  -h, --help      this text
`;

export interface SoakOptions {
  minutes: number;
  quick: boolean;
  out: string | null;
  portBase: number | null;
  keepTemp: boolean;
  help: boolean;
}

/** Throws an Error whose message is for the user. */
export function parseSoakArgs(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      'port-base': { type: 'string' },
      'keep-temp': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const int = (name: string, value: string, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  return {
    minutes: values.minutes === undefined ? (values.quick ? QUICK_MINUTES : DEFAULT_MINUTES) : int('minutes', values.minutes, 1),
    quick: values.quick,
    out: values.out ?? null,
    portBase: values['port-base'] === undefined ? null : int('port-base', values['port-base'], 1024),
    keepTemp: values['keep-temp'],
    help: values.help,
  };
}

// ---------- the run ----------

const REPO = resolve(import.meta.dirname, '..');
const REPO_NODE = join(REPO, 'node_modules', '.bin', 'node');

function fail(message: string): never {
  console.error(`bench:soak: ${message}`);
  process.exit(1);
}

async function main(): Promise<number> {
  let opts: SoakOptions;
  try {
    opts = parseSoakArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench:soak: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major! < 23 || (major === 23 && minor! < 6)) fail(`needs Node 24 (this is ${process.version}); run it with \`npm run bench:soak\`.`);
  if (!existsSync(REPO_NODE)) fail(`${REPO_NODE} is missing; run \`npm ci\` first.`);
  const pinned = availableParallelism() >= 2;
  const tools = { nginx: findTool('nginx'), wrk: findTool('wrk'), taskset: findTool('taskset') };
  const missing = Object.entries(tools).filter(([name, path]) => path === null && (name !== 'taskset' || pinned)).map(([name]) => name);
  if (missing.length > 0) {
    fail(`missing ${missing.join(', ')}. It installs nothing itself; on Debian or Ubuntu:\n\n  sudo apt-get install ${missing.map((m) => (m === 'taskset' ? 'util-linux' : m)).join(' ')}\n`);
  }
  const NGINX = tools.nginx!;
  const WRK = tools.wrk!;
  const PROXY_CPUS = pinned ? '0' : null;
  const LOAD_CPUS = pinned ? '1' : null;
  const outDir = resolve(opts.out ?? join(REPO, 'bench', 'results'));

  const procs = new Processes();
  const tmp = mkdtempSync(join(tmpdir(), 'switchyard-soak-'));
  const cleanup = async (keepTemp: boolean): Promise<void> => {
    await procs.stopAll();
    if (!keepTemp && !opts.keepTemp) rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', () => procs.killAllSync());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\nbench:soak: ${signal}, stopping every process...`);
      void cleanup(false).finally(() => process.exit(130));
    });
  }

  const started = Date.now();
  const log = (msg: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}`);
  try {
    const ports: Ports = await choosePorts(opts.portBase);
    const machine = machineInfo(REPO, { haproxy: null, nginx: NGINX, wrk: WRK });
    const fileLimit = hardFileLimit();
    log(
      `soak: ${opts.minutes} min after a ${WARMUP_BLOCKS * BLOCK_SECONDS} s warm-up; ` +
        `${pinned ? 'Switchyard pinned to CPU 0, wrk and backends to CPU 1' : 'nothing pinned'}; ports ${ports.backends[0]! - 1}+; temp ${tmp}`,
    );
    const backends = startBackends(
      procs,
      NGINX,
      { prefix: join(tmp, 'backends'), workers: 1, workerConnections: 8192, fileLimit, runAsRoot: process.getuid?.() === 0, ports: ports.backends, largeFile: join(tmp, 'backends', '1m.bin') },
      LOAD_CPUS,
    );
    for (const port of ports.backends) await waitUntilAnswers(port, backends);
    const switchyard = startSwitchyard({ procs, dir: tmp, cpus: PROXY_CPUS }, REPO, ports, 1);
    const sy = switchyard.managed;
    await waitUntilAnswers(ports.switchyardHttp, sy);
    await waitUntilAnswers(ports.switchyardTcp, sy);
    const startRssKiB = treeRssKiB(sy.pid);
    log(`Switchyard answers (pid ${sy.pid}), RSS ${fmtMiB(startRssKiB)}`);

    const events: string[] = [];
    const runs: SoakRun[] = [];
    const wrkPrefix = LOAD_CPUS === null ? [] : [tools.taskset!, '-c', LOAD_CPUS];
    const portOf = (spec: LoadSpec): number => (spec.frontend === 'tcp' ? ports.switchyardTcp : ports.switchyardHttp);

    /** One block of wrk runs; false when Switchyard or the backends stopped. */
    const runBlock = async (phase: SoakRun['phase'], index: number): Promise<boolean> => {
      for (const step of blockSteps(index)) {
        const spec = LOADS[step.kind];
        const w = await runWrk(
          WRK,
          { url: `http://127.0.0.1:${portOf(spec)}${spec.path}`, connections: spec.connections, durationSeconds: step.seconds, threads: WRK_THREADS, headers: spec.headers, timeoutSeconds: WRK_TIMEOUT_SECONDS },
          wrkPrefix,
          (pid, done) => procs.track(pid, done),
        );
        const res = w.result;
        const run: SoakRun = {
          phase, block: index, kind: step.kind, seconds: step.seconds, requests: res?.requests ?? null, durationSeconds: res?.durationSeconds ?? null,
          rps: res?.requestsPerSecond ?? null, p99Ms: res?.latency.p99Ms ?? null, errors: res === null ? 0 : errorCount(res), error: w.error,
        };
        runs.push(run);
        if (run.error !== null) events.push(`${phase === 'warmup' ? 'warm-up' : 'run'}, block ${index}, ${spec.title}: ${run.error}`);
        if (run.errors > 0) events.push(`${phase === 'warmup' ? 'warm-up' : 'run'}, block ${index}, ${spec.title}: ${run.errors} errors (socket ${JSON.stringify(res?.socketErrors)}, non-2xx/3xx ${res?.non2xx3xx})`);
        if (sy.exitInfo !== null || backends.exitInfo !== null) return false;
      }
      return true;
    };
    const stopped = (): string => {
      const who = sy.exitInfo !== null ? sy : backends;
      const tail = existsSync(who.logFile) ? readFileSync(who.logFile, 'utf8').trim().split('\n').slice(-5).join(' | ') : '';
      return `${who.name} exited (${who.exitInfo?.signal ?? `code ${who.exitInfo?.code}`}); last output: ${tail || '(none)'}`;
    };

    let aborted: string | null = null;
    log(`warm-up: ${WARMUP_BLOCKS * BLOCK_SECONDS} s (${WARMUP_BLOCKS} blocks, every kind of load)`);
    for (let b = 0; b < WARMUP_BLOCKS && aborted === null; b++) if (!(await runBlock('warmup', b))) aborted = stopped();

    const samples: SoakSample[] = [];
    const t0 = performance.now();
    const cpu0 = treeCpuSeconds(sy.pid);
    const foreign0 = foreignTicks(process.pid);
    let requests = 0;
    let errors = 0;
    const sample = (): SoakSample => {
      const s = { t: (performance.now() - t0) / 1000, rssKiB: treeRssKiB(sy.pid), requests, errors, cpuSeconds: treeCpuSeconds(sy.pid) - cpu0 };
      samples.push(s);
      return s;
    };
    const blocks = (opts.minutes * 60) / BLOCK_SECONDS;
    if (aborted === null) {
      log(`measured run: ${opts.minutes} min, ${blocks} blocks; RSS after the warm-up ${fmtMiB(sample().rssKiB)}`);
      for (let b = 0; b < blocks; b++) {
        const index = WARMUP_BLOCKS + b;
        const ok = await runBlock('run', index);
        for (const r of runs.filter((x) => x.phase === 'run' && x.block === index)) {
          requests += r.requests ?? 0;
          errors += r.errors;
        }
        if (!ok) {
          aborted = stopped();
          break;
        }
        const s = sample();
        if ((b + 1) % (60 / BLOCK_SECONDS) === 0) {
          log(`${fmtClock(s.t)} RSS ${fmtMiB(s.rssKiB)}, ${fmtInt(s.requests)} requests, ${fmtInt(s.errors)} errors, Switchyard CPU ${s.cpuSeconds.toFixed(1)} s`);
        }
      }
    }
    const elapsed = (performance.now() - t0) / 1000;
    const foreign = foreignCpuSeconds(foreign0, foreignTicks(process.pid));
    const cpuSeconds = samples.at(-1)?.cpuSeconds ?? null;
    if (aborted !== null) events.unshift(aborted);

    const switchyardLog = existsSync(sy.logFile) ? readFileSync(sy.logFile, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
    const report: SoakReport = {
      schemaVersion: 1,
      kind: 'soak',
      date: new Date(started).toISOString(),
      totalSeconds: (Date.now() - started) / 1000,
      settings: {
        minutes: opts.minutes, quick: opts.quick, warmupSeconds: WARMUP_BLOCKS * BLOCK_SECONDS, sampleSeconds: BLOCK_SECONDS, cycle: describeCycle(),
        loads: Object.values(LOADS), proxyCpus: PROXY_CPUS, loadCpus: LOAD_CPUS, switchyardWorkers: 1, wrkThreads: WRK_THREADS,
        wrkTimeoutSeconds: WRK_TIMEOUT_SECONDS, criteria: FLAT_CRITERIA,
      },
      machine,
      config: switchyard.config,
      startRssKiB,
      samples,
      analysis: analyze(samples, FLAT_CRITERIA, aborted === null ? null : 'the run stopped early (see below)'),
      totals: totalsByKind(runs),
      requests,
      errors,
      cpuSeconds,
      cpuPer100k: cpuSeconds !== null && requests > 0 ? (cpuSeconds / requests) * 100_000 : null,
      foreignLoad: elapsed > 0 ? foreign / elapsed : null,
      runs,
      events,
      switchyardLog: switchyardLog.slice(0, 200),
    };
    const markdown = renderSoakMarkdown(report);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'soak.md'), markdown);
    writeFileSync(join(outDir, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\n${markdown}`);
    log(`wrote ${join(outDir, 'soak.md')} and soak.json`);
    await cleanup(false);
    return aborted === null ? 0 : 1;
  } catch (err) {
    console.error(`bench:soak: ${(err as Error).stack ?? String(err)}`);
    console.error(`bench:soak: configs and logs kept in ${tmp}`);
    await cleanup(true);
    return 1;
  }
}

if (import.meta.main) process.exit(await main());
