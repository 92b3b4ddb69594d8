/**
 * Runs the real translator and the real data plane in this process, from manifests given as
 * YAML text, with every listener on 127.0.0.1. Test traffic then goes over real sockets.
 * `workers` (default: SWITCHYARD_TEST_WORKERS, else 1) runs the data plane on worker threads.
 */
import { translate } from '@switchyard/controller';
import { Dataplane, createLogger } from '@switchyard/dataplane';
import { parseAllDocuments } from 'yaml';

export interface Harness {
  dataplane: Dataplane;
  /** Applies new manifests; throws with the translator's or data plane's error. */
  apply(yamlText: string): Promise<void>;
  /** The bound port of a Frontend's first bind (`namespace/name`, namespace default by default). */
  port(frontend: string): number;
  close(): Promise<void>;
}

type DataplaneOptions = ConstructorParameters<typeof Dataplane>[0];
export type HarnessOptions = Pick<DataplaneOptions, 'random' | 'workers' | 'clock' | 'workerExecArgv'>;

export async function startDataplane(yamlText: string, options: HarnessOptions = {}): Promise<Harness> {
  const workers = options.workers ?? Number(process.env.SWITCHYARD_TEST_WORKERS ?? 1);
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const dataplane = new Dataplane({ ...options, logger, workers });
  const harness: Harness = {
    dataplane,
    async apply(text: string) {
      const objects = parseAllDocuments(text).map((doc, i) => ({ object: doc.toJS(), source: `test#${i}` }));
      const { snapshot, results } = translate({ objects });
      const problems = results.flatMap((r) => r.errors.map((e) => `${r.kind}/${r.name}: ${e.path}: ${e.message}`));
      if (problems.length > 0) throw new Error(`manifests do not compile:\n${problems.join('\n')}`);
      const outcome = await dataplane.apply(snapshot);
      if (!outcome.ok) throw new Error(outcome.error);
    },
    port(frontend: string) {
      const name = frontend.includes('/') ? frontend : `default/${frontend}`;
      const port = dataplane.boundPort(`${name}#0`);
      if (port === undefined) throw new Error(`no listener for ${name}`);
      return port;
    },
    close: () => dataplane.close(),
  };
  try {
    await harness.apply(yamlText);
  } catch (err) {
    await dataplane.close(); // worker threads would keep the test process alive
    throw err;
  }
  return harness;
}
