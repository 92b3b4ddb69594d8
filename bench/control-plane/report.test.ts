import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMarkdown, summarizeKind, type ControlPlaneReport, type Round } from './report.ts';

function round(kind: Round['kind'], index: number, lastAckMs: number, error: string | null = null, foreignLoadPct = 30): Round {
  return {
    kind,
    index,
    change: `change ${index}`,
    writeMs: 5,
    publishedMs: 300,
    firstPushMs: 200,
    lastAckMs,
    parseSumMs: 700,
    parseMaxMs: 20,
    pushesMax: index === 1 ? 2 : 1,
    version: 'abc',
    pushBytes: 2_000_000,
    translateMs: 250,
    reconciles: 1,
    controllerCpuMs: 400,
    benchCpuMs: 700,
    apiserverCpuMs: 10,
    foreignLoadPct,
    settleMs: 500,
    error,
  };
}

const rounds = [round('backend', 0, 1000, null, 5), round('backend', 1, 1200), round('backend', 2, NaN, 'timed out'), round('endpoints', 0, 800)];

describe('summarizeKind', () => {
  it('summarizes the successful rounds of one kind and counts the failed ones', () => {
    const s = summarizeKind('backend', rounds);
    assert.equal(s.rounds, 2);
    assert.equal(s.failed, 1);
    assert.equal(s.lastAck?.median, 1000);
    assert.equal(s.lastAck?.max, 1200);
    assert.equal(s.fanout?.max, 1000);
    assert.equal(s.extraPushRounds, 1);
    assert.deepEqual([s.lastAckQuiet?.n, s.lastAckQuiet?.median], [1, 1000], 'only the change with 5% of a CPU of other work');
    assert.equal(summarizeKind('endpoints', rounds).lastAckQuiet, null);
    assert.equal(summarizeKind('endpoints', rounds).lastAck?.n, 1);
  });
});

describe('renderMarkdown', () => {
  const report: ControlPlaneReport = {
    date: '2026-01-01T00:00:00.000Z',
    machine: { nproc: 2, cpuModel: 'cpu', kernel: '6.1', node: 'v24.0.0', memTotalMiB: 4096, switchyard: 'abc1234', loadStart: [1, 1, 1], loadEnd: [2, 2, 2] },
    settings: { backends: 1000, serversPerBackend: 10, frontends: 100, dataplanes: 50, roundsPerKind: 2, healthReports: true, cpuProfile: false, quick: true },
    startup: {
      populateMs: 2000,
      listeningMs: 900,
      publishedMs: 2000,
      firstPushMs: 1900,
      lastAckMs: 4321,
      pushesMax: 1,
      quietMs: 9000,
      controllerCpuMs: 5000,
      translateSumMs: 700,
      translateCount: 1,
      snapshotBytes: 2 * 1024 * 1024,
    },
    summaries: [summarizeKind('backend', rounds), summarizeKind('endpoints', rounds)],
    rounds,
    memory: [
      { label: 'after startup', rssMiB: 500, hwmMiB: 510, heapUsedMiB: 200, heapTotalMiB: 300, externalMiB: 20, afterGc: false },
      { label: 'after the changes', rssMiB: 650, hwmMiB: 700, heapUsedMiB: 250, heapTotalMiB: 350, externalMiB: 20, afterGc: false },
    ],
    bench: { cpuMs: 1000, roundsMs: 5000, rssMiB: 300 },
    components: null,
    profile: null,
    problems: ['backend #2 (change 2): timed out'],
  };
  const md = renderMarkdown(report);
  it('leads with the figures the issue asks for', () => {
    assert.match(md, /quick run/);
    assert.match(md, /all 50 data planes ACKed the first complete snapshot \| 4321 ms/);
    assert.match(md, /Backend edit -> last ACK, median \/ p99 \(2 changes\) \| 1000 \/ 1200 ms/);
    assert.match(md, /EndpointSlice scale -> last ACK, median \/ p99 \(1 changes\) \| 800 \/ 800 ms/);
    assert.match(md, /\| 500\.0 \/ 650\.0 \/ 700\.0 MiB \|/);
    assert.match(md, /Snapshot size \(push frame\) \| 2\.00 MiB/);
  });
  it('lists failures and problems', () => {
    assert.match(md, /1 change\(s\) of this kind failed/);
    assert.match(md, /- backend #2 \(change 2\): timed out/);
  });
});
