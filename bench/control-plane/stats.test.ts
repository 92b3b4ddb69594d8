import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distribution, inclusiveTimes, metricSum, parsePrometheus, percentile, profileArea, statusFieldKiB, summarizeProfile, type CpuProfile } from './stats.ts';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  it('picks measured values', () => {
    assert.equal(percentile(hundred, 50), 50);
    assert.equal(percentile(hundred, 90), 90);
    assert.equal(percentile(hundred, 99), 99);
    assert.equal(percentile(hundred, 100), 100);
  });
  it('is the maximum for p99 of fewer than 100 values, the lower middle for an even median', () => {
    const thirty = Array.from({ length: 30 }, (_, i) => i + 1);
    assert.equal(percentile(thirty, 99), 30);
    assert.equal(percentile(thirty, 50), 15);
    assert.equal(percentile([7], 1), 7);
  });
  it('refuses no values and out-of-range p', () => {
    assert.throws(() => percentile([], 50), RangeError);
    assert.throws(() => percentile([1], 0), RangeError);
    assert.throws(() => percentile([1], 101), RangeError);
  });
});

describe('distribution', () => {
  it('sorts a copy and summarizes it', () => {
    const values = [5, 1, 4, 2, 3];
    assert.deepEqual(distribution(values), { n: 5, min: 1, median: 3, p90: 5, p99: 5, max: 5, mean: 3 });
    assert.deepEqual(values, [5, 1, 4, 2, 3]);
  });
  it('is null for no values', () => assert.equal(distribution([]), null));
});

describe('parsePrometheus and metricSum', () => {
  const text = [
    '# HELP switchyard_controller_translate_duration_seconds Time spent translating.',
    '# TYPE switchyard_controller_translate_duration_seconds histogram',
    'switchyard_controller_translate_duration_seconds_bucket{le="0.1"} 3',
    'switchyard_controller_translate_duration_seconds_sum 0.125',
    'switchyard_controller_translate_duration_seconds_count 4',
    'switchyard_controller_reconciles_total{result="published"} 3',
    'switchyard_controller_reconciles_total{result="unchanged"} 1',
    'odd_label{reason="a b} c"} 2 1700000000000',
    'not a sample',
  ].join('\n');
  const samples = parsePrometheus(text);
  it('reads plain and labelled samples, with spaces in label values and timestamps', () => {
    assert.equal(samples.get('switchyard_controller_translate_duration_seconds_sum'), 0.125);
    assert.equal(samples.get('switchyard_controller_translate_duration_seconds_bucket{le="0.1"}'), 3);
    assert.equal(samples.get('odd_label{reason="a b} c"}'), 2);
    assert.equal(samples.size, 6);
  });
  it('sums the series of a name that carry the labels asked for', () => {
    assert.equal(metricSum(samples, 'switchyard_controller_reconciles_total'), 4);
    assert.equal(metricSum(samples, 'switchyard_controller_reconciles_total', { result: 'published' }), 3);
    assert.equal(metricSum(samples, 'switchyard_controller_translate_duration_seconds_count'), 4);
    assert.equal(metricSum(samples, 'missing_total'), 0);
  });
});

describe('statusFieldKiB', () => {
  it('reads kB fields of /proc/PID/status', () => {
    const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  125432 kB\n';
    assert.equal(statusFieldKiB(status, 'VmRSS'), 125432);
    assert.equal(statusFieldKiB(status, 'VmHWM'), 204800);
    assert.equal(statusFieldKiB(status, 'VmSwap'), null);
  });
});

