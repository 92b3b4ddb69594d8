import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  computeRatios,
  fmtInt,
  fmtMs,
  fmtSpread,
  foreignLoad,
  median,
  noiseNote,
  renderMarkdown,
  summarize,
  type BenchReport,
  type ContenderInfo,
  type RunRecord,
  type Scenario,
} from './report.ts';

const contenders: ContenderInfo[] = [
  { id: 'direct', label: 'direct (no proxy)', product: 'direct', mode: 'http' },
  { id: 'haproxy-http', label: 'HAProxy http', product: 'haproxy', mode: 'http' },
  { id: 'switchyard-http', label: 'Switchyard http', product: 'switchyard', mode: 'http' },
  { id: 'haproxy-tcp', label: 'HAProxy tcp', product: 'haproxy', mode: 'tcp' },
  { id: 'switchyard-tcp', label: 'Switchyard tcp', product: 'switchyard', mode: 'tcp' },
];
const scenarios: Scenario[] = [
  { id: 'ka', title: 'Keep-alive', path: '/', connections: 50, headers: [], metric: 'rps', contenders: ['direct', 'haproxy-http', 'switchyard-http'] },
  { id: 'big', title: '1 MiB', path: '/1m', connections: 10, headers: [], metric: 'mibps', contenders: ['direct', 'haproxy-http', 'switchyard-http'] },
  { id: 'tcp', title: 'TCP', path: '/', connections: 50, headers: [], metric: 'rps', contenders: ['direct', 'haproxy-tcp', 'switchyard-tcp'] },
];

function run(scenario: string, contender: string, round: number, rps: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    scenario,
    contender,
    round,
    requests: rps * 10,
    durationSeconds: 10,
    rps,
    mibps: rps / 100,
    p50Ms: 1,
    p99Ms: 2,
    cpuSeconds: rps / 10_000,
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

function failed(scenario: string, contender: string, round: number): RunRecord {
  return {
    ...run(scenario, contender, round, 0),
    requests: null,
    durationSeconds: null,
    rps: null,
    mibps: null,
    p50Ms: null,
    p99Ms: null,
    cpuSeconds: null,
    socketErrors: null,
    non2xx3xx: null,
    foreignCpuSeconds: null,
    error: 'wrk failed',
  };
}

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
    assert.equal(median([]), null);
  });
});

describe('summarize', () => {
  const runs = [
    run('ka', 'direct', 1, 70_000),
    run('ka', 'haproxy-http', 1, 50_000, { p99Ms: 3, socketErrors: { connect: 0, read: 2, write: 0, timeout: 1 } }),
    run('ka', 'switchyard-http', 1, 20_000, { p50Ms: 2, p99Ms: 10 }),
    run('ka', 'direct', 2, 72_000),
    run('ka', 'haproxy-http', 2, 52_000, { p99Ms: 5, non2xx3xx: 4 }),
    run('ka', 'switchyard-http', 2, 25_000, { p50Ms: 3, p99Ms: 30, foreignCpuSeconds: 5 }),
    run('ka', 'direct', 3, 71_000),
    run('ka', 'haproxy-http', 3, 51_000, { p99Ms: 4 }),
    failed('ka', 'switchyard-http', 3),
  ];
  const sums = summarize([scenarios[0]!], runs);
  const by = (id: string) => sums.find((s) => s.contender === id)!;

  it('keeps scenario and contender order', () => {
    assert.deepEqual(sums.map((s) => s.contender), ['direct', 'haproxy-http', 'switchyard-http']);
  });
  it('reports the median throughput and the range', () => {
    assert.equal(by('direct').rpsMedian, 71_000);
    assert.equal(by('direct').rpsMin, 70_000);
    assert.equal(by('direct').rpsMax, 72_000);
    assert.equal(by('haproxy-http').p99Ms, 4);
  });
  it('leaves failed runs out of the numbers and counts them', () => {
    const sy = by('switchyard-http');
    assert.equal(sy.rounds, 2);
    assert.equal(sy.failedRuns, 1);
    assert.equal(sy.rpsMedian, 22_500);
    assert.equal(sy.p50Ms, 2.5);
    assert.equal(sy.p99Ms, 20);
  });
  it('computes CPU per 100k requests from the totals', () => {
    // cpu = rps / 10,000 per 10 s run of rps * 10 requests: 1e-5 s per request, 1 s per 100k.
    assert.ok(Math.abs(by('direct').cpuPer100k! - 1) < 1e-9);
  });
  it('adds socket errors and bad statuses over rounds', () => {
    assert.equal(by('haproxy-http').errors, 7);
    assert.equal(by('direct').errors, 0);
  });
  it('leaves discarded (noisy) runs out', () => {
    const extra = summarize([scenarios[0]!], [...runs, run('ka', 'direct', 1, 1, { discarded: 'noise' })]);
    assert.equal(extra.find((x) => x.contender === 'direct')!.rpsMin, 70_000);
  });
  it('keeps the noisiest round', () => {
    assert.equal(by('switchyard-http').foreignLoadMax, 0.5);
    assert.equal(by('direct').foreignLoadMax, 0);
    assert.equal(foreignLoad(failed('ka', 'direct', 1)), null);
  });
});

