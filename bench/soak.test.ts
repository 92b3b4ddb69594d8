import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  analyze,
  BLOCK_SECONDS,
  blockSteps,
  CYCLE_BLOCKS,
  describeCycle,
  FLAT_CRITERIA,
  fmtClock,
  kibPerSecondToMiBPer10Min,
  leastSquaresSlope,
  LOADS,
  minuteSamples,
  parseSoakArgs,
  renderSoakMarkdown,
  totalsByKind,
  WARMUP_BLOCKS,
  type LoadKind,
  type SoakReport,
  type SoakRun,
  type SoakSample,
} from './soak.ts';

/** A sample every 10 s for `minutes`, RSS given by `rss(t)` in KiB. */
function series(minutes: number, rss: (t: number) => number): SoakSample[] {
  const out: SoakSample[] = [];
  for (let i = 0; i <= minutes * 6; i++) {
    const t = i * 10;
    out.push({ t, rssKiB: rss(t), requests: i * 400_000, errors: 0, cpuSeconds: i * 9.5 });
  }
  return out;
}

const MiB = 1024;

describe('leastSquaresSlope', () => {
  it('is the slope of an exact line', () => {
    assert.equal(leastSquaresSlope([{ x: 0, y: 5 }, { x: 10, y: 25 }, { x: 20, y: 45 }]), 2);
    assert.equal(leastSquaresSlope([{ x: 3, y: 7 }, { x: 9, y: 7 }]), 0);
  });

  it('fits noisy points by least squares', () => {
    // x 0,1,2,3 / y 1,3,2,6: mean x 1.5, mean y 3; sxy = 1.5*2 + 0.5*0 + 0.5*(-1)... = 7, sxx = 5.
    assert.equal(leastSquaresSlope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 2 }, { x: 3, y: 6 }]), 7 / 5);
  });

  it('is null for fewer than two points or a single x', () => {
    assert.equal(leastSquaresSlope([]), null);
    assert.equal(leastSquaresSlope([{ x: 1, y: 1 }]), null);
    assert.equal(leastSquaresSlope([{ x: 4, y: 1 }, { x: 4, y: 9 }]), null);
  });
});

describe('kibPerSecondToMiBPer10Min', () => {
  it('converts KiB/s to MiB per 600 s', () => {
    assert.equal(kibPerSecondToMiBPer10Min(1024 / 600), 1);
    assert.equal(kibPerSecondToMiBPer10Min(0), 0);
  });
});

describe('analyze', () => {
  it('calls a steady RSS flat and reports warm, end and max', () => {
    const samples = series(10, (t) => 100 * MiB + (t % 30 === 0 ? 512 : 0));
    const a = analyze(samples);
    assert.equal(a.verdict, 'flat');
    assert.deepEqual(a.reasons, []);
    assert.equal(a.warmRssKiB, 100 * MiB + 512);
    assert.equal(a.endRssKiB, 100 * MiB + 512);
    assert.equal(a.maxRssKiB, 100 * MiB + 512);
    assert.equal(a.maxAtSeconds, 0);
    assert.equal(a.endChange, 0);
    assert.equal(a.secondHalfFromSeconds, 300);
    assert.equal(a.secondHalfSamples, 31);
    assert.ok(Math.abs(a.slopeMiBPer10Min!) < 0.1);
  });

  it('fits the slope over the second half only', () => {
    // Grows 8 MiB in the first half (allocation on the way up), then flat at +8 MiB (within 10% of 100).
    const samples = series(10, (t) => 100 * MiB + Math.min(t, 300) * ((8 * MiB) / 300));
    const a = analyze(samples);
    assert.equal(a.slopeMiBPer10Min, 0);
    assert.equal(a.verdict, 'flat');
    assert.ok(Math.abs(a.endChange! - 0.08) < 1e-12);
  });

  it('calls a steady growth of 6 MiB per 10 minutes not flat, even within 10% at the end', () => {
    const samples = series(10, (t) => 100 * MiB + (t / 600) * 6 * MiB);
    const a = analyze(samples);
    assert.ok(Math.abs(a.slopeMiBPer10Min! - 6) < 1e-9);
    assert.equal(a.verdict, 'not flat');
    assert.equal(a.reasons.length, 1);
    assert.match(a.reasons[0]!, /slope over the second half is \+6\.0 MiB per 10 minutes, not below 5/);
  });

  it('puts the slope criterion strictly below 5', () => {
    assert.equal(analyze(series(10, (t) => 100 * MiB + (t / 600) * 5 * MiB)).verdict, 'not flat');
    assert.equal(analyze(series(10, (t) => 100 * MiB + (t / 600) * 4.9 * MiB)).verdict, 'flat');
  });

  it('calls an end RSS more than 10% from the warm one not flat, up or down', () => {
    const up = analyze(series(10, (t) => (t < 60 ? 100 * MiB : 115 * MiB)));
    assert.equal(up.slopeMiBPer10Min, 0);
    assert.equal(up.verdict, 'not flat');
    assert.match(up.reasons.join(), /end RSS is \+15\.0% from the warm RSS, not within ±10%/);
    const down = analyze(series(10, (t) => (t < 60 ? 100 * MiB : 85 * MiB)));
    assert.equal(down.verdict, 'not flat');
    assert.match(down.reasons.join(), /-15\.0%/);
    assert.equal(analyze(series(10, (t) => (t < 60 ? 100 * MiB : 110 * MiB))).verdict, 'flat');
  });

  it('gives both reasons when both criteria fail', () => {
    const a = analyze(series(10, (t) => 100 * MiB + (t / 600) * 30 * MiB));
    assert.equal(a.verdict, 'not flat');
    assert.equal(a.reasons.length, 2);
  });

  it('takes other criteria', () => {
    const samples = series(10, (t) => 100 * MiB + (t / 600) * 3 * MiB);
    assert.equal(analyze(samples).verdict, 'flat');
    assert.equal(analyze(samples, { ...FLAT_CRITERIA, maxSlopeMiBPer10Min: 2 }).verdict, 'not flat');
  });

  it('gives no verdict without enough samples or after an early stop', () => {
    const none = analyze([]);
    assert.equal(none.verdict, 'no verdict');
    assert.equal(none.warmRssKiB, null);
    assert.match(none.reasons.join(), /too few samples/);
    assert.equal(analyze(series(0, () => 100 * MiB)).verdict, 'no verdict');
    const stopped = analyze(series(10, () => 100 * MiB), FLAT_CRITERIA, 'Switchyard exited');
    assert.equal(stopped.verdict, 'no verdict');
    assert.deepEqual(stopped.reasons, ['Switchyard exited']);
    assert.equal(stopped.slopeMiBPer10Min, 0);
  });
});

