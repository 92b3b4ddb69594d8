import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clockTicks, foreignCpuSeconds, parseStat, parseVmRssKiB, treeCpuSeconds, treeRssKiB } from './procfs.ts';

describe('parseStat', () => {
  it('reads pid, ppid and the CPU fields, whatever the command name holds', () => {
    const line = '4242 (nginx: worker (x) 1) S 4240 4240 4240 0 -1 4194624 1391 0 0 0 173 28 5 7 20 0 1 0 46112 15622144 1909 18446744073709551615';
    assert.deepEqual(parseStat(line), { pid: 4242, ppid: 4240, utime: 173, stime: 28, cutime: 5, cstime: 7 });
  });
  it('reads this process', async () => {
    const { readFileSync } = await import('node:fs');
    const s = parseStat(readFileSync('/proc/self/stat', 'utf8'));
    assert.ok(s.pid > 0 && s.ppid >= 0);
  });
});

describe('parseVmRssKiB', () => {
  it('reads VmRSS, or null for a zombie', () => {
    assert.equal(parseVmRssKiB('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t  125432 kB\nRssAnon:\t 1 kB\n'), 125432);
    assert.equal(parseVmRssKiB('Name:\tnode\nState:\tZ (zombie)\n'), null);
  });
});

describe('foreignCpuSeconds', () => {
  const t = clockTicks();
  it('adds what live processes used and counts new ones fully', () => {
    const before = new Map([[10, 100], [11, 50]]);
    const after = new Map([[10, 100 + t], [11, 50], [12, t / 2]]);
    assert.equal(foreignCpuSeconds(before, after), 1.5);
  });
  it('does not count again what a reaped child had used before the first reading', () => {
    // 20 had used 30 s before; it used 1 s more, exited, and its parent 10 reaped it (cutime += 31 s).
    const before = new Map([[10, t], [20, 30 * t]]);
    const after = new Map([[10, t + 31 * t]]);
    assert.equal(foreignCpuSeconds(before, after), 1);
  });
  it('is never negative', () => {
    assert.equal(foreignCpuSeconds(new Map([[20, 5 * t]]), new Map()), 0);
  });
});

describe('tree readings', () => {
  it('reads this process CPU and RSS', () => {
    assert.ok(treeCpuSeconds(process.pid) > 0);
    assert.ok(treeRssKiB(process.pid) > 1000);
  });
});
