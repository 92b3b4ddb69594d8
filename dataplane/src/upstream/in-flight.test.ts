import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { InFlight } from './in-flight.ts';

describe('InFlight', () => {
  it('counts alone as a plain number, with a limit', () => {
    const f = new InFlight();
    assert.equal(f.tryAdd(2), true);
    assert.equal(f.tryAdd(2), true);
    assert.equal(f.tryAdd(2), false);
    assert.equal(f.value, 2);
    f.sub();
    assert.equal(f.tryAdd(0), true, '0 means no limit');
    f.add();
    assert.equal(f.value, 3);
    assert.equal(f.isShared, false);
  });

  it('shares a slot: the value is every thread’s, and what this one holds moves in and out with it', () => {
    const slots = new Int32Array(new SharedArrayBuffer(8));
    const mine = new InFlight();
    mine.add();
    mine.add();
    slots[1] = 5; // others hold 5
    mine.share(slots, 1);
    assert.equal(mine.value, 7);
    assert.equal(mine.tryAdd(7), false, 'the limit counts the other threads');
    assert.equal(mine.tryAdd(8), true);
    assert.equal(slots[1], 8);
    mine.share(null);
    assert.equal(slots[1], 5, 'leaving takes out exactly what this thread held');
    assert.equal(mine.value, 3);
  });

  it('hands a slot over between threads without changing the total', () => {
    const slots = new Int32Array(new SharedArrayBuffer(4));
    const main = new InFlight();
    const worker = new InFlight();
    main.share(slots, 0);
    worker.share(slots, 0);
    assert.equal(main.tryAdd(1), true);
    main.handOff();
    worker.adopt();
    assert.equal(slots[0], 1);
    assert.equal(worker.tryAdd(1), false);
    worker.sub();
    assert.equal(slots[0], 0);
    assert.equal(main.local + worker.local, 0);
  });

  it('never lets two threads past a limit of 1 (compare-and-swap under contention)', async () => {
    const buffer = new SharedArrayBuffer(16); // [count, inside, overruns, started]
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const { InFlight } = await import(workerData.module);
        const cells = new Int32Array(workerData.buffer);
        const f = new InFlight();
        f.share(cells, 0);
        Atomics.add(cells, 3, 1);
        while (Atomics.load(cells, 3) < 2) {} // start together
        let granted = 0;
        // Past 200,000 tries, go on until this thread got the slot once: the other one may have
        // been descheduled while holding it for all of this thread's tries (seen on a loaded CI).
        for (let i = 0; i < 200000 || (granted === 0 && i < 50_000_000); i++) {
          if (!f.tryAdd(1)) continue;
          granted++;
          if (Atomics.add(cells, 1, 1) !== 0) Atomics.add(cells, 2, 1);
          Atomics.sub(cells, 1, 1);
          f.sub();
        }
        parentPort.postMessage(granted);
      })();
    `;
    const module = new URL('./in-flight.ts', import.meta.url).href;
    const granted = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<number>((resolve, reject) => {
            const w = new Worker(code, { eval: true, workerData: { buffer, module } });
            w.once('message', resolve);
            w.once('error', reject);
          }),
      ),
    );
    const cells = new Int32Array(buffer);
    assert.equal(cells[2], 0, 'two threads held the only slot at once');
    assert.equal(cells[0], 0);
    assert.ok(granted[0]! > 0 && granted[1]! > 0, `both threads got the slot at times (${granted})`);
  });
});