describe('computeRatios', () => {
  const runs = [
    run('ka', 'direct', 1, 80_000),
    run('ka', 'haproxy-http', 1, 40_000, { cpuSeconds: 4, p99Ms: 2 }),
    run('ka', 'switchyard-http', 1, 20_000, { cpuSeconds: 4, p99Ms: 8 }),
    run('big', 'direct', 1, 1000, { mibps: 1600 }),
    run('big', 'haproxy-http', 1, 700, { mibps: 800 }),
    run('big', 'switchyard-http', 1, 800, { mibps: 400 }),
    run('tcp', 'direct', 1, 60_000),
    run('tcp', 'haproxy-tcp', 1, 50_000),
    failed('tcp', 'switchyard-tcp', 1),
  ];
  const ratios = computeRatios(scenarios, contenders, summarize(scenarios, runs));

  it('compares throughput, CPU per request and p99 with HAProxy', () => {
    const ka = ratios.find((r) => r.scenario === 'ka')!;
    assert.equal(ka.switchyard, 'switchyard-http');
    assert.equal(ka.haproxy, 'haproxy-http');
    assert.equal(ka.throughputVsHaproxy, 0.5);
    assert.equal(ka.throughputVsDirect, 0.25);
    assert.equal(ka.cpuVsHaproxy, 2); // same CPU for half the requests
    assert.equal(ka.p99VsHaproxy, 4);
  });
  it('uses MiB/s for the large-response scenario', () => {
    const big = ratios.find((r) => r.scenario === 'big')!;
    assert.equal(big.throughputVsHaproxy, 0.5);
    assert.equal(big.throughputVsDirect, 0.25);
  });
  it('pairs the tcp-mode contenders and has no ratio without numbers', () => {
    const tcp = ratios.find((r) => r.scenario === 'tcp')!;
    assert.equal(tcp.switchyard, 'switchyard-tcp');
    assert.equal(tcp.haproxy, 'haproxy-tcp');
    assert.equal(tcp.throughputVsHaproxy, null);
  });
});

describe('formatting', () => {
  it('formats numbers for the table', () => {
    assert.equal(fmtInt(71506.4), '71,506');
    assert.equal(fmtInt(null), '–');
    assert.equal(fmtMs(0.513), '0.51 ms');
    assert.equal(fmtMs(35.12), '35.1 ms');
    assert.equal(fmtMs(172.75), '173 ms');
    assert.equal(fmtSpread(98, 102, 100), '±2.0%');
    assert.equal(fmtSpread(null, 1, 1), '–');
  });
});

