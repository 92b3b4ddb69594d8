/**
 * The rules benchmark's results (`npm run bench -- --rules`): the per-request CPU of each product
 * with and without the rules, the difference (the cost of the rules), Switchyard against HAProxy,
 * and, with --cpu-prof, where Switchyard's time goes. Built on the harness's records and
 * summaries (../report.ts); pure (no I/O), unit-tested in report.test.ts.
 */
import type { InclusiveEntry, ProfileEntry, ProfileSummary } from '../control-plane/stats.ts';
import {
  fmtInt,
  fmtMs,
  fmtPercent,
  fmtRatio,
  fmtSpread,
  machineLine,
  noiseNote,
  problemsSection,
  headingLines,
  table,
  type RunRecord,
  type RunsReport,
  type Scenario,
  type Summary,
} from '../report.ts';
import type { AclDef, Probe, RequestTrace } from './config.ts';

/** One product's two contenders: the plain frontend and the one with the rules. */
export interface RulesPair {
  product: 'haproxy' | 'switchyard';
  label: string;
  none: string;
  rules: string;
}

export const RULES_PAIRS: readonly RulesPair[] = [
  { product: 'haproxy', label: 'HAProxy', none: 'haproxy-http', rules: 'haproxy-rules' },
  { product: 'switchyard', label: 'Switchyard', none: 'switchyard-http', rules: 'switchyard-rules' },
];

export interface ProductCost {
  product: RulesPair['product'];
  label: string;
  none: string;
  rules: string;
  /** CPU µs per request (total CPU seconds / total requests over the kept rounds). */
  cpuUsNone: number | null;
  cpuUsRules: number | null;
  /** cpuUsRules - cpuUsNone: what the rules cost per request. */
  costUs: number | null;
  /** costUs / cpuUsNone. */
  costShare: number | null;
  /** The same difference round by round (each round runs both, one after the other). */
  perRoundCostUs: number[];
  rpsNone: number | null;
  rpsRules: number | null;
  /** rpsRules / rpsNone - 1 (negative: the rules slow it down). */
  throughputChange: number | null;
  p99MsNone: number | null;
  p99MsRules: number | null;
}

export interface RulesRatios {
  /** Cost of the rules, Switchyard / HAProxy. */
  costVsHaproxy: number | null;
  /** CPU per request, Switchyard / HAProxy, without and with the rules. */
  cpuNoneVsHaproxy: number | null;
  cpuRulesVsHaproxy: number | null;
  /** Throughput with the rules, Switchyard / HAProxy. */
  throughputRulesVsHaproxy: number | null;
}

export interface ProbeResult {
  contender: string;
  what: string;
  expected: number;
  status: number | null;
  /** What went wrong (status, a header), or null. */
  problem: string | null;
}

export interface RulesProfile {
  /** The .cpuprofile files kept, relative to the repository when inside it. */
  files: { none: string; rules: string };
  /** Requests each Switchyard served while profiled (warm-ups and measured runs). */
  requests: { none: number; rules: number };
  none: ProfileSummary;
  rules: ProfileSummary;
  /** Inclusive time of the data plane's functions (dataplane/src), largest first. */
  inclusive: { none: InclusiveEntry[]; rules: InclusiveEntry[] };
}

export interface RulesReport extends RunsReport {
  kind: 'rules';
  costs: ProductCost[];
  ratios: RulesRatios;
  /** What was configured and sent. */
  setup: {
    request: { method: string; path: string; headers: string[] };
    acls: AclDef[];
    haproxyLines: string[];
    trace: RequestTrace;
    /** The requests checked on every contender before the load (their headers are the benchmark's unless said). */
    probes: Omit<Probe, 'headers'>[];
  };
  probes: ProbeResult[];
  profile: RulesProfile | null;
  events: string[];
  switchyardLog: string[];
}

function cpuUs(s: Summary | undefined): number | null {
  return s?.cpuPer100k === null || s?.cpuPer100k === undefined ? null : s.cpuPer100k * 10;
}

