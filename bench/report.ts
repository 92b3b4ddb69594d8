/**
 * Results: per-run records reduced to medians, the Switchyard ratios, and the Markdown report.
 * Pure (no I/O), so it is unit-tested; run.ts writes the files.
 */
import type { IdleResult } from './memory.ts';

export type Metric = 'rps' | 'mibps';

export interface Scenario {
  id: string;
  title: string;
  path: string;
  connections: number;
  headers: string[];
  /** What "throughput" means for the scenario: requests/s, or MiB/s for the large response. */
  metric: Metric;
  /** Contender ids, in the order they run in each round. */
  contenders: string[];
}

export interface ContenderInfo {
  id: string;
  label: string;
  product: 'direct' | 'haproxy' | 'nginx' | 'switchyard' | 'node-http-proxy' | 'switchyard-cluster';
  mode: 'http' | 'tcp';
  /** The generated configuration, for the record. */
  config?: string;
}

export interface RunRecord {
  scenario: string;
  contender: string;
  round: number;
  /** null when the run failed (error says why). */
  requests: number | null;
  durationSeconds: number | null;
  rps: number | null;
  mibps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** CPU seconds of the process under test during the run (for direct: the backends'). */
  cpuSeconds: number | null;
  backendCpuSeconds: number | null;
  socketErrors: { connect: number; read: number; write: number; timeout: number } | null;
  non2xx3xx: number | null;
  error: string | null;
  /**
   * CPU seconds used during the run by processes outside the harness (other work on the machine):
   * noise. Divided by the duration: the share of a CPU they took.
   */
  foreignCpuSeconds: number | null;
  /** Seconds spent before the run waiting for other processes to go quiet. */
  quietWaitSeconds: number;
  /** Why the run was measured again and left out of the numbers (too noisy), or null. */
  discarded: string | null;
  /** wrk's own output, for the record. */
  wrkOutput?: string;
}

export interface Summary {
  scenario: string;
  contender: string;
  /** Rounds that produced a result. */
  rounds: number;
  failedRuns: number;
  rpsMedian: number | null;
  rpsMin: number | null;
  rpsMax: number | null;
  mibpsMedian: number | null;
  mibpsMin: number | null;
  mibpsMax: number | null;
  /** Median over rounds of each round's p50 / p99. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Total CPU seconds / total requests x 100,000. */
  cpuPer100k: number | null;
  /** Socket errors + non-2xx/3xx responses, summed over rounds. */
  errors: number;
  /** Highest share of a CPU that other processes took during one of the rounds (noise). */
  foreignLoadMax: number | null;
}

export interface Ratios {
  scenario: string;
  /** The Switchyard and HAProxy contenders compared (http or tcp mode). */
  switchyard: string;
  haproxy: string | null;
  /** Throughput (req/s or MiB/s, per the scenario's metric): Switchyard / HAProxy. */
  throughputVsHaproxy: number | null;
  throughputVsDirect: number | null;
  /** CPU per request: Switchyard / HAProxy (above 1: Switchyard spends more). */
  cpuVsHaproxy: number | null;
  /** p99 latency: Switchyard / HAProxy (above 1: Switchyard is slower). */
  p99VsHaproxy: number | null;
  /** Throughput: Switchyard / node-http-proxy (the issue's target: at least 3). */
  throughputVsNodeHttpProxy: number | null;
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  kernel: string;
  node: string;
  /** Versions of the tools; empty when the benchmark did not use one (the soak runs no HAProxy). */
  haproxy: string;
  nginx: string;
  wrk: string;
  memTotalMiB: number | null;
  /** The Switchyard sources measured: commit, and whether the working tree had changes. */
  switchyard: string;
}

export interface Settings {
  quick: boolean;
  twoWorkers: boolean;
  rounds: number;
  durationSeconds: number;
  /** Warm-up per contender before each scenario. */
  warmupSeconds: number;
  /** Warm-up per contender at the start. */
  startWarmupSeconds: number;
  /** How many times a noisy run may be measured again, and what "noisy" is (share of a CPU). */
  noiseRetries: number;
  noisyRunThreshold: number;
  wrkThreads: number;
  wrkTimeoutSeconds: number;
  idleConnections: number;
  /** A run waits (up to quietWaitSeconds) until other processes use less than this share of a CPU. */
  quietThreshold: number;
  quietWaitSeconds: number;
  /** CPU lists, or null when not pinned. */
  proxyCpus: string | null;
  loadCpus: string | null;
  /** Worker threads or processes of each proxy (nodeHttpProxy: node:cluster processes). */
  proxyWorkers: { haproxy: number; nginx: number; switchyard: number; nodeHttpProxy?: number };
}

/** What every report of wrk runs has: when, how, on what, and the runs with their summaries. */
export interface RunsReport {
  schemaVersion: 1;
  date: string;
  totalSeconds: number;
  settings: Settings;
  machine: Machine;
  contenders: ContenderInfo[];
  scenarios: Scenario[];
  runs: RunRecord[];
  summaries: Summary[];
}

export interface BenchReport extends RunsReport {
  ratios: Ratios[];
  idle: IdleResult[];
  /** Crashes, restarts and other things that happened during the run. */
  events: string[];
  /** Lines Switchyard printed (it runs with --log-level warn, so these are warnings and errors). */
  switchyardLog: string[];
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function present(values: (number | null)[]): number[] {
  return values.filter((v): v is number => v !== null && Number.isFinite(v));
}

export function summarize(scenarios: Scenario[], runs: RunRecord[]): Summary[] {
  const out: Summary[] = [];
  for (const sc of scenarios) {
    for (const c of sc.contenders) {
      const mine = runs.filter((r) => r.scenario === sc.id && r.contender === c && r.discarded === null);
      const ok = mine.filter((r) => r.requests !== null);
      const rps = present(ok.map((r) => r.rps));
      const mibps = present(ok.map((r) => r.mibps));
      const cpuRuns = ok.filter((r) => r.cpuSeconds !== null && r.requests !== null);
      const requests = cpuRuns.reduce((n, r) => n + r.requests!, 0);
      const cpu = cpuRuns.reduce((n, r) => n + r.cpuSeconds!, 0);
      out.push({
        scenario: sc.id,
        contender: c,
        rounds: ok.length,
        failedRuns: mine.length - ok.length,
        rpsMedian: median(rps),
        rpsMin: rps.length ? Math.min(...rps) : null,
        rpsMax: rps.length ? Math.max(...rps) : null,
        mibpsMedian: median(mibps),
        mibpsMin: mibps.length ? Math.min(...mibps) : null,
        mibpsMax: mibps.length ? Math.max(...mibps) : null,
        p50Ms: median(present(ok.map((r) => r.p50Ms))),
        p99Ms: median(present(ok.map((r) => r.p99Ms))),
        cpuPer100k: requests > 0 ? (cpu / requests) * 100_000 : null,
        errors: ok.reduce((n, r) => n + (r.non2xx3xx ?? 0) + sumErrors(r.socketErrors), 0),
        foreignLoadMax: maxOrNull(present(ok.map(foreignLoad))),
      });
    }
  }
  return out;
}

/** Share of a CPU other processes took during a run. */
export function foreignLoad(r: RunRecord): number | null {
  return r.foreignCpuSeconds === null || !r.durationSeconds ? null : r.foreignCpuSeconds / r.durationSeconds;
}

function maxOrNull(values: number[]): number | null {
  return values.length === 0 ? null : Math.max(...values);
}

function sumErrors(s: RunRecord['socketErrors']): number {
  return s === null ? 0 : s.connect + s.read + s.write + s.timeout;
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b;
}

export function throughput(s: Summary, metric: Metric): number | null {
  return metric === 'mibps' ? s.mibpsMedian : s.rpsMedian;
}

/** Switchyard against HAProxy (same mode) and against direct, per scenario. */
export function computeRatios(scenarios: Scenario[], contenders: ContenderInfo[], summaries: Summary[]): Ratios[] {
  const info = new Map(contenders.map((c) => [c.id, c]));
  const find = (sc: Scenario, product: ContenderInfo['product']): Summary | undefined => {
    const id = sc.contenders.find((c) => info.get(c)?.product === product);
    return summaries.find((s) => s.scenario === sc.id && s.contender === id);
  };
  const out: Ratios[] = [];
  for (const sc of scenarios) {
    const sy = find(sc, 'switchyard');
    if (!sy) continue;
    const ha = find(sc, 'haproxy');
    const direct = find(sc, 'direct');
    const nodeProxy = find(sc, 'node-http-proxy');
    out.push({
      scenario: sc.id,
      switchyard: sy.contender,
      haproxy: ha?.contender ?? null,
      throughputVsHaproxy: ratio(throughput(sy, sc.metric), ha && throughput(ha, sc.metric)),
      throughputVsDirect: ratio(throughput(sy, sc.metric), direct && throughput(direct, sc.metric)),
      cpuVsHaproxy: ratio(sy.cpuPer100k, ha?.cpuPer100k),
      p99VsHaproxy: ratio(sy.p99Ms, ha?.p99Ms),
      throughputVsNodeHttpProxy: ratio(throughput(sy, sc.metric), nodeProxy && throughput(nodeProxy, sc.metric)),
    });
  }
  return out;
}

// ---- formatting ----

export function fmtInt(n: number | null): string {
  return n === null ? '–' : Math.round(n).toLocaleString('en-US');
}

export function fmtMs(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

export function fmtNum(n: number | null, digits = 2): string {
  return n === null ? '–' : n.toFixed(digits);
}

export function fmtPercent(share: number | null): string {
  return share === null ? '–' : `${Math.round(share * 100)}%`;
}

export function fmtRatio(n: number | null): string {
  return n === null ? '–' : `${n.toFixed(2)}×`;
}

/** (max - min) / median as ±percent of the median's half-range, e.g. "±1.5%". */
export function fmtSpread(min: number | null, max: number | null, mid: number | null): string {
  if (min === null || max === null || mid === null || mid === 0) return '–';
  return `±${(((max - min) / 2 / mid) * 100).toFixed(1)}%`;
}

function fmtKiB(kib: number): string {
  return kib >= 1024 ? `${(kib / 1024).toFixed(1)} MiB` : `${Math.round(kib)} KiB`;
}

export function table(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** One sentence on how quiet the machine was during the measured runs. */
export function noiseNote(r: Pick<BenchReport, 'runs' | 'settings'>): string {
  const kept = r.runs.filter((x) => x.discarded === null);
  const discarded = r.runs.length - kept.length;
  const loads = present(kept.map(foreignLoad));
  if (loads.length === 0) return 'Other load on the machine: not measured.';
  const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
  const noisy = loads.filter((l) => l > r.settings.quietThreshold).length;
  const waited = r.runs.reduce((n, x) => n + x.quietWaitSeconds, 0);
  return (
    `Other load on the machine during the measured runs: ${fmtPercent(mean)} of a CPU on average, ${fmtPercent(Math.max(...loads))} at most; ` +
    `${noisy} of ${loads.length} runs above ${fmtPercent(r.settings.quietThreshold)}` +
    (waited >= 1 ? ` (the harness waited ${Math.round(waited)} s in all for quieter moments)` : '') +
    (discarded > 0 ? `; ${discarded} run(s) measured again because other processes took more than ${fmtPercent(r.settings.noisyRunThreshold)} of a CPU` : '') +
    '.' +
    (noisy > 0 ? ' Rows with high noise are less trustworthy; rerun on an idle machine.' : '')
  );
}

/** The `- **Machine:** ...` line of a report; a tool the benchmark did not use (empty version) is left out. */
export function machineLine(m: Machine): string {
  return (
    `- **Machine:** ${m.nproc} CPUs (${m.cpuModel}), ${m.memTotalMiB === null ? '?' : `${Math.round(m.memTotalMiB / 1024)} GiB`} RAM, Linux ${m.kernel}, ` +
    `${[`Node ${m.node}`, m.haproxy, m.nginx, m.wrk].filter((part) => part !== '').join(', ')}.`
  );
}

/** `full run`, `**quick mode**` or `custom run (R × D s)`. */
function runKind(s: Settings): string {
  return s.quick ? '**quick mode**' : s.rounds >= 3 && s.durationSeconds >= 10 ? 'full run' : `custom run (${s.rounds} × ${s.durationSeconds} s)`;
}

/**
 * The opening every load report shares: its title, when and what ran, and in quick mode a warning
 * that says what a full run is (`full`) and which command gives numbers to quote (`quote`).
 */
export function headingLines(heading: string, r: RunsReport, full: string, quote: string): string[] {
  const s = r.settings;
  const lines = [heading, '', `${r.date} · ${runKind(s)} · Switchyard ${r.machine.switchyard} · took ${Math.round(r.totalSeconds)} s`, ''];
  if (s.quick) {
    lines.push(
      `> **Quick mode:** ${s.rounds} rounds of ${s.durationSeconds} s per contender (full: ${full}), still interleaved. ` +
        `Indicative only; use \`${quote}\` for numbers to quote.`,
      '',
    );
  }
  return lines;
}

export function renderMarkdown(r: BenchReport): string {
  const s = r.settings;
  const label = new Map(r.contenders.map((c) => [c.id, c.label]));
  const title = new Map(r.scenarios.map((sc) => [sc.id, sc]));
  const lines: string[] = [];
  lines.push(...headingLines('# Switchyard benchmark: HAProxy, nginx, direct', r, '3 rounds of 10 s', 'make bench'));
  const pin = s.proxyCpus === null ? 'not pinned' : `proxy under test pinned to CPU ${s.proxyCpus}, wrk and backends to CPU ${s.loadCpus}`;
  lines.push(
    `- **Mode:** ${s.twoWorkers ? 'two workers' : 'one worker'}, ${pin}. HAProxy nbthread ${s.proxyWorkers.haproxy}, ` +
      `nginx worker_processes ${s.proxyWorkers.nginx}, Switchyard --workers ${s.proxyWorkers.switchyard}` +
      (s.proxyWorkers.switchyard === 1 ? ' (one thread does everything)' : ' (worker threads, SO_REUSEPORT)') +
      (s.proxyWorkers.nodeHttpProxy === undefined ? '' : `, node-http-proxy ${s.proxyWorkers.nodeHttpProxy} process${s.proxyWorkers.nodeHttpProxy > 1 ? 'es (node:cluster)' : ''}`) +
      '.',
  );
  lines.push(
    `- **Load:** wrk -t${s.wrkThreads} --latency --timeout ${s.wrkTimeoutSeconds}s, ${s.rounds} rounds × ${s.durationSeconds} s per contender and scenario, ` +
      `interleaved (A B C A B C…); warm-up: ${s.startWarmupSeconds} s per contender at the start` +
      (s.warmupSeconds > 0 ? ` and ${s.warmupSeconds} s per contender before each scenario` : '') +
      '; the same connection counts for every contender.',
  );
  lines.push(machineLine(r.machine));
  lines.push('');

  lines.push('## Throughput, latency, CPU');
  lines.push('');
  const rows: string[][] = [];
  for (const sm of r.summaries) {
    const sc = title.get(sm.scenario)!;
    const isMib = sc.metric === 'mibps';
    rows.push([
      sc.title,
      label.get(sm.contender) ?? sm.contender,
      isMib ? `${fmtInt(sm.mibpsMedian)} MiB/s` : `${fmtInt(sm.rpsMedian)} req/s`,
      isMib ? fmtSpread(sm.mibpsMin, sm.mibpsMax, sm.mibpsMedian) : fmtSpread(sm.rpsMin, sm.rpsMax, sm.rpsMedian),
      isMib ? fmtInt(sm.rpsMedian) : '',
      fmtMs(sm.p50Ms),
      fmtMs(sm.p99Ms),
      fmtNum(sm.cpuPer100k) + (sm.contender === 'direct' && sm.cpuPer100k !== null ? '¹' : ''),
      String(sm.errors) + (sm.failedRuns > 0 ? ` (${sm.failedRuns} failed runs)` : ''),
      fmtPercent(sm.foreignLoadMax),
    ]);
  }
  lines.push(
    table(
      ['Scenario', 'Contender', 'Throughput (median)', 'Spread', 'req/s', 'p50', 'p99', 'CPU s / 100k req', 'Errors', 'Noise'],
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  );
  lines.push('');
  lines.push(
    'Throughput is requests/s, or MiB/s for the 1 MiB response (wrk Transfer/sec). Spread: half the range between the slowest and fastest ' +
      'round, relative to the median. p50/p99: median over rounds of wrk\'s latency percentiles. CPU: user+system seconds of the proxy ' +
      '(all its processes and threads) per 100,000 requests. Errors: wrk socket errors plus non-2xx/3xx responses over all rounds. ' +
      'Noise: the most CPU other processes on the machine (outside the harness) took during one of the rounds, in % of one CPU.',
  );
  lines.push('');
  lines.push('¹ direct: CPU of the backend nginx itself, i.e. the cost of the work every proxy adds its own cost to.');
  lines.push('');
  lines.push(noiseNote(r));
  lines.push('');

  lines.push('## Switchyard relative to HAProxy and to direct');
  lines.push('');
  lines.push(
    table(
      ['Scenario', 'Throughput vs HAProxy', 'Throughput vs direct', 'CPU per request vs HAProxy', 'p99 vs HAProxy', 'Throughput vs node-http-proxy'],
      ['l', 'r', 'r', 'r', 'r', 'r'],
      r.ratios.map((x) => [
        title.get(x.scenario)!.title,
        fmtRatio(x.throughputVsHaproxy),
        fmtRatio(x.throughputVsDirect),
        fmtRatio(x.cpuVsHaproxy),
        fmtRatio(x.p99VsHaproxy),
        fmtRatio(x.throughputVsNodeHttpProxy ?? null),
      ]),
    ),
  );
  lines.push('');
  lines.push(
    'Throughput: above 1× Switchyard is faster. CPU and p99: above 1× Switchyard spends more / answers slower. ' +
      'node-http-proxy: a plain Node proxy (http-proxy with a keep-alive agent, bench/node-http-proxy.ts); the target is at least 3×.',
  );
  lines.push('');

  lines.push(`## Memory with ${fmtInt(s.idleConnections)} idle client connections`);
  lines.push('');
  if (r.idle.length === 0) {
    lines.push('Not measured in this run.');
  } else {
    lines.push(
      table(
        ['Proxy', 'Connections held', 'RSS idle', 'RSS with connections', 'RSS after they closed', 'Per connection'],
        ['l', 'r', 'r', 'r', 'r', 'r'],
        r.idle.map((i) => [
          label.get(i.contender) ?? i.contender,
          `${fmtInt(i.held)} / ${fmtInt(i.requested)}` + (i.error ? ` (${i.error})` : ''),
          fmtKiB(i.rssIdleKiB),
          fmtKiB(i.rssHeldKiB),
          fmtKiB(i.rssAfterKiB),
          i.perConnectionKiB === null ? '–' : `${i.perConnectionKiB.toFixed(1)} KiB`,
        ]),
      ),
    );
    lines.push('');
    lines.push(
      'Each connection made one keep-alive request and then stayed open and silent, held by a separate client process. ' +
        'RSS is VmRSS from /proc (summed over nginx\'s processes); per connection = (RSS with connections − RSS idle) / connections held.',
    );
    const short = r.idle.filter((i) => i.held < i.requested);
    for (const i of short) {
      const why = Object.entries(i.failures).map(([k, v]) => `${k}: ${v}`).join(', ');
      lines.push('');
      lines.push(`${label.get(i.contender) ?? i.contender} held ${fmtInt(i.held)} of ${fmtInt(i.requested)}` + (why ? ` (failures: ${why})` : '') + (i.closedByPeer ? `; ${i.closedByPeer} closed by the proxy while idle` : '') + '.');
    }
  }
  lines.push('');

  lines.push(...problemsSection(r.events, r.switchyardLog));
  return `${lines.join('\n')}\n`;
}

/** The "Problems seen during the run" section (no lines when there were none): events, then the start of Switchyard's log. */
export function problemsSection(problems: string[], switchyardLog: string[]): string[] {
  if (problems.length === 0 && switchyardLog.length === 0) return [];
  const lines = ['## Problems seen during the run', ''];
  for (const e of problems) lines.push(`- ${e}`);
  if (switchyardLog.length > 0) {
    lines.push(`- Switchyard printed ${switchyardLog.length} line(s) at --log-level warn; first ones:`);
    lines.push('');
    lines.push('```');
    for (const l of switchyardLog.slice(0, 10)) lines.push(l.length > 300 ? `${l.slice(0, 300)}…` : l);
    lines.push('```');
  }
  lines.push('');
  return lines;
}