describe('renderMarkdown', () => {
  const runs = scenarios.flatMap((sc) => sc.contenders.map((c, i) => run(sc.id, c, 1, 10_000 * (3 - i))));
  const summaries = summarize(scenarios, runs);
  const report: BenchReport = {
    schemaVersion: 1,
    date: '2026-11-21T00:00:00.000Z',
    totalSeconds: 120,
    settings: {
      quick: true,
      twoWorkers: false,
      rounds: 2,
      durationSeconds: 2,
      warmupSeconds: 0,
      startWarmupSeconds: 2,
      noiseRetries: 1,
      noisyRunThreshold: 0.2,
      wrkThreads: 1,
      wrkTimeoutSeconds: 5,
      idleConnections: 10_000,
      quietThreshold: 0.1,
      quietWaitSeconds: 5,
      proxyCpus: '0',
      loadCpus: '1',
      proxyWorkers: { haproxy: 1, nginx: 1, switchyard: 1 },
    },
    machine: { nproc: 2, cpuModel: 'AMD EPYC', kernel: '6.1', node: 'v24.21.0', haproxy: 'HAProxy version 2.6.12', nginx: 'nginx/1.22.1', wrk: 'wrk 4.1.0', memTotalMiB: 24_000, switchyard: 'abc1234' },
    contenders,
    scenarios,
    runs,
    summaries,
    ratios: computeRatios(scenarios, contenders, summaries),
    idle: [
      {
        contender: 'switchyard-http', requested: 10_000, held: 9_000, failed: 1_000, failures: { EMFILE: 1_000 }, closedByPeer: 0, openSeconds: 2,
        rssIdleKiB: 100 * 1024, rssHeldKiB: 140 * 1024, rssAfterKiB: 120 * 1024, perConnectionKiB: (40 * 1024) / 9_000, error: null,
      },
    ],
    events: ['Switchyard exited (SIGSEGV) before tcp round 2'],
    switchyardLog: ['{"level":40,"msg":"something"}'],
  };
  const md = renderMarkdown(report);

  it('says it is a quick run and how the load was made', () => {
    assert.match(md, /\*\*Quick mode:\*\* 2 rounds of 2 s/);
    assert.match(md, /· \*\*quick mode\*\* · Switchyard abc1234 · took 120 s/);
    assert.match(md, /proxy under test pinned to CPU 0, wrk and backends to CPU 1/);
    assert.match(md, /wrk -t1 --latency/);
    assert.match(md, /warm-up: 2 s per contender at the start; the same connection counts/);
    assert.match(md, /2 CPUs \(AMD EPYC\).*HAProxy version 2\.6\.12, nginx\/1\.22\.1, wrk 4\.1\.0/);
  });
  it('has a row per scenario and contender, and a ratio row per scenario', () => {
    assert.match(md, /\| Keep-alive \| HAProxy http \| 20,000 req\/s \| ±0\.0% \| {2}\| 1\.00 ms \| 2\.00 ms \| 1\.00 \| 0 \| 0% \|/);
    assert.match(md, /\| 1 MiB \| Switchyard http \| 100 MiB\/s \| ±0\.0% \| 10,000 \|/);
    assert.match(md, /\| Keep-alive \| 0\.50× \| 0\.33× \| 1\.00× \| 1\.00× \| – \|/);
    assert.match(md, /\| TCP \| 0\.50× \| 0\.33× \|/);
  });
  it('reports memory, connections short of the target, noise and problems', () => {
    assert.match(md, /## Memory with 10,000 idle client connections/);
    assert.match(md, /\| Switchyard http \| 9,000 \/ 10,000 \| 100\.0 MiB \| 140\.0 MiB \| 120\.0 MiB \| 4\.6 KiB \|/);
    assert.match(md, /held 9,000 of 10,000 \(failures: EMFILE: 1000\)/);
    assert.match(md, /Other load on the machine during the measured runs: 0% of a CPU on average/);
    assert.match(md, /- Switchyard exited \(SIGSEGV\)/);
    assert.match(md, /Switchyard printed 1 line/);
  });
  it('says how many workers each proxy ran', () => {
    assert.match(md, /one worker, proxy under test pinned .* HAProxy nbthread 1, nginx worker_processes 1, Switchyard --workers 1 \(one thread does everything\)\./);
    const two = renderMarkdown({
      ...report,
      settings: { ...report.settings, twoWorkers: true, proxyCpus: null, loadCpus: null, proxyWorkers: { haproxy: 2, nginx: 2, switchyard: 2, nodeHttpProxy: 2 } },
    });
    assert.match(two, /two workers, not pinned\. HAProxy nbthread 2, nginx worker_processes 2, Switchyard --workers 2 \(worker threads, SO_REUSEPORT\), node-http-proxy 2 processes \(node:cluster\)\./);
  });
  it('compares Switchyard with node-http-proxy when it ran', () => {
    const withNode: ContenderInfo[] = [...contenders, { id: 'node-http-proxy', label: 'node-http-proxy', product: 'node-http-proxy', mode: 'http' }];
    const ka = { ...scenarios[0]!, contenders: [...scenarios[0]!.contenders, 'node-http-proxy'] };
    const sums = summarize([ka], [...runs.filter((r) => r.scenario === 'ka'), run('ka', 'node-http-proxy', 1, 2_500)]);
    const [ratios] = computeRatios([ka], withNode, sums);
    assert.equal(ratios!.throughputVsNodeHttpProxy, 4);
  });
  it('summarizes noise', () => {
    const noisy = { ...report, runs: report.runs.map((r, i) => ({ ...r, foreignCpuSeconds: i === 0 ? 5 : 0, quietWaitSeconds: 3 })) };
    assert.match(noiseNote(noisy), /50% at most; 1 of 9 runs above 10% \(the harness waited 27 s in all for quieter moments\)\. Rows with high noise/);
    const redone = { ...report, runs: [...report.runs, { ...report.runs[0]!, discarded: 'noise', foreignCpuSeconds: 9 }] };
    assert.match(noiseNote(redone), /0% at most; 0 of 9 runs above 10%; 1 run\(s\) measured again because other processes took more than 20% of a CPU\./);
  });
});
