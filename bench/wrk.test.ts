import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { errorCount, parseBytes, parseTimeMs, parseWrk, wrkArgs } from './wrk.ts';

// Real outputs of wrk 4.1.0 (Debian) captured on the benchmark machine.
const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', 'wrk', name), 'utf8');
const MiB = 1024 * 1024;

describe('parseTimeMs', () => {
  it('reads every wrk time unit', () => {
    assert.equal(parseTimeMs('513.00us'), 0.513);
    assert.equal(parseTimeMs('1.12ms'), 1.12);
    assert.equal(parseTimeMs('1.47s'), 1470);
    assert.equal(parseTimeMs('1.50m'), 90_000);
    assert.equal(parseTimeMs('1.00h'), 3_600_000);
    assert.equal(parseTimeMs(' 0.00us '), 0);
  });
  it('rejects what is not a time', () => {
    assert.throws(() => parseTimeMs('12'), /not a wrk time/);
    assert.throws(() => parseTimeMs('-nan%'), /not a wrk time/);
  });
});

describe('parseBytes', () => {
  it('reads powers of 1024', () => {
    assert.equal(parseBytes('0.00B'), 0);
    assert.equal(parseBytes('7.39KB'), 7.39 * 1024);
    assert.equal(parseBytes('848.02MB'), 848.02 * MiB);
    assert.equal(parseBytes('1.74GB'), 1.74 * 1024 * MiB);
  });
  it('rejects what is not a byte count', () => {
    assert.throws(() => parseBytes('12 MB'), /not a wrk byte count/);
  });
});

describe('parseWrk', () => {
  it('parses a keep-alive run with latencies in microseconds', () => {
    const r = parseWrk(fixture('keepalive-50.txt'));
    assert.equal(r.requests, 139638);
    assert.equal(r.durationSeconds, 2);
    assert.equal(r.bytesRead, 19.84 * MiB);
    assert.equal(r.requestsPerSecond, 69652.5);
    assert.equal(r.transferBytesPerSecond, 9.9 * MiB);
    assert.deepEqual(r.latency, { avgMs: 0.52903, stdevMs: 0.2309, maxMs: 5.52, p50Ms: 0.513, p75Ms: 0.559, p90Ms: 0.603, p99Ms: 1.12 });
    assert.deepEqual(r.socketErrors, { connect: 0, read: 0, write: 0, timeout: 0 });
    assert.equal(r.non2xx3xx, 0);
    assert.equal(errorCount(r), 0);
  });

  it('parses a Connection: close run with latencies in milliseconds', () => {
    const r = parseWrk(fixture('connection-close.txt'));
    assert.equal(r.requests, 22085);
    assert.equal(r.durationSeconds, 2.03);
    assert.equal(r.requestsPerSecond, 10896);
    assert.equal(r.latency.p50Ms, 2.36);
    assert.equal(r.latency.p99Ms, 31.73);
    assert.equal(r.transferBytesPerSecond, 1.5 * MiB);
  });

  it('parses a 1 MiB run with gigabytes read', () => {
    const r = parseWrk(fixture('large-1mib.txt'));
    assert.equal(r.requests, 1782);
    assert.equal(r.bytesRead, 1.74 * 1024 * MiB);
    assert.equal(r.requestsPerSecond, 847.82);
    assert.equal(r.transferBytesPerSecond / MiB, 848.02);
    assert.equal(r.latency.p99Ms, 46.58);
  });

  it('parses latencies in seconds and kilobytes read', () => {
    const r = parseWrk(fixture('seconds.txt'));
    assert.equal(r.requests, 61);
    assert.equal(r.durationSeconds, 5.13);
    assert.equal(r.bytesRead, 7.39 * 1024);
    assert.equal(r.latency.avgMs, 1490);
    assert.equal(r.latency.stdevMs, 227.37);
    assert.equal(r.latency.p50Ms, 1470);
    assert.equal(r.latency.p99Ms, 1870);
    assert.equal(r.transferBytesPerSecond, 1.44 * 1024);
  });

  it('parses a single-connection run', () => {
    const r = parseWrk(fixture('one-connection.txt'));
    assert.equal(r.requestsPerSecond, 47532.62);
    assert.equal(r.latency.p50Ms, 0.018);
    assert.equal(r.latency.p99Ms, 1.45);
  });

  it('counts non-2xx/3xx responses as errors', () => {
    const r = parseWrk(fixture('non-2xx.txt'));
    assert.equal(r.non2xx3xx, 124434);
    assert.equal(r.requests, 124434);
    assert.equal(errorCount(r), 124434);
  });

  it('counts socket errors, with all-zero latencies when nothing completed', () => {
    const r = parseWrk(fixture('socket-errors.txt'));
    assert.deepEqual(r.socketErrors, { connect: 0, read: 30027, write: 0, timeout: 0 });
    assert.equal(r.requests, 0);
    assert.equal(r.requestsPerSecond, 0);
    assert.equal(r.transferBytesPerSecond, 0);
    assert.equal(r.latency.p99Ms, 0);
    assert.equal(errorCount(r), 30027);
  });

  it('throws on a run that could not start', () => {
    assert.throws(() => parseWrk(fixture('refused.txt')), /no "requests in" line/);
    assert.throws(() => parseWrk(''), /no "requests in" line/);
  });
});

describe('wrkArgs', () => {
  it('builds the same command line shape for every contender', () => {
    assert.deepEqual(wrkArgs({ url: 'http://127.0.0.1:1/', connections: 50, durationSeconds: 10, threads: 1 }), [
      '-t', '1', '-c', '50', '-d', '10s', '--latency', 'http://127.0.0.1:1/',
    ]);
    assert.deepEqual(
      wrkArgs({ url: 'http://127.0.0.1:1/', connections: 50, durationSeconds: 2, threads: 1, timeoutSeconds: 5, headers: ['Connection: close'] }),
      ['-t', '1', '-c', '50', '-d', '2s', '--latency', '--timeout', '5s', '-H', 'Connection: close', 'http://127.0.0.1:1/'],
    );
  });
});
