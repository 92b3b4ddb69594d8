/**
 * Test only: preloaded into the worker threads (`workerExecArgv: ['--import', URL]`) with
 * SWITCHYARD_TEST_STICK_PROBE=`table name` in the environment. Each worker I, once the table
 * exists, counts I+1 requests on 10.0.0.1, and whenever its view of that key's total changes it
 * stores the total as the server id of 10.9.0.I. The requests travel to the other threads as any
 * write would; the server ids tell the main thread (and peers) what each worker sees.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { StickTables } from '../stick/replication.ts';

const name = process.env.SWITCHYARD_TEST_STICK_PROBE;
if (!isMainThread && name) {
  const index = (workerData as { index: number }).index;
  let written = false;
  let reported = -1;
  const report = (tables: StickTables): void => {
    const table = tables.get(name);
    if (table === undefined) return;
    const total = table.lookup('10.0.0.1')?.read('http_req_cnt') ?? 0;
    if (total === reported) return;
    reported = total;
    table.track(`10.9.0.${index}`)!.setServerId(total);
  };
  const commit = StickTables.prototype.commit;
  StickTables.prototype.commit = function (this: StickTables, staged) {
    commit.call(this, staged);
    const table = this.get(name);
    if (table !== undefined && !written) {
      written = true;
      const entry = table.track('10.0.0.1')!;
      for (let i = 0; i <= index; i++) entry.httpRequest();
    }
    report(this);
  };
  const merge = StickTables.prototype.merge;
  StickTables.prototype.merge = function (this: StickTables, update) {
    const stored = merge.call(this, update);
    report(this);
    return stored;
  };
}
