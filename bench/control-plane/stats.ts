/**
 * Pure helpers of the control-plane benchmark: percentiles, Prometheus text, /proc status fields
 * and CPU profiles. No I/O, so they are unit-tested (stats.test.ts); run.ts does the measuring.
 */

export interface Distribution {
  n: number;
  min: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The nearest-rank percentile of ascending `sorted`: the smallest value with at least p% of the
 * values at or below it. With fewer than 100 values p99 is the maximum; no interpolation, so
 * every figure reported is one that was measured.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Median (nearest rank: the lower middle for an even count), p90, p99, min, max, mean; null for no values. */
export function distribution(values: readonly number[]): Distribution | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0]!,
    median: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}

/**
 * Samples of a Prometheus text exposition, keyed `name` or `name{labels}` exactly as written
 * (label order as the exporter prints it). Comments and malformed lines are skipped.
 */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    // name{labels} value [timestamp]; label values may hold spaces, so split after the closing brace.
    const brace = line.indexOf('{');
    const close = brace >= 0 ? line.lastIndexOf('}') : -1;
    const keyEnd = close >= 0 ? close + 1 : line.search(/\s/);
    if (keyEnd <= 0) continue;
    const key = line.slice(0, keyEnd);
    const value = Number(line.slice(keyEnd).trim().split(/\s+/)[0]);
    if (Number.isNaN(value)) continue;
    out.set(key, value);
  }
  return out;
}

/** The sum of every sample of `name` whose labels include all of `labels` (0 when none). */
export function metricSum(samples: ReadonlyMap<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    const text = brace < 0 ? '' : key.slice(brace);
    if (Object.entries(labels).every(([k, v]) => text.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

/** A `kB` field of /proc/PID/status (VmRSS, VmHWM...) in KiB, or null when absent. */
export function statusFieldKiB(status: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return m ? Number(m[1]) : null;
}

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) that the summary reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileEntry {
  /** `function (file:line)`, the file relative to the repository or node_modules. */
  name: string;
  selfMs: number;
  /** Of the profile's sampled time, idle excluded. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time, idle excluded. */
  busyMs: number;
  idleMs: number;
  /** Self time by function, largest first. */
  functions: ProfileEntry[];
  /** Self time by area (a file's folder under the repository, a package, node internals, GC), largest first. */
  areas: ProfileEntry[];
}

/** Where a function lives, for grouping: `controller/src/channel`, `ws`, `node:internal`, `(garbage collector)`... */
export function profileArea(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const m = /\/((?:api|controller|dataplane|cli)\/src\/[^/]+|bench|test)\//.exec(path);
  return m ? m[1]! : path;
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  const m = /\/((?:api|controller|dataplane|cli)\/src\/.*)$/.exec(path);
  return m ? m[1]! : path;
}

/** `function (file:line)`, or the bare name for frames without a file ((garbage collector), native functions). */
function frameName({ functionName, url, lineNumber }: CpuProfile['nodes'][number]['callFrame']): string {
  return url === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} (${shortUrl(url)}:${lineNumber + 1})`;
}

/** Sampled time (µs) per profile node; timeDeltas[i] is the time before sample i, a sample lasts until the next one. */
function sampledSelfUs(profile: CpuProfile, window?: { fromUs: number; toUs: number }): Map<number, number> {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const next = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, next));
  }
  return selfUs;
}

/** A function's inclusive time: its own and that of everything it called. */
export interface InclusiveEntry {
  name: string;
  totalMs: number;
  /** Of the profile's sampled time, idle excluded. */
  share: number;
}

/**
 * Inclusive time per function (the samples whose stack holds it, counted once per stack however
 * deep the recursion), for the functions whose script URL `include` accepts, largest first.
 */
export function inclusiveTimes(profile: CpuProfile, include: (url: string) => boolean, top = 30, window?: { fromUs: number; toUs: number }): InclusiveEntry[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of sampledSelfUs(profile, window)) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue;
    busyUs += us;
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const frame = byId.get(n)?.callFrame;
      if (frame === undefined || !include(frame.url)) continue;
      const name = frameName(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + us);
    }
  }
  return [...total]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, totalMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
}

/**
 * Self time per function and per area from a V8 CPU profile (samples x time deltas). With
 * `window` (absolute profile timestamps in µs: CLOCK_MONOTONIC on Linux, as process.hrtime), only
 * the samples taken within it count.
 */
export function summarizeProfile(profile: CpuProfile, top = 15, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = sampledSelfUs(profile, window);
  let idleUs = 0;
  let busyUs = 0;
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const name = frameName(node.callFrame);
    fn.set(name, (fn.get(name) ?? 0) + us);
    const a = profileArea(url, functionName);
    area.set(a, (area.get(a) ?? 0) + us);
  }
  const entries = (m: Map<string, number>): ProfileEntry[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, functions: entries(fn), areas: entries(area) };
}
