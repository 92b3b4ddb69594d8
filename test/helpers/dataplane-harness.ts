/**
 * Runs the real translator and the real data plane in this process, from manifests given as
 * YAML text, with every listener on 127.0.0.1. Test traffic then goes over real sockets.
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

export async function startDataplane(yamlText: string, options: { random?: () => number } = {}): Promise<Harness> {
  const dataplane = new Dataplane({ logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), random: options.random });
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
  await harness.apply(yamlText);
  return harness;
}