describe('the schedule', () => {
  it('fills every block with 10 s of load, bursts once per cycle', () => {
    for (let i = 0; i < 12; i++) {
      const steps = blockSteps(i);
      assert.equal(steps.reduce((n, s) => n + s.seconds, 0), BLOCK_SECONDS, `block ${i}`);
    }
    assert.deepEqual(blockSteps(0), [{ kind: 'keepalive', seconds: 10 }]);
    assert.deepEqual(blockSteps(1), [{ kind: 'keepalive', seconds: 10 }]);
    assert.deepEqual(blockSteps(2).map((s) => s.kind), ['close', 'large', 'tcp']);
  });

  it('exercises every kind of load in the warm-up and in each cycle', () => {
    const kinds = (from: number, n: number): Set<LoadKind> => new Set(Array.from({ length: n }, (_, i) => blockSteps(from + i).map((s) => s.kind)).flat());
    assert.deepEqual(kinds(0, WARMUP_BLOCKS), new Set(Object.keys(LOADS)));
    assert.deepEqual(kinds(WARMUP_BLOCKS + 5 * CYCLE_BLOCKS, CYCLE_BLOCKS), new Set(Object.keys(LOADS)));
  });

  it('says the cycle in words', () => {
    assert.equal(
      describeCycle(),
      '2 blocks of keep-alive (50 connections, GET /), then one block of bursts: new connection per request (50 connections, `Connection: close`) 3 s, ' +
        '1 MiB responses (10 connections, GET /1m) 3 s, TCP mode (50 connections, keep-alive HTTP through the tcp frontend) 4 s',
    );
  });

  it('uses the main benchmark scenarios', () => {
    assert.deepEqual(LOADS.close.headers, ['Connection: close']);
    assert.equal(LOADS.large.path, '/1m');
    assert.equal(LOADS.large.connections, 10);
    assert.equal(LOADS.tcp.frontend, 'tcp');
    assert.equal(LOADS.keepalive.connections, 50);
  });
});

describe('minuteSamples', () => {
  it('takes one sample per minute and the last', () => {
    assert.deepEqual(minuteSamples(series(3, () => 1)).map((s) => s.t), [0, 60, 120, 180]);
    assert.deepEqual(minuteSamples(series(3, () => 1).slice(0, 10)).map((s) => s.t), [0, 60, 90]);
    assert.deepEqual(minuteSamples([]), []);
  });
});

