import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ir } from '@switchyard/api';
import { HealthChecker } from './checker.ts';
import type { ProbeRunner } from './checker.ts';
import { checkResult } from './result.ts';
import type { CheckResult } from './result.ts';
import { systemClock } from '../clock.ts';
import { eventually, FakeClock, startServer, tick } from './test-support.ts';

function healthCheck(overrides: Partial<ir.HealthCheck> = {}): ir.HealthCheck {
  return {
    policy: 'default/web',
    intervalMs: 1000,
    fastIntervalMs: 100,
    downIntervalMs: 5000,
    timeoutMs: 300,
    rise: 2,
    fall: 3,
    port: null,
    probe: { kind: 'tcp', send: null, expect: null },
    ...overrides,
  };
}

const pass = (): CheckResult => checkResult('L4OK', { durationMs: 1 });
const fail = (): CheckResult => checkResult('L4CON', { info: 'Connection refused', durationMs: 1 });

/** A runner answering from a script of outcomes; records each call. */
function scripted(outcomes: boolean[]) {
  const calls: { host: string; port: number; timeoutMs: number }[] = [];
  const runProbe: ProbeRunner = async (target, _probe, timeoutMs) => {
    calls.push({ ...target, timeoutMs });
    const ok = outcomes.shift();
    if (ok === undefined) throw new Error('script exhausted');
    return ok ? pass() : fail();
  };
  return { calls, runProbe };
}

/** A runner whose probes stay in flight until released by hand. */
function manual() {
  const pending: ((r: CheckResult) => void)[] = [];
  const runProbe: ProbeRunner = () => new Promise((resolve) => pending.push(resolve));
  return { pending, runProbe };
}

/** Read through a call: an earlier assert.equal(..., null) narrows the property itself. */
function lastStatus(checker: HealthChecker): string | undefined {
  return checker.lastResult?.status;
}

/** Fires the next timer and lets the probe's promise chain settle. */
async function step(clock: FakeClock): Promise<void> {
  const delay = clock.nextDelay;
  assert.notEqual(delay, null, 'no check scheduled');
  clock.advance(delay ?? 0);
  await tick();
}

test('first check is spread by random * interval, then intervals follow the health state', async () => {
  const clock = new FakeClock();
  const transitions: boolean[] = [];
  // initial UP (health 2 of 4) -> pass, fail, fail, fail, pass, pass, fail
  const { calls, runProbe } = scripted([true, false, false, false, true, true, false]);
  const checker = new HealthChecker({
    target: { host: '10.0.0.1', port: 8080 },
    check: healthCheck(),
    clock,
    onTransition: (up) => transitions.push(up),
    runProbe,
    random: () => 0.25,
  });
  checker.start();
  assert.deepEqual(clock.delays, [250]);
  clock.advance(249);
  await tick();
  assert.equal(calls.length, 0, 'no probe before the spread delay');

  clock.advance(1);
  await tick();
  assert.equal(calls.length, 1);
  // [health after the check, delay chosen for the next one]
  const expected: [number, number][] = [
    [4, 1000], // pass: fully UP -> interval
    [3, 100], // fail: going down -> fastInterval
    [2, 100],
    [0, 5000], // third failure: DOWN -> downInterval
    [1, 100], // pass: going up -> fastInterval
    [4, 1000], // second pass: UP -> interval
    [3, 100],
  ];
  for (const [i, [health, delay]] of expected.entries()) {
    if (i > 0) await step(clock);
    assert.equal(calls.length, i + 1);
    assert.equal(checker.health, health, `health after check ${i + 1}`);
    assert.equal(clock.delays.at(-1), delay, `delay after check ${i + 1}`);
    assert.equal(clock.pending, 1, 'exactly one timer armed');
  }
  assert.deepEqual(transitions, [false, true]);
  checker.stop();
});

