import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarize, type ContenderInfo, type RunRecord, type Scenario, type Settings } from '../report.ts';
import { ACLS, BENCH_REQUEST, haproxyRuleLines, PROBES, traceBenchRequest } from './config.ts';
import {
  computeCosts,
  computeRulesRatios,
  fmtSignedPercent,
  fmtSignedUs,
  fmtUs,
  profileDifference,
  renderRulesMarkdown,
  type RulesProfile,
  type RulesReport,
} from './report.ts';

const contenders: ContenderInfo[] = [
  { id: 'haproxy-http', label: 'HAProxy, no rules', product: 'haproxy', mode: 'http' },
  { id: 'haproxy-rules', label: 'HAProxy, 20 ACLs + 10 rules', product: 'haproxy', mode: 'http' },
  { id: 'switchyard-http', label: 'Switchyard, no rules', product: 'switchyard', mode: 'http' },
  { id: 'switchyard-rules', label: 'Switchyard, 20 ACLs + 10 rules', product: 'switchyard', mode: 'http' },
];
const scenario: Scenario = {
  id: 'rules-keepalive-50',
  title: 'Keep-alive, 50 connections, a shop page request',
  path: BENCH_REQUEST.path,
  connections: 50,
  headers: [...BENCH_REQUEST.headers],
  metric: 'rps',
  contenders: contenders.map((c) => c.id),
};

/** A 10 s run of `rps` requests/s at `cpuUs` µs of CPU each. */
function run(contender: string, round: number, rps: number, cpuUs: number, over: Partial<RunRecord> = {}): RunRecord {
  const requests = rps * 10;
  return {
    scenario: scenario.id,
    contender,
    round,
    requests,
    durationSeconds: 10,
    rps,
    mibps: null,
    p50Ms: 1,
    p99Ms: 2,
    cpuSeconds: (requests * cpuUs) / 1e6,
    backendCpuSeconds: 1,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx3xx: 0,
    error: null,
    foreignCpuSeconds: 0,
    quietWaitSeconds: 0,
    discarded: null,
    ...over,
  };
}

const runs: RunRecord[] = [
  run('haproxy-http', 1, 60_000, 16),
  run('haproxy-rules', 1, 57_000, 17),
  run('switchyard-http', 1, 36_000, 28),
  run('switchyard-rules', 1, 24_000, 42, { p99Ms: 6 }),
  run('haproxy-http', 2, 60_000, 16),
  run('haproxy-rules', 2, 56_000, 18),
  run('switchyard-http', 2, 36_000, 28),
  run('switchyard-rules', 2, 1_000, 99, { discarded: 'other processes took 50% of a CPU' }),
  run('switchyard-rules', 2, 24_000, 44, { p99Ms: 6 }),
];