describe('totalsByKind', () => {
  it('sums the measured runs per load, without the warm-up', () => {
    const run = (phase: SoakRun['phase'], kind: LoadKind, requests: number | null, errors = 0): SoakRun => ({
      phase, block: 0, kind, seconds: 10, requests, durationSeconds: requests === null ? null : 10, rps: null, p99Ms: null, errors, error: requests === null ? 'wrk failed' : null,
    });
    const totals = totalsByKind([run('warmup', 'keepalive', 999), run('run', 'keepalive', 100), run('run', 'keepalive', 50, 2), run('run', 'tcp', null)]);
    assert.deepEqual(totals.map((t) => t.kind), ['keepalive', 'close', 'large', 'tcp']);
    assert.deepEqual(totals[0], { kind: 'keepalive', runs: 2, failedRuns: 0, seconds: 20, requests: 150, errors: 2 });
    assert.deepEqual(totals[1], { kind: 'close', runs: 0, failedRuns: 0, seconds: 0, requests: 0, errors: 0 });
    assert.deepEqual(totals[3], { kind: 'tcp', runs: 1, failedRuns: 1, seconds: 0, requests: 0, errors: 0 });
  });
});

describe('parseSoakArgs', () => {
  it('defaults to 10 minutes, --quick to 2, --minutes wins', () => {
    assert.deepEqual(parseSoakArgs([]), { minutes: 10, quick: false, out: null, portBase: null, keepTemp: false, help: false });
    assert.equal(parseSoakArgs(['--quick']).minutes, 2);
    assert.equal(parseSoakArgs(['--quick', '--minutes', '5']).minutes, 5);
    assert.deepEqual(parseSoakArgs(['--minutes', '1', '--out', '/tmp/x', '--port-base', '30000', '--keep-temp', '-h']), {
      minutes: 1, quick: false, out: '/tmp/x', portBase: 30000, keepTemp: true, help: true,
    });
  });

  it('rejects bad values and unknown options', () => {
    assert.throws(() => parseSoakArgs(['--minutes', '0']), /--minutes must be an integer >= 1/);
    assert.throws(() => parseSoakArgs(['--minutes', '1.5']), /--minutes/);
    assert.throws(() => parseSoakArgs(['--port-base', '80']), /--port-base/);
    assert.throws(() => parseSoakArgs(['--rounds', '3']), /Unknown option/);
  });
});

describe('fmtClock', () => {
  it('formats seconds as m:ss', () => {
    assert.equal(fmtClock(0), '0:00');
    assert.equal(fmtClock(75.4), '1:15');
    assert.equal(fmtClock(600), '10:00');
  });
});

function report(over: Partial<SoakReport> = {}): SoakReport {
  const samples = series(10, (t) => 100 * MiB + (t >= 300 ? 512 : 0));
  const runs: SoakRun[] = [
    { phase: 'warmup', block: 0, kind: 'keepalive', seconds: 10, requests: 1_000, durationSeconds: 10, rps: 100, p99Ms: 3, errors: 7, error: null },
    { phase: 'run', block: 3, kind: 'keepalive', seconds: 10, requests: 24_000_000, durationSeconds: 600, rps: 40_000, p99Ms: 3, errors: 0, error: null },
  ];
  return {
    schemaVersion: 1,
    kind: 'soak',
    date: '2026-11-22T10:00:00.000Z',
    totalSeconds: 640,
    settings: {
      minutes: 10, quick: false, warmupSeconds: 30, sampleSeconds: 10, cycle: 'the cycle in words', loads: Object.values(LOADS),
      proxyCpus: '0', loadCpus: '1', switchyardWorkers: 1, wrkThreads: 1, wrkTimeoutSeconds: 5, criteria: FLAT_CRITERIA,
    },
    machine: { nproc: 2, cpuModel: 'AMD EPYC', kernel: '6.1.0', node: 'v24.21.0', haproxy: '', nginx: 'nginx/1.22.1', wrk: 'wrk 4.1.0', memTotalMiB: 8192, switchyard: 'abc1234' },
    config: 'kind: Frontend',
    startRssKiB: 80 * MiB,
    samples,
    analysis: analyze(samples),
    totals: totalsByKind(runs),
    requests: 24_000_000,
    errors: 0,
    cpuSeconds: 570,
    cpuPer100k: 2.375,
    foreignLoad: 0.03,
    runs,
    events: [],
    switchyardLog: [],
    ...over,
  };
}