function diff(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a - b;
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

/** CPU µs per request of one kept run, or null. */
function runCpuUs(r: RunRecord | undefined): number | null {
  return r === undefined || r.cpuSeconds === null || !r.requests ? null : (r.cpuSeconds / r.requests) * 1e6;
}

export function computeCosts(scenario: Scenario, runs: readonly RunRecord[], summaries: readonly Summary[], pairs: readonly RulesPair[] = RULES_PAIRS): ProductCost[] {
  const summary = (id: string): Summary | undefined => summaries.find((s) => s.scenario === scenario.id && s.contender === id);
  const kept = (id: string, round: number): RunRecord | undefined =>
    runs.find((r) => r.scenario === scenario.id && r.contender === id && r.round === round && r.discarded === null && r.requests !== null);
  const out: ProductCost[] = [];
  for (const p of pairs) {
    if (!scenario.contenders.includes(p.none) || !scenario.contenders.includes(p.rules)) continue;
    const none = summary(p.none);
    const rules = summary(p.rules);
    const rounds = [...new Set(runs.filter((r) => r.scenario === scenario.id).map((r) => r.round))].sort((a, b) => a - b);
    const perRound: number[] = [];
    for (const round of rounds) {
      const d = diff(runCpuUs(kept(p.rules, round)), runCpuUs(kept(p.none, round)));
      if (d !== null) perRound.push(d);
    }
    const cpuUsNone = cpuUs(none);
    const cpuUsRules = cpuUs(rules);
    const costUs = diff(cpuUsRules, cpuUsNone);
    const rpsNone = none?.rpsMedian ?? null;
    const rpsRules = rules?.rpsMedian ?? null;
    const change = ratio(rpsRules, rpsNone);
    out.push({
      product: p.product,
      label: p.label,
      none: p.none,
      rules: p.rules,
      cpuUsNone,
      cpuUsRules,
      costUs,
      costShare: ratio(costUs, cpuUsNone),
      perRoundCostUs: perRound,
      rpsNone,
      rpsRules,
      throughputChange: change === null ? null : change - 1,
      p99MsNone: none?.p99Ms ?? null,
      p99MsRules: rules?.p99Ms ?? null,
    });
  }
  return out;
}

export function computeRulesRatios(costs: readonly ProductCost[]): RulesRatios {
  const sy = costs.find((c) => c.product === 'switchyard');
  const ha = costs.find((c) => c.product === 'haproxy');
  const r = (f: (c: ProductCost) => number | null): number | null => (sy && ha ? ratio(f(sy), f(ha)) : null);
  return {
    costVsHaproxy: r((c) => c.costUs),
    cpuNoneVsHaproxy: r((c) => c.cpuUsNone),
    cpuRulesVsHaproxy: r((c) => c.cpuUsRules),
    throughputRulesVsHaproxy: r((c) => c.rpsRules),
  };
}

// ---- formatting ----

/** Microseconds: `17.3 µs`, `0.42 µs`. */
export function fmtUs(us: number | null): string {
  if (us === null) return '–';
  return `${Math.abs(us) < 10 ? us.toFixed(2) : us.toFixed(1)} µs`;
}

/** A signed difference: `+1.25 µs`, `−0.30 µs`. */
export function fmtSignedUs(us: number | null): string {
  if (us === null) return '–';
  return `${us < 0 ? '−' : '+'}${fmtUs(Math.abs(us))}`;
}

export function fmtSignedPercent(share: number | null): string {
  if (share === null) return '–';
  const pct = share * 100;
  return `${pct < 0 ? '−' : '+'}${Math.abs(pct).toFixed(1)}%`;
}

/** `0.8 to 1.3 µs` over the rounds, or `–`. */
function fmtRange(values: readonly number[]): string {
  if (values.length === 0) return '–';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const f = (v: number): string => (v < 0 ? `−${Math.abs(v).toFixed(2)}` : v.toFixed(2));
  return values.length === 1 ? `${f(lo)} µs` : `${f(lo)} to ${f(hi)} µs`;
}

function perRequestUs(e: ProfileEntry, requests: number): number | null {
  return requests > 0 ? (e.selfMs * 1000) / requests : null;
}

/** A profile entry's time: self time, or inclusive time. */
type Timed = Pick<ProfileEntry, 'name' | 'selfMs'> | Pick<InclusiveEntry, 'name' | 'totalMs'>;

function msOf(e: Timed): number {
  return 'selfMs' in e ? e.selfMs : e.totalMs;
}

/**
 * Time per request of the profiles' entries (self or inclusive), rules minus none, largest
 * increase first. An entry missing from one list (below its top N) counts as 0 there.
 */
export function profileDifference(
  none: readonly Timed[],
  rules: readonly Timed[],
  requests: { none: number; rules: number },
): { name: string; noneUs: number; rulesUs: number; diffUs: number }[] {
  if (requests.none <= 0 || requests.rules <= 0) return [];
  const names = new Set([...none.map((e) => e.name), ...rules.map((e) => e.name)]);
  const us = (list: readonly Timed[], name: string, n: number): number => {
    const e = list.find((x) => x.name === name);
    return e === undefined ? 0 : (msOf(e) * 1000) / n;
  };
  return [...names]
    .map((name) => {
      const noneUs = us(none, name, requests.none);
      const rulesUs = us(rules, name, requests.rules);
      return { name, noneUs, rulesUs, diffUs: rulesUs - noneUs };
    })
    .sort((a, b) => b.diffUs - a.diffUs);
}

function renderProfile(p: RulesProfile, lines: string[]): void {
  lines.push('## Where Switchyard\'s time goes (`--cpu-prof`)');
  lines.push('');
  lines.push(
    `Both Switchyards ran under \`node --cpu-prof\` (profiles: \`${p.files.none}\`, \`${p.files.rules}\`), which slows them down: ` +
      'the tables above are not comparable with a run without it. Self time from the V8 profiles, over the load (warm-ups and measured ' +
      `runs: ${fmtInt(p.requests.none)} and ${fmtInt(p.requests.rules)} requests), divided by the requests served. ` +
      'The profiler sees JavaScript and what V8 attributes to it (GC, native calls); the socket writes\' system calls ' +
      '(`writeLatin1String`, `writev`: on loopback they include delivering to the receiver) are in `(native)`; reading is in the event ' +
      'loop, outside the profile.',
  );
  lines.push('');
  const areas = profileDifference(p.none.areas, p.rules.areas, p.requests);
  lines.push(
    table(
      ['Area', 'µs / request, no rules', 'with rules', 'difference'],
      ['l', 'r', 'r', 'r'],
      areas.slice(0, 12).map((a) => [`\`${a.name}\``, fmtUs(a.noneUs), fmtUs(a.rulesUs), fmtSignedUs(a.diffUs)]),
    ),
  );
  lines.push('');
  lines.push(
    `Profiled busy time per request: ${fmtUs(p.requests.none > 0 ? (p.none.busyMs * 1000) / p.requests.none : null)} without rules, ` +
      `${fmtUs(p.requests.rules > 0 ? (p.rules.busyMs * 1000) / p.requests.rules : null)} with them.`,
  );
  lines.push('');
  const inclusive = profileDifference(p.inclusive.none, p.inclusive.rules, p.requests);
  const engine = inclusive.filter((f) => /^on(HttpRequest|HttpResponse) \(dataplane\/src\/rules\//.test(f.name));
  const edits = inclusive.find((f) => f.name.startsWith('commit (dataplane/src/http/head-edit.ts'));
  if (engine.length > 0) {
    const engineUs = engine.reduce((n, f) => n + f.rulesUs, 0);
    lines.push(
      `The rules engine's entry points (${engine.map((f) => `\`${f.name.split(' ')[0]}\``).join(', ')}) take ${fmtUs(engineUs)} per request with everything they call` +
        (edits ? `, of which ${fmtUs(edits.rulesUs)} (${fmtPercent(engineUs > 0 ? edits.rulesUs / engineUs : null)}) in \`commit\` of head-edit.ts: rebuilding and parsing again the whole head after each header edit` : '') +
        '.',
    );
    lines.push('');
  }
  lines.push('Data-plane functions by inclusive time per request (the function and everything it calls), largest increase first:');
  lines.push('');
  lines.push(
    table(
      ['Function', 'µs / request, no rules', 'with rules', 'difference'],
      ['l', 'r', 'r', 'r'],
      inclusive.slice(0, 15).map((f) => [`\`${f.name}\``, fmtUs(f.noneUs), fmtUs(f.rulesUs), fmtSignedUs(f.diffUs)]),
    ),
  );
  lines.push('');
  lines.push('Functions whose self time per request grew most with the rules:');
  lines.push('');
  const fns = profileDifference(p.none.functions, p.rules.functions, p.requests);
  lines.push(
    table(
      ['Function', 'µs / request, no rules', 'with rules', 'difference'],
      ['l', 'r', 'r', 'r'],
      fns.slice(0, 15).map((f) => [`\`${f.name}\``, fmtUs(f.noneUs), fmtUs(f.rulesUs), fmtSignedUs(f.diffUs)]),
    ),
  );
  lines.push('');
  lines.push('The top functions of the profile with the rules:');
  lines.push('');
  lines.push(
    table(
      ['Function', 'Self time', 'µs / request'],
      ['l', 'r', 'r'],
      p.rules.functions.slice(0, 15).map((f) => [`\`${f.name}\``, fmtPercent(f.share), fmtUs(perRequestUs(f, p.requests.rules))]),
    ),
  );
  lines.push('');
}