const near = (a: number | null, b: number, what: string): void => {
  assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${what}: ${a} is not ${b}`);
};

describe('computeCosts', () => {
  const summaries = summarize([scenario], runs);
  const costs = computeCosts(scenario, runs, summaries);
  const [ha, sy] = costs;

  it('pairs each product with and without the rules', () => {
    assert.deepEqual(
      costs.map((c) => [c.product, c.none, c.rules]),
      [
        ['haproxy', 'haproxy-http', 'haproxy-rules'],
        ['switchyard', 'switchyard-http', 'switchyard-rules'],
      ],
    );
  });
  it('takes CPU per request from the totals, and the cost as the difference', () => {
    near(ha!.cpuUsNone, 16, 'haproxy none');
    // (570,000 x 17 + 560,000 x 18) / 1,130,000
    near(ha!.cpuUsRules, (570_000 * 17 + 560_000 * 18) / 1_130_000, 'haproxy rules');
    near(sy!.costUs, 15, 'switchyard cost');
    near(sy!.costShare, 15 / 28, 'switchyard share');
  });
  it('gives the cost of each round, without the discarded run', () => {
    assert.equal(ha!.perRoundCostUs.length, 2);
    near(ha!.perRoundCostUs[0]!, 1, 'round 1');
    near(ha!.perRoundCostUs[1]!, 2, 'round 2');
    assert.deepEqual(sy!.perRoundCostUs.map((x) => Math.round(x)), [14, 16]);
  });
  it('compares throughput and latency with and without the rules', () => {
    near(sy!.throughputChange, 24_000 / 36_000 - 1, 'throughput change');
    assert.equal(sy!.p99MsNone, 2);
    assert.equal(sy!.p99MsRules, 6);
  });
  it('skips a product whose pair did not run, and has no ratio then', () => {
    const only = { ...scenario, contenders: ['haproxy-http', 'haproxy-rules'] };
    const partial = computeCosts(only, runs, summarize([only], runs));
    assert.deepEqual(partial.map((c) => c.product), ['haproxy']);
    assert.equal(computeRulesRatios(partial).costVsHaproxy, null);
  });
  it('relates Switchyard to HAProxy', () => {
    const r = computeRulesRatios(costs);
    near(r.costVsHaproxy, 15 / 1.5 / (ha!.costUs! / 1.5), 'cost');
    near(r.cpuNoneVsHaproxy, 28 / 16, 'cpu none');
    near(r.throughputRulesVsHaproxy, 24_000 / 56_500, 'throughput');
  });
});

describe('formatting', () => {
  it('writes microseconds and signed differences', () => {
    assert.equal(fmtUs(17.34), '17.3 µs');
    assert.equal(fmtUs(0.4249), '0.42 µs');
    assert.equal(fmtUs(null), '–');
    assert.equal(fmtSignedUs(1.25), '+1.25 µs');
    assert.equal(fmtSignedUs(-0.3), '−0.30 µs');
    assert.equal(fmtSignedPercent(0.525), '+52.5%');
    assert.equal(fmtSignedPercent(-0.066), '−6.6%');
  });
});

describe('profileDifference', () => {
  it('compares per request, self or inclusive, largest increase first', () => {
    const d = profileDifference(
      [
        { name: 'parse', selfMs: 100 },
        { name: 'write', selfMs: 100 },
      ],
      [
        { name: 'parse', totalMs: 400 },
        { name: 'rules', totalMs: 100 },
      ],
      { none: 100_000, rules: 50_000 },
    );
    assert.deepEqual(
      d.map((x) => [x.name, x.noneUs, x.rulesUs, x.diffUs]),
      [
        ['parse', 1, 8, 7],
        ['rules', 0, 2, 2],
        ['write', 1, 0, -1],
      ],
    );
    assert.deepEqual(profileDifference([], [], { none: 0, rules: 1 }), []);
  });
});

describe('renderRulesMarkdown', () => {
  const settings: Settings = {
    quick: false,
    twoWorkers: false,
    rounds: 5,
    durationSeconds: 10,
    warmupSeconds: 2,
    startWarmupSeconds: 3,
    noiseRetries: 2,
    noisyRunThreshold: 0.2,
    wrkThreads: 1,
    wrkTimeoutSeconds: 5,
    idleConnections: 0,
    quietThreshold: 0.1,
    quietWaitSeconds: 20,
    proxyCpus: '0',
    loadCpus: '1',
    proxyWorkers: { haproxy: 1, nginx: 1, switchyard: 1 },
  };
  const summaries = summarize([scenario], runs);
  const costs = computeCosts(scenario, runs, summaries);
  const report: RulesReport = {
    schemaVersion: 1,
    kind: 'rules',
    date: '2026-11-21T00:00:00.000Z',
    totalSeconds: 250,
    settings,
    machine: { nproc: 2, cpuModel: 'AMD EPYC', kernel: '6.1', node: 'v24.21.0', haproxy: 'HAProxy version 2.6.12', nginx: 'nginx/1.22.1', wrk: 'wrk 4.1.0', memTotalMiB: 24_000, switchyard: 'abc1234' },
    contenders,
    scenarios: [scenario],
    runs,
    summaries,
    costs,
    ratios: computeRulesRatios(costs),
    setup: {
      request: { method: 'GET', path: BENCH_REQUEST.path, headers: [...BENCH_REQUEST.headers] },
      acls: [...ACLS],
      haproxyLines: haproxyRuleLines(),
      trace: traceBenchRequest(),
      probes: PROBES.map(({ headers: _, ...p }) => p),
    },
    probes: [
      { contender: 'haproxy-rules', what: 'the benchmark request', expected: 200, status: 200, problem: null },
      { contender: 'switchyard-rules', what: 'the benchmark request', expected: 200, status: 200, problem: null },
    ],
    profile: null,
    events: [],
    switchyardLog: [],
  };
  const md = renderRulesMarkdown(report);

  it('describes the run', () => {
    assert.match(md, /^# Switchyard benchmark: the per-request cost of rules\n\n2026-11-21T00:00:00\.000Z · full run · Switchyard abc1234 · took 250 s\n/);
    assert.match(md, /with 20 named ACLs and 10 rules/);
    assert.match(md, /evaluate 20 of the 20 ACLs for it and 5 header rules act/);
    assert.match(md, /wrk -t1 -c50 --latency --timeout 5s, `GET \/shop\/items\/42\?lang=en&ref=home` with 5 headers/);
    assert.match(md, /each round: HAProxy, no rules; HAProxy, 20 ACLs \+ 10 rules; Switchyard, no rules; Switchyard, 20 ACLs \+ 10 rules\)/);
    assert.match(md, /each proxy pinned to CPU 0, wrk and the backends to CPU 1/);
    assert.doesNotMatch(md, /Quick mode/);
  });
  it('has the cost table and the ratios', () => {
    assert.match(md, /\| HAProxy \| 16\.0 µs \| 17\.5 µs \| \+1\.50 µs \(\+9\.3%\) \| 1\.00 to 2\.00 µs \| 56,500 req\/s \(−5\.8%\) \| 2\.00 ms → 2\.00 ms \|/);
    assert.match(md, /\| Switchyard \| 28\.0 µs \| 43\.0 µs \| \+15\.0 µs \(\+53\.6%\) \| 14\.00 to 16\.00 µs \| 24,000 req\/s \(−33\.3%\) \| 2\.00 ms → 6\.00 ms \|/);
    assert.match(md, /\*\*Switchyard \/ HAProxy:\*\* cost of the rules 10\.03×; CPU per request 1\.75× without rules, 2\.46× with them; throughput with the rules 0\.42×\./);
  });
  it('has a row per contender, the configuration and the probes', () => {
    assert.match(md, /\| Switchyard, 20 ACLs \+ 10 rules \| 24,000 req\/s \| ±0\.0% \| 1\.00 ms \| 6\.00 ms \| 43\.0 µs \| 0 \| 0% \|/);
    assert.match(md, /\nacl bot_ua hdr_sub\(user-agent\) -i bot crawler spider\n/);
    assert.match(md, /\nhttp-response del-header Server\n```/);
    assert.match(md, /every ACL is evaluated/);
    assert.match(
      md,
      /status without rules \/ with them\): the benchmark request \(`GET \/shop\/items\/42\?lang=en&ref=home`\): 200 \/ 200, with strict-transport-security and without server; an admin path from outside \(`GET \/admin\/users`\): 200 \/ 403;/,
    );
    assert.match(md, /All 2 answers were as expected\./);
    assert.doesNotMatch(md, /## Problems seen/);
    assert.doesNotMatch(md, /--cpu-prof/);
  });
  it('says so in quick mode, and lists problems', () => {
    const quick = renderRulesMarkdown({
      ...report,
      settings: { ...settings, quick: true, rounds: 2, durationSeconds: 2 },
      probes: [{ contender: 'switchyard-rules', what: 'a crawler on the shop', expected: 429, status: 200, problem: 'status 200, expected 429' }],
      events: ['Switchyard with rules exited (SIGSEGV)'],
      switchyardLog: ['{"level":40,"msg":"slow"}'],
    });
    assert.match(quick, /\*\*Quick mode:\*\* 2 rounds of 2 s per contender/);
    assert.match(quick, /1 of 1 answers were not \(below\)/);
    assert.match(quick, /- Switchyard, 20 ACLs \+ 10 rules, a crawler on the shop: status 200, expected 429\n- Switchyard with rules exited \(SIGSEGV\)\n/);
    assert.match(quick, /Switchyard printed 1 line/);
  });
  it('shows where the time goes with a profile', () => {
    const summary = (fn: number) => ({
      busyMs: 2000,
      idleMs: 100,
      functions: [{ name: 'parseRequestHead (dataplane/src/http/message-head.ts:84)', selfMs: fn, share: 0.1 }],
      areas: [{ name: 'dataplane/src/http', selfMs: fn, share: 0.1 }],
    });
    const profile: RulesProfile = {
      files: { none: 'bench/results/rules-cpu-prof-none.cpuprofile', rules: 'bench/results/rules-cpu-prof-rules.cpuprofile' },
      requests: { none: 100_000, rules: 50_000 },
      none: summary(100),
      rules: summary(200),
      inclusive: {
        none: [{ name: 'parseRequest (dataplane/src/proxy/http-session.ts:177)', totalMs: 1000, share: 0.5 }],
        rules: [
          { name: 'parseRequest (dataplane/src/proxy/http-session.ts:177)', totalMs: 1000, share: 0.5 },
          { name: 'onHttpRequest (dataplane/src/rules/compile.ts:262)', totalMs: 400, share: 0.2 },
          { name: 'onHttpResponse (dataplane/src/rules/compile.ts:277)', totalMs: 100, share: 0.05 },
          { name: 'commit (dataplane/src/http/head-edit.ts:28)', totalMs: 250, share: 0.1 },
        ],
      },
    };
    const prof = renderRulesMarkdown({ ...report, profile });
    assert.match(prof, /^# Switchyard benchmark: the per-request cost of rules \(under --cpu-prof\)/);
    assert.match(prof, /\| `dataplane\/src\/http` \| 1\.00 µs \| 4\.00 µs \| \+3\.00 µs \|/);
    assert.match(prof, /take 10\.0 µs per request with everything they call, of which 5\.00 µs \(50%\) in `commit` of head-edit\.ts/);
    assert.match(prof, /\| `parseRequest \(dataplane\/src\/proxy\/http-session\.ts:177\)` \| 10\.0 µs \| 20\.0 µs \| \+10\.0 µs \|/);
    assert.match(prof, /Profiled busy time per request: 20\.0 µs without rules, 40\.0 µs with them\./);
  });
});
