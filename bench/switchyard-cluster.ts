/**
 * Experiment (`npm run bench -- --two-workers --with-cluster`): Switchyard scaled with node:cluster
 * instead of worker threads, to choose between them by measurement (docs/architecture.md). N
 * processes, each a complete single-threaded Switchyard (`run --workers 1`: its own health checks
 * and counters, so not a design that keeps them consistent; only its data path is compared),
 * sharing the listening port through the cluster module with `--sched rr` (Node's default on
 * Linux: the primary accepts and hands each connection to a process over IPC) or `--sched none`
 * (every process accepts from the shared socket).
 *
 *   node bench/switchyard-cluster.ts -f DIR --workers 2 --sched rr|none [--log-level warn]
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { run } from '../cli/src/commands/run.ts';

const { values } = parseArgs({
  options: {
    filename: { type: 'string', short: 'f' },
    workers: { type: 'string', default: '2' },
    sched: { type: 'string', default: 'rr' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const workers = Number(values.workers);
if (values.filename === undefined || !Number.isInteger(workers) || workers < 1 || !['rr', 'none'].includes(values.sched!)) {
  console.error('usage: switchyard-cluster.ts -f DIR --workers N --sched rr|none');
  process.exit(2);
}

if (cluster.isPrimary) {
  cluster.schedulingPolicy = values.sched === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    console.error(`switchyard cluster process ${worker.process.pid} exited (${signal ?? code})`);
    process.exit(1);
  });
} else {
  process.exitCode = await run({ path: values.filename, logLevel: values['log-level']!, workers: 1 });
}