describe('summarizeProfile', () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 10_000,
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4, 5] },
      { id: 2, callFrame: frame('(idle)', '') },
      { id: 3, callFrame: frame('canonicalJson', 'file:///repo/controller/src/channel/snapshot-cache.ts', 109) },
      { id: 4, callFrame: frame('parse', 'file:///repo/node_modules/zod/v4/core/parse.js', 9) },
      { id: 5, callFrame: frame('(garbage collector)', '') },
    ],
    // Each sample lasts until the next one: 1 ms, 3 ms, 2 ms, 4 ms; the last has no successor.
    samples: [2, 3, 4, 5, 3],
    timeDeltas: [0, 1000, 3000, 2000, 4000],
  };
  it('attributes the time until the next sample, leaves idle out of the shares', () => {
    const s = summarizeProfile(profile);
    assert.equal(s.idleMs, 1);
    assert.equal(s.busyMs, 9);
    assert.deepEqual(
      s.functions.map((f) => [f.name, f.selfMs]),
      [
        ['(garbage collector)', 4],
        ['canonicalJson (controller/src/channel/snapshot-cache.ts:110)', 3],
        ['parse (zod/v4/core/parse.js:10)', 2],
      ],
    );
    assert.deepEqual(
      s.areas.map((a) => a.name),
      ['(garbage collector)', 'controller/src/channel', 'zod'],
    );
    assert.ok(Math.abs(s.areas[0]!.share - 4 / 9) < 1e-9);
  });
  it('counts only the samples within a window', () => {
    // Samples at 0, 1000, 4000, 6000, 10000 µs.
    const s = summarizeProfile(profile, 15, { fromUs: 1000, toUs: 4000 });
    assert.equal(s.idleMs, 0);
    assert.deepEqual(
      s.functions.map((f) => [f.name, f.selfMs]),
      [
        ['canonicalJson (controller/src/channel/snapshot-cache.ts:110)', 3],
        ['parse (zod/v4/core/parse.js:10)', 2],
      ],
    );
  });
  it('groups files by area', () => {
    assert.equal(profileArea('node:internal/streams/readable', 'x'), 'node internals');
    assert.equal(profileArea('file:///r/node_modules/@kubernetes/client-node/dist/x.js', 'f'), '@kubernetes/client-node');
    assert.equal(profileArea('file:///r/api/src/protocol/messages.ts', 'f'), 'api/src/protocol');
    assert.equal(profileArea('', 'JSON.parse'), '(native)');
  });
});

describe('inclusiveTimes', () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
  const ds = 'file:///repo/dataplane/src/proxy/http-session.ts';
  // root -> onData -> parse -> (native) write; onData -> onData (recursion) -> parse.
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 10_000,
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 6] },
      { id: 2, callFrame: frame('onData', ds, 10), children: [3, 5] },
      { id: 3, callFrame: frame('parse', ds, 20), children: [4] },
      { id: 4, callFrame: frame('writeLatin1String', '') },
      { id: 5, callFrame: frame('onData', ds, 10), children: [7] },
      { id: 6, callFrame: frame('(idle)', '') },
      { id: 7, callFrame: frame('parse', ds, 20) },
    ],
    // 1 ms in write under parse, 2 ms in parse under the recursive onData, 4 ms idle, 3 ms in parse,
    // 0.5 ms in the recursive onData itself; the last sample has no successor.
    samples: [4, 7, 6, 3, 5, 3],
    timeDeltas: [0, 1000, 2000, 4000, 3000, 500],
  };
  it('charges a sample to every function on its stack, once, and leaves idle out', () => {
    const all = inclusiveTimes(profile, (url) => url.includes('/dataplane/'));
    assert.deepEqual(
      all.map((e) => [e.name, e.totalMs]),
      [
        ['onData (dataplane/src/proxy/http-session.ts:11)', 6.5],
        ['parse (dataplane/src/proxy/http-session.ts:21)', 6],
      ],
    );
    assert.equal(all[0]!.share, 1);
    assert.equal(all[1]!.share, 6 / 6.5);
  });
  it('can take every frame, and a window', () => {
    const all = inclusiveTimes(profile, () => true, 30, { fromUs: 0, toUs: 1000 });
    assert.deepEqual(Object.fromEntries(all.map((e) => [e.name, e.totalMs])), {
      '(root)': 3,
      'onData (dataplane/src/proxy/http-session.ts:11)': 3,
      'parse (dataplane/src/proxy/http-session.ts:21)': 3,
      writeLatin1String: 1,
    });
    assert.equal(all.at(-1)!.name, 'writeLatin1String');
  });
});