test('initial state UP with health = rise uses fastInterval until it settles; the first check may come at once', async () => {
  const clock = new FakeClock();
  const { calls, runProbe } = scripted([false]);
  const transitions: [boolean, string][] = [];
  const checker = new HealthChecker({
    target: { host: 'h', port: 1 },
    check: healthCheck(),
    clock,
    onTransition: (up, r) => transitions.push([up, r.status]),
    runProbe,
    random: () => 0,
  });
  assert.equal(checker.up, true);
  assert.equal(checker.health, 2);
  assert.equal(checker.currentIntervalMs, 100);
  checker.start();
  assert.deepEqual(clock.delays, [0]);
  await step(clock);
  assert.equal(calls.length, 1);
  assert.equal(checker.up, false, 'falls at the first failure');
  assert.deepEqual(transitions, [[false, 'L4CON']]);
  assert.equal(checker.lastResult?.status, 'L4CON');
  assert.equal(clock.delays.at(-1), 5000);
});

test('initiallyUp false: DOWN at health 0, rises after `rise` successes with one callback', async () => {
  const clock = new FakeClock();
  const { runProbe } = scripted([true, true, true]);
  const transitions: boolean[] = [];
  const checker = new HealthChecker({
    target: { host: 'h', port: 1 },
    check: healthCheck(),
    clock,
    onTransition: (up) => transitions.push(up),
    initiallyUp: false,
    runProbe,
    random: () => 0.5,
  });
  assert.equal(checker.up, false);
  assert.equal(checker.health, 0);
  checker.start();
  assert.deepEqual(clock.delays, [500], 'first-check spread uses interval even when DOWN');
  await step(clock);
  assert.deepEqual(transitions, []);
  await step(clock);
  assert.deepEqual(transitions, [true]);
  await step(clock);
  assert.deepEqual(transitions, [true], 'no callback without a change');
  assert.deepEqual(clock.delays, [500, 100, 1000, 1000]);
});

test('transition callbacks fire exactly once per transition over a long run', async () => {
  const clock = new FakeClock();
  const script = [false, false, true, true, true, false, false, false, false, true, false, true, true, false, true];
  const { runProbe } = scripted([...script]);
  const transitions: boolean[] = [];
  const results: string[] = [];
  const checker = new HealthChecker({
    target: { host: 'h', port: 1 },
    check: healthCheck({ rise: 2, fall: 2 }),
    clock,
    onTransition: (up) => transitions.push(up),
    onResult: (r) => results.push(r.status),
    runProbe,
    random: () => 0,
  });
  checker.start();
  for (let i = 0; i < script.length; i++) await step(clock);
  // rise=2 fall=2, start UP at 2: F->down, F, T, T->up, T, F, F->down, F, F, T, F, T, T->up, F, T
  assert.deepEqual(transitions, [false, true, false, true]);
  assert.equal(results.length, script.length);
  checker.stop();
});

test('never two probes in flight: the next check is planned only when the current one completes', async () => {
  const clock = new FakeClock();
  const { pending, runProbe } = manual();
  const checker = new HealthChecker({
    target: { host: 'h', port: 1 },
    check: healthCheck(),
    clock,
    onTransition: () => {},
    runProbe,
    random: () => 0,
  });
  checker.start();
  await step(clock);
  assert.equal(pending.length, 1);
  assert.equal(clock.pending, 0, 'no timer while a probe is in flight');
  clock.advance(60_000);
  await tick();
  assert.equal(pending.length, 1);
  pending[0](pass());
  await tick();
  assert.equal(clock.pending, 1);
  assert.equal(clock.nextDelay, 1000);
  await step(clock);
  assert.equal(pending.length, 2);
  checker.stop();
});

test('stop() cancels the timer and ignores the outcome of a probe in flight', async () => {
  const clock = new FakeClock();
  const { pending, runProbe } = manual();
  const transitions: boolean[] = [];
  const checker = new HealthChecker({
    target: { host: 'h', port: 1 },
    check: healthCheck(),
    clock,
    onTransition: (up) => transitions.push(up),
    runProbe,
    random: () => 0,
  });
  checker.start();
  await step(clock);
  assert.equal(pending.length, 1);
  checker.stop();
  assert.equal(checker.running, false);
  pending[0](fail());
  await tick();
  assert.deepEqual(transitions, []);
  assert.equal(checker.lastResult, null);
  assert.equal(checker.up, true);
  assert.equal(clock.pending, 0);
  clock.advance(60_000);
  await tick();
  assert.equal(pending.length, 1, 'no probe after stop');

  // Stopped while waiting for the timer: nothing fires.
  const idle = new HealthChecker({ target: { host: 'h', port: 1 }, check: healthCheck(), clock, onTransition: () => {}, runProbe, random: () => 0.5 });
  idle.start();
  assert.equal(clock.pending, 1);
  idle.stop();
  assert.equal(clock.pending, 0);
  clock.advance(60_000);
  await tick();
  assert.equal(pending.length, 1);
});

