import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../clock.ts';
import { formatMicroTime, isMicroTime } from '../kube-time.ts';
import { ManualClock, settle } from '../testing/manual-clock.ts';
import { LeaderElectionConfigError, LeaderElector, type LeaderElectorOptions } from './leader-elector.ts';
import type { LeaderRecord } from './lease-lock.ts';
import { MemoryLeaseLock } from './memory-lease-lock.ts';
import { deferred, FAKE_EPOCH } from './test-support.ts';

// Default timings throughout: lease 15 s, renew deadline 10 s, retry 2 s; jitter 0 unless a test says.

interface Candidate {
  elector: LeaderElector;
  /** onNewLeader / started / stopped, in order. */
  events: string[];
  /** The signal of every term, in order. */
  terms: AbortSignal[];
  stop(): Promise<void>;
}

function candidate(
  lock: MemoryLeaseLock,
  clock: Clock,
  identity: string,
  options: Partial<LeaderElectorOptions> = {},
): Candidate {
  const events: string[] = [];
  const terms: AbortSignal[] = [];
  const elector = new LeaderElector({
    lock,
    identity,
    clock,
    random: () => 0,
    onStartedLeading: (signal) => {
      terms.push(signal);
      events.push('started');
    },
    onStoppedLeading: () => events.push('stopped'),
    onNewLeader: (leader) => events.push(`leader:${leader}`),
    ...options,
  });
  const controller = new AbortController();
  const done = elector.run(controller.signal);
  return {
    elector,
    events,
    terms,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

function heldBy(holder: string, stamp: number, transitions = 0): LeaderRecord {
  return {
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    acquireTime: formatMicroTime(stamp),
    renewTime: formatMicroTime(stamp),
    leaseTransitions: transitions,
  };
}

test('MicroTime has exactly six fractional digits', () => {
  assert.equal(formatMicroTime(FAKE_EPOCH), '2026-11-21T10:00:00.000000Z');
  assert.equal(formatMicroTime(FAKE_EPOCH + 1.5), '2026-11-21T10:00:00.001500Z');
  assert.ok(isMicroTime(formatMicroTime(Date.now())));
  assert.ok(!isMicroTime(new Date(FAKE_EPOCH).toISOString()));
});

test('a single candidate creates the lease, leads, and renews keeping acquireTime', async () => {
  const clock = new ManualClock(FAKE_EPOCH);
  const lock = new MemoryLeaseLock();
  const a = candidate(lock, clock, 'a');
  await settle();

  assert.equal(a.elector.isLeader, true);
  assert.equal(a.elector.leader, 'a');
  assert.deepEqual(a.events, ['leader:a', 'started']);
  assert.deepEqual(lock.record, {
    holderIdentity: 'a',
    leaseDurationSeconds: 15,
    acquireTime: '2026-11-21T10:00:00.000000Z',
    renewTime: '2026-11-21T10:00:00.000000Z',
    leaseTransitions: 0,
  });
  assert.deepEqual(
    lock.calls.map((c) => `${c.op}:${c.outcome}`),
    ['get:ok', 'create:ok'],
  );

  await clock.advance(2000);
  assert.equal(lock.record?.renewTime, '2026-11-21T10:00:02.000000Z');
  assert.equal(lock.record?.acquireTime, '2026-11-21T10:00:00.000000Z');
  // The renewal is the optimistic update, without a read first.
  assert.deepEqual(lock.calls.slice(2).map((c) => `${c.op}:${c.outcome}`), ['update:ok']);

  await clock.advance(60_000);
  assert.equal(a.elector.isLeader, true);
  assert.equal(a.terms[0].aborted, false);

  await a.stop();
  assert.equal(a.elector.isLeader, false);
  assert.equal(a.terms[0].aborted, true);
  assert.deepEqual(a.events, ['leader:a', 'started', 'stopped']);
  assert.equal(lock.record?.holderIdentity, 'a', 'without releaseOnCancel the lease is left to expire');
});

test('a second candidate takes over only once the lease expired on its own clock, whatever renewTime says', async () => {
  const clock = new ManualClock(FAKE_EPOCH);
  const lock = new MemoryLeaseLock();
  const a = candidate(lock, clock, 'a');
  await settle();
  // b's wall clock is an hour ahead: judged by renewTime, a's lease would look long expired.
  const b = candidate(lock, clock.skewed(3_600_000), 'b');
  await settle();
  assert.equal(b.elector.isLeader, false);
  assert.equal(b.elector.leader, 'a');
  assert.deepEqual(b.events, ['leader:a']);

  // While a renews, b never takes over.
  await clock.advance(120_000);
  assert.equal(a.elector.isLeader, true);
  assert.equal(b.elector.isLeader, false);
  assert.ok(!lock.calls.some((c) => c.holder === 'b'), 'b never wrote the lease');

  // a dies without releasing. Its last renewal was at +120 s; b sees that record at its next poll.
  await a.stop();
  const lastRenewal = clock.now();
  assert.equal(lock.record?.renewTime, formatMicroTime(lastRenewal));
  await clock.advanceTo(lastRenewal + 15_000 - 1);
  assert.equal(b.elector.isLeader, false, 'no takeover before leaseDuration has passed since b saw the last change');

  await clock.advance(2 * 2000 + 1);
  assert.equal(b.elector.isLeader, true);
  assert.deepEqual(b.events, ['leader:a', 'leader:b', 'started']);
  const record = lock.record;
  assert.equal(record?.holderIdentity, 'b');
  assert.equal(record?.leaseTransitions, 1);
  // acquireTime is b's own stamp (its clock, an hour ahead), taken when it took over.
  const acquiredAt = Date.parse(record?.acquireTime ?? '') - 3_600_000;
  assert.ok(acquiredAt >= lastRenewal + 15_000 && acquiredAt <= clock.now(), record?.acquireTime);
  await b.stop();
});

test('renewals failing past the renew deadline end the term, and the candidate campaigns again', async () => {
  const clock = new ManualClock(FAKE_EPOCH);
  const lock = new MemoryLeaseLock();
  const a = candidate(lock, clock, 'a');
  await settle();
  const acquiredAt = clock.now();
  assert.equal(a.elector.isLeader, true);

  lock.interceptor = () => {
    throw new Error('connection refused');
  };
  await clock.advanceTo(acquiredAt + 10_000 - 1);
  assert.equal(a.elector.isLeader, true, 'still leader inside the renew deadline');
  assert.equal(a.terms[0].aborted, false);
  assert.ok(lock.calls.filter((c) => c.outcome === 'error').length >= 3, 'renewal was retried');

  await clock.advance(1);
  assert.equal(a.elector.isLeader, false);
  assert.equal(a.terms[0].aborted, true);
  assert.deepEqual(a.events, ['leader:a', 'started', 'stopped']);

  // The API comes back before anyone else took the lease: a picks its own lease up again.
  lock.interceptor = null;
  await clock.advance(2000);
  assert.equal(a.elector.isLeader, true);
  assert.deepEqual(a.events, ['leader:a', 'started', 'stopped', 'started']);
  assert.equal(a.terms.length, 2);
  assert.equal(a.terms[1].aborted, false);
  assert.equal(lock.record?.leaseTransitions, 0, 'same holder: not a transition');
  await a.stop();
});

test('a renewal that hangs is aborted at the renew deadline', async () => {
  const clock = new ManualClock(FAKE_EPOCH);
  const lock = new MemoryLeaseLock();
  const a = candidate(lock, clock, 'a');
  await settle();
  const acquiredAt = clock.now();

  lock.interceptor = () => new Promise<void>(() => {}); // never answers
  await clock.advanceTo(acquiredAt + 10_000 - 1);
  assert.equal(a.elector.isLeader, true);
  await clock.advance(1);
  assert.equal(a.elector.isLeader, false);
  assert.equal(a.terms[0].aborted, true);
  assert.deepEqual(a.events, ['leader:a', 'started', 'stopped']);
  lock.interceptor = null;
  await a.stop();
});

test('release on cancel empties the holder, waits for the term work, and the other candidate takes over at once', async () => {
  const clock = new ManualClock(FAKE_EPOCH);
  const lock = new MemoryLeaseLock();
  const order: string[] = [];
  const a = candidate(lock, clock, 'a', {
    releaseOnCancel: true,
    onStartedLeading: async (signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      await settle();
      order.push('work finished');
    },
  });
  await settle();
  const b = candidate(lock, clock, 'b');
  await clock.advance(30_000);
  assert.equal(a.elector.isLeader, true);
  assert.equal(b.elector.isLeader, false);

  lock.interceptor = (op, record) => {
    if (op === 'update' && record?.holderIdentity === '') order.push('release');
  };
  await a.stop();
  lock.interceptor = null;
  assert.deepEqual(order, ['work finished', 'release']);
  assert.deepEqual(lock.record && { ...lock.record, acquireTime: '', renewTime: '' }, {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: '',
    renewTime: '',
    leaseTransitions: 0,
  });
  assert.equal(a.elector.leader, null);

  const releasedAt = clock.now();
  await clock.advance(2000);
  assert.equal(b.elector.isLeader, true, 'b took over at its next retry, not after the 15 s lease');
  assert.ok(clock.now() - releasedAt <= 2000);
  assert.equal(lock.record?.holderIdentity, 'b');
  assert.equal(lock.record?.leaseTransitions, 1);
  await b.stop();
});

test('invalid timings are rejected with a message naming the option', () => {
  const lock = new MemoryLeaseLock();
  const base = { lock, identity: 'a', onStartedLeading: () => {} };
  const cases: Array<[Partial<LeaderElectorOptions>, RegExp]> = [
    [{ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, /^leaseDurationMs \(10000\) must be greater than renewDeadlineMs \(10000\)$/],
    [{ leaseDurationMs: 5000 }, /^leaseDurationMs \(5000\) must be greater than renewDeadlineMs \(10000\)$/],
    [{ renewDeadlineMs: 2400, retryPeriodMs: 2000 }, /^renewDeadlineMs \(2400\) must be greater than retryPeriodMs × 1\.2 \(2000 × 1\.2 = 2400\)$/],
    [{ retryPeriodMs: 0 }, /^retryPeriodMs must be a number greater than zero \(got 0\)$/],
    [{ leaseDurationMs: -1 }, /^leaseDurationMs must be a number greater than zero \(got -1\)$/],
    [{ renewDeadlineMs: Number.NaN }, /^renewDeadlineMs must be a number greater than zero \(got NaN\)$/],
    [{ identity: '' }, /^identity must be a non-empty string$/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new LeaderElector({ ...base, ...options }),
      (err: unknown) => err instanceof LeaderElectionConfigError && err.code === 'SWY_ERR_LEADER_ELECTION_CONFIG' && message.test(err.message),
      `expected ${message} for ${JSON.stringify(options)}`,
    );
  }
  // Just inside the bounds is fine.
  const ok = new LeaderElector({ ...base, leaseDurationMs: 2402, renewDeadlineMs: 2401, retryPeriodMs: 2000 });
  assert.equal(ok.leaseDurationSeconds, 3, 'whole seconds, rounded up');
});

test('two candidates creating the lease at once: one wins, the other follows it', async () => {
  const clock = new ManualClock(FAKE_EPOCH);
  const lock = new MemoryLeaseLock();
  const gate = deferred();
  let arrived = 0;
  lock.interceptor = async (op) => {
    if (op !== 'create') return;
    arrived++;
    await gate.promise;
  };
  const a = candidate(lock, clock, 'a');
  const b = candidate(lock, clock, 'b');
  await settle();
  assert.equal(arrived, 2, 'both read "no lease" and tried to create it');
  gate.resolve();
  await settle();
  lock.interceptor = null;

  const creates = lock.calls.filter((c) => c.op === 'create').map((c) => c.outcome);
  assert.deepEqual(creates.sort(), ['conflict', 'ok']);
  const [winner, loser] = a.elector.isLeader ? [a, b] : [b, a];
  assert.equal(winner.elector.isLeader, true);
  assert.equal(loser.elector.isLeader, false);

  await clock.advance(2000);
  assert.equal(loser.elector.leader, winner.elector.identity);
  await clock.advance(60_000);
  assert.equal(winner.elector.isLeader, true);
  assert.equal(loser.elector.isLeader, false);
  await a.stop();
  await b.stop();
});

test('two candidates taking over an expired lease with the same resourceVersion: one transition, one leader', async () => {
  const clock = new ManualClock(FAKE_EPOCH);
  const lock = new MemoryLeaseLock();
  lock.put(heldBy('gone', FAKE_EPOCH - 3_600_000, 4));
  const a = candidate(lock, clock, 'a');
  const b = candidate(lock, clock, 'b');
  await settle();
  assert.equal(a.elector.leader, 'gone');
  assert.equal(b.elector.leader, 'gone');

  const gate = deferred();
  let arrived = 0;
  lock.interceptor = async (op) => {
    if (op !== 'update') return;
    arrived++;
    await gate.promise;
  };
  await clock.advance(16_000);
  assert.equal(arrived, 2, 'both saw the lease expire and tried to take it');
  gate.resolve();
  await settle();
  lock.interceptor = null;

  assert.equal(Number(a.elector.isLeader) + Number(b.elector.isLeader), 1);
  const updates = lock.calls.filter((c) => c.op === 'update').map((c) => c.outcome);
  assert.deepEqual(updates.sort(), ['conflict', 'ok']);
  assert.equal(lock.record?.leaseTransitions, 5);
  const winner = a.elector.isLeader ? 'a' : 'b';
  await clock.advance(2000);
  assert.equal(a.elector.leader, winner);
  assert.equal(b.elector.leader, winner);
  await a.stop();
  await b.stop();
});

test('a leader whose optimistic update conflicts re-reads: it renews if still the holder, steps down at once if not', async () => {
  const clock = new ManualClock(FAKE_EPOCH);
  const lock = new MemoryLeaseLock();
  const a = candidate(lock, clock, 'a');
  await settle();

  // Someone touched the object (a new resourceVersion, same record): a renews through a read.
  const current = lock.record;
  assert.ok(current);
  lock.put(current);
  const before = lock.calls.length;
  await clock.advance(2000);
  assert.deepEqual(
    lock.calls.slice(before).map((c) => `${c.op}:${c.outcome}`),
    ['update:conflict', 'get:ok', 'update:ok'],
  );
  assert.equal(a.elector.isLeader, true);

  // Another identity now holds a live lease: a does not wait for its renew deadline.
  lock.put(heldBy('intruder', clock.now(), 1));
  await clock.advance(2000);
  assert.equal(a.elector.isLeader, false);
  assert.equal(a.terms[0].aborted, true);
  assert.equal(a.elector.leader, 'intruder');
  assert.deepEqual(a.events, ['leader:a', 'started', 'leader:intruder', 'stopped']);
  assert.equal(lock.record?.holderIdentity, 'intruder');
  await a.stop();
});

test('run() cannot be started twice, and a cancelled candidate that never led does not release or stop', async () => {
  const clock = new ManualClock(FAKE_EPOCH);
  const lock = new MemoryLeaseLock();
  lock.put(heldBy('other', FAKE_EPOCH));
  const b = candidate(lock, clock, 'b', { releaseOnCancel: true });
  await settle();
  await assert.rejects(b.elector.run(new AbortController().signal), /already running/);
  await b.stop();
  assert.deepEqual(b.events, ['leader:other']);
  assert.equal(lock.record?.holderIdentity, 'other');
  assert.ok(!lock.calls.some((c) => c.op === 'update'));
});