export function renderRulesMarkdown(r: RulesReport): string {
  const s = r.settings;
  const label = new Map(r.contenders.map((c) => [c.id, c.label]));
  const lines: string[] = [];
  const heading = `# Switchyard benchmark: the per-request cost of rules${r.profile ? ' (under --cpu-prof)' : ''}`;
  lines.push(...headingLines(heading, r, '5 rounds of 10 s', 'npm run bench -- --rules'));
  const sc = r.scenarios[0];
  lines.push(
    `- **What:** the same HTTP frontend without rules and with ${r.setup.acls.length} named ACLs and ${r.setup.haproxyLines.length - r.setup.acls.length} rules ` +
      '(http-request deny/set-header/add-header/del-header, use_backend, http-response set-header/del-header), in HAProxy and in Switchyard, ' +
      'four processes. No rule changes the outcome of the benchmark\'s request: it is answered 200 by the same backend; ' +
      `the conditions evaluate ${r.setup.trace.reached.length} of the ${r.setup.acls.length} ACLs for it and ${r.setup.trace.acted.filter(Boolean).length} header rules act.`,
  );
  lines.push(
    `- **Load:** wrk -t${s.wrkThreads} -c${sc?.connections ?? '?'} --latency --timeout ${s.wrkTimeoutSeconds}s, \`${r.setup.request.method} ${r.setup.request.path}\` with ` +
      `${r.setup.request.headers.length} headers (Host, User-Agent, Accept, Accept-Language, Cookie), ${s.rounds} rounds × ${s.durationSeconds} s per contender, ` +
      `interleaved (each round: ${r.contenders.map((c) => c.label).join('; ')}); warm-up ${s.startWarmupSeconds} s per contender` +
      (s.warmupSeconds > 0 ? ` and ${s.warmupSeconds} s more before the rounds` : '') +
      '.',
  );
  const pin = s.proxyCpus === null ? 'not pinned' : `each proxy pinned to CPU ${s.proxyCpus}, wrk and the backends to CPU ${s.loadCpus}`;
  lines.push(`- **Mode:** one worker (HAProxy nbthread ${s.proxyWorkers.haproxy}, Switchyard --workers ${s.proxyWorkers.switchyard}), ${pin}.`);
  lines.push(machineLine(r.machine));
  lines.push('');

  lines.push('## The cost of the rules');
  lines.push('');
  lines.push(
    table(
      ['Product', 'CPU / request, no rules', 'with rules', 'Cost of the rules', 'Cost per round', 'Throughput with rules', 'p99 no rules → rules'],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
      r.costs.map((c) => [
        c.label,
        fmtUs(c.cpuUsNone),
        fmtUs(c.cpuUsRules),
        `${fmtSignedUs(c.costUs)} (${fmtSignedPercent(c.costShare)})`,
        fmtRange(c.perRoundCostUs),
        `${fmtInt(c.rpsRules)} req/s (${fmtSignedPercent(c.throughputChange)})`,
        `${fmtMs(c.p99MsNone)} → ${fmtMs(c.p99MsRules)}`,
      ]),
    ),
  );
  lines.push('');
  const x = r.ratios;
  lines.push(
    `**Switchyard / HAProxy:** cost of the rules ${fmtRatio(x.costVsHaproxy)}; CPU per request ${fmtRatio(x.cpuNoneVsHaproxy)} without rules, ` +
      `${fmtRatio(x.cpuRulesVsHaproxy)} with them; throughput with the rules ${fmtRatio(x.throughputRulesVsHaproxy)}.`,
  );
  lines.push('');
  lines.push(
    'CPU / request: user+system CPU time of the proxy process (/proc/PID/stat, all threads) during the measured runs divided by the ' +
      'requests wrk completed, in µs. The proxy is pinned to one CPU and saturated, so this is what its throughput is made of. ' +
      'Cost of the rules: with rules minus without, and in parentheses relative to without. Cost per round: the same ' +
      'difference within each round (the two runs are next to each other), lowest to highest: how much the digits can be trusted.',
  );
  lines.push('');

  lines.push('## Throughput, latency, CPU');
  lines.push('');
  lines.push(
    table(
      ['Contender', 'Throughput (median)', 'Spread', 'p50', 'p99', 'CPU / request', 'Errors', 'Noise'],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      r.summaries.map((sm) => [
        label.get(sm.contender) ?? sm.contender,
        `${fmtInt(sm.rpsMedian)} req/s`,
        fmtSpread(sm.rpsMin, sm.rpsMax, sm.rpsMedian),
        fmtMs(sm.p50Ms),
        fmtMs(sm.p99Ms),
        fmtUs(cpuUs(sm)),
        String(sm.errors) + (sm.failedRuns > 0 ? ` (${sm.failedRuns} failed runs)` : ''),
        fmtPercent(sm.foreignLoadMax),
      ]),
    ),
  );
  lines.push('');
  lines.push(
    'Spread: half the range between the slowest and fastest round, relative to the median. p50/p99: median over rounds of wrk\'s ' +
      'percentiles. Errors: wrk socket errors plus non-2xx/3xx responses over all rounds (a denied request would show here). ' +
      'Noise: the most CPU other processes took during one round, in % of one CPU.',
  );
  lines.push('');
  lines.push(noiseNote(r));
  lines.push('');

  if (r.profile) renderProfile(r.profile, lines);

  lines.push('## The configuration');
  lines.push('');
  lines.push(
    'The same lines for both products (Switchyard: the Frontend\'s `acls`, `httpRequest`, `useBackends`, `httpResponse`; both generated ' +
      'configurations are in the JSON report, `contenders[].config`):',
  );
  lines.push('');
  lines.push('```');
  for (const l of r.setup.haproxyLines) lines.push(l);
  lines.push('```');
  lines.push('');
  const reached = new Set(r.setup.trace.reached);
  lines.push(
    `For the benchmark's request the ACLs that hold are ${r.setup.acls.filter((a) => a.matches).map((a) => `\`${a.name}\``).join(', ')}; ` +
      `${reached.size === r.setup.acls.length ? 'every ACL is evaluated' : `${reached.size} are evaluated`} (the conditions are ordered so that no AND stops ` +
      'early and no OR succeeds early).',
  );
  lines.push('');
  const failedProbes = r.probes.filter((p) => p.problem !== null);
  const probeText = r.setup.probes.map((p) => {
    const headers = Object.entries(p.rulesHeaders ?? {}).map(([name, present]) => `${present ? 'with' : 'without'} ${name}`);
    return `${p.what} (\`${p.method} ${p.path}\`): ${p.status.none} / ${p.status.rules}${headers.length > 0 ? `, ${headers.join(' and ')}` : ''}`;
  });
  lines.push(
    `Checked on every contender before the load (status without rules / with them): ${probeText.join('; ')}. ` +
      (failedProbes.length === 0 ? `All ${r.probes.length} answers were as expected.` : `${failedProbes.length} of ${r.probes.length} answers were not (below).`),
  );
  lines.push('');

  const problems = [...failedProbes.map((p) => `${label.get(p.contender) ?? p.contender}, ${p.what}: ${p.problem}`), ...r.events];
  lines.push(...problemsSection(problems, r.switchyardLog));
  return `${lines.join('\n')}\n`;
}