test('restart while a probe is in flight waits for it before probing again', async () => {
  const clock = new FakeClock();
  const { pending, runProbe } = manual();
  const checker = new HealthChecker({ target: { host: 'h', port: 1 }, check: healthCheck(), clock, onTransition: () => {}, runProbe, random: () => 0 });
  checker.start();
  await step(clock);
  checker.stop();
  checker.start();
  await step(clock);
  assert.equal(pending.length, 1, 'second probe must wait for the first');
  pending[0](fail());
  await tick();
  assert.equal(pending.length, 2);
  assert.equal(checker.lastResult, null, 'the stale outcome is not recorded');
  pending[1](pass());
  await tick();
  assert.equal(lastStatus(checker), 'L4OK');
  checker.stop();
});

test('check.port overrides the server port; timeoutMs is passed to the probe', async () => {
  const clock = new FakeClock();
  const { calls, runProbe } = scripted([true]);
  const checker = new HealthChecker({
    target: { host: '10.1.2.3', port: 8080 },
    check: healthCheck({ port: 9090, timeoutMs: 1234 }),
    clock,
    onTransition: () => {},
    runProbe,
    random: () => 0,
  });
  assert.deepEqual(checker.target, { host: '10.1.2.3', port: 9090 });
  checker.start();
  await step(clock);
  assert.deepEqual(calls, [{ host: '10.1.2.3', port: 9090, timeoutMs: 1234 }]);
  checker.stop();
});

test('a runner that rejects counts as a SOCKERR failure and the schedule goes on', async () => {
  const clock = new FakeClock();
  const transitions: [boolean, string][] = [];
  const checker = new HealthChecker({
    target: { host: 'h', port: 1 },
    check: healthCheck(),
    clock,
    onTransition: (up, r) => transitions.push([up, r.status]),
    runProbe: () => {
      throw new Error('boom');
    },
    random: () => 0,
  });
  checker.start();
  await step(clock);
  assert.deepEqual(transitions, [[false, 'SOCKERR']]);
  assert.match(checker.lastResult?.detail ?? '', /boom/);
  assert.equal(clock.pending, 1);
  checker.stop();
});

test('real clock and sockets: a killed server goes DOWN after exactly `fall` failures', async () => {
  const server = await startServer((socket) => socket.resume());
  const results: CheckResult[] = [];
  let resultsAtDown = -1;
  const checker = new HealthChecker({
    target: { host: '127.0.0.1', port: server.port },
    check: healthCheck({ intervalMs: 20, fastIntervalMs: 10, downIntervalMs: 20, timeoutMs: 500, rise: 2, fall: 3 }),
    clock: systemClock,
    onTransition: (up) => {
      if (!up && resultsAtDown < 0) resultsAtDown = results.length;
    },
    onResult: (r) => results.push(r),
  });
  try {
    checker.start();
    assert.equal(await eventually(() => checker.health === checker.maxHealth), true, 'never fully UP');
    assert.equal(checker.up, true);
    await server.close();
    const killedAt = results.length;
    assert.equal(await eventually(() => !checker.up), true, 'never went DOWN');
    const afterKill = results.slice(killedAt, resultsAtDown);
    // Possibly one success that was already under way, then exactly `fall` failures.
    const failures = afterKill.filter((r) => !r.ok);
    assert.equal(failures.length, 3, afterKill.map((r) => r.status).join(','));
    assert.deepEqual(afterKill.slice(-3).map((r) => r.status), ['L4CON', 'L4CON', 'L4CON']);
    assert.equal(checker.health, 0);
  } finally {
    checker.stop();
    await server.close().catch(() => {});
  }
});