describe('renderSoakMarkdown', () => {
  it('states the verdict, the figures and the criteria', () => {
    const md = renderSoakMarkdown(report());
    assert.match(md, /^# Switchyard soak: memory under continuous load\n/);
    assert.match(md, /2026-11-22T10:00:00\.000Z · full run \(10 min\) · Switchyard abc1234 · took 640 s/);
    assert.match(md, /\*\*Verdict: flat\.\*\* RSS 100\.0 MiB after the warm-up, 100\.5 MiB at the end \(\+0\.5%\), at most 100\.5 MiB; slope over the second half \+0\.00 MiB per 10 minutes\./);
    assert.match(md, /Criteria for "flat": the least-squares slope of RSS over the second half of the measured run is below 5 MiB per 10 minutes, \*\*and\*\* the RSS at the end is within ±10% of the RSS after the warm-up\./);
    assert.match(md, /\| 100\.0 MiB \| 100\.5 MiB \| 100\.5 MiB at 5:00 \| \+0\.00 MiB \/ 10 min \(31 samples from 5:00\) \| \+0\.5% \| flat \|/);
    assert.doesNotMatch(md, /Short run|Quick mode/);
  });

  it('has the machine line without HAProxy, the pinning and the other load', () => {
    const md = renderSoakMarkdown(report());
    assert.match(md, /- \*\*Machine:\*\* 2 CPUs \(AMD EPYC\), 8 GiB RAM, Linux 6\.1\.0, Node v24\.21\.0, nginx\/1\.22\.1, wrk 4\.1\.0\./);
    assert.match(md, /Switchyard pinned to CPU 0, wrk and the backends to CPU 1/);
    assert.match(md, /- \*\*Other load on the machine:\*\* 3% of a CPU on average during the measured run\./);
    assert.match(md, /80\.0 MiB once it answered, before any load/);
  });

  it('lists a sample every minute with the request rate since the previous row', () => {
    const md = renderSoakMarkdown(report());
    const rows = md.split('\n').filter((l) => /^\| \d+:\d\d \|/.test(l));
    assert.equal(rows.length, 11);
    assert.equal(rows[0], '| 0:00 | 100.0 MiB | 0 | 0 | – | 0.0 s |');
    assert.equal(rows[1], '| 1:00 | 100.0 MiB | 2,400,000 | 0 | 40,000 | 57.0 s |');
    assert.equal(rows[10], '| 10:00 | 100.5 MiB | 24,000,000 | 0 | 40,000 | 570.0 s |');
  });

  it('totals the load and the CPU', () => {
    const md = renderSoakMarkdown(report());
    assert.match(md, /\| Keep-alive, 50 connections \| 1 \| 600 s \| 24,000,000 \| 40,000 \| 0 \|/);
    assert.match(md, /\| New connection per request, 50 connections \| 0 \| 0 s \| 0 \| – \| 0 \|/);
    assert.match(md, /\| \*\*Total\*\* \| 1 \| 600 s \| 24,000,000 \| 40,000 \| 0 \|/);
    assert.match(md, /570\.0 s over the measured run, 2\.38 s per 100,000 requests/);
  });

  it('says when the run is short or quick, and why the verdict is not flat', () => {
    const samples = series(1, (t) => 100 * MiB + t * 10);
    const short = renderSoakMarkdown(report({ settings: { ...report().settings, minutes: 1 }, samples, analysis: analyze(samples) }));
    assert.match(short, /short run \(1 min\)/);
    assert.match(short, /> \*\*Short run:\*\* 1 min instead of 10\. The slope is fitted over 30 s/);
    assert.match(short, /\*\*Verdict: not flat\.\*\* .* The slope over the second half is \+5\.9 MiB per 10 minutes, not below 5\./);
    const quick = renderSoakMarkdown(report({ settings: { ...report().settings, minutes: 2, quick: true } }));
    assert.match(quick, /\*\*quick mode\*\* \(2 min\)/);
    assert.match(quick, /> \*\*Quick mode:\*\* 2 min instead of 10/);
  });

  it('shows no verdict and the problems after an early stop', () => {
    const samples = series(10, () => 100 * MiB).slice(0, 1);
    const md = renderSoakMarkdown(
      report({
        samples,
        analysis: analyze(samples, FLAT_CRITERIA, 'the run stopped early (see below)'),
        events: ['Switchyard exited (SIGSEGV); last output: (none)'],
        switchyardLog: ['{"level":40,"msg":"upstream reset"}'],
      }),
    );
    assert.match(md, /\*\*No verdict\.\*\* RSS 100\.0 MiB after the warm-up.* The run stopped early \(see below\); too few samples for a slope/);
    assert.match(md, /## Problems seen during the run\n\n- Switchyard exited \(SIGSEGV\); last output: \(none\)\n- Switchyard printed 1 line\(s\) at --log-level warn; first ones:\n\n```\n\{"level":40,"msg":"upstream reset"\}\n```/);
    assert.match(md, /\| 100\.0 MiB \| 100\.0 MiB \| 100\.0 MiB at 0:00 \| – \| \+0\.0% \| no verdict \|/);
  });

  it('says when nothing was pinned', () => {
    const md = renderSoakMarkdown(report({ settings: { ...report().settings, proxyCpus: null, loadCpus: null } }));
    assert.match(md, /nothing pinned \(fewer than 2 CPUs\)/);
  });
});
