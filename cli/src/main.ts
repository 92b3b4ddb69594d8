/**
 * The `switchyard` command line: the composition root that wires the controller's translator
 * and file provider to the data plane. Subcommands live in ./commands.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { dataplane, parseControllerUrls, parsePeerFlags } from './commands/dataplane.ts';
import { run } from './commands/run.ts';
import { validate } from './commands/validate.ts';

const USAGE = `Usage: switchyard <command> [options]

Commands:
  run -f DIR|FILE        Run the controller and data plane from manifests; reloads when they change.
  validate -f DIR|FILE   Check manifests like 'haproxy -c': prints file: Kind/name: field: reason.
  demo                   Start three demo backends and Switchyard in front of them.
  controller --listen HOST:PORT (--token-secret NS/NAME | --token-file FILE)
                         Watch the cluster and program data planes over the control channel.
  dataplane --controller URL[,URL...] --token-file FILE --name NAME
                         Run a data plane programmed by controllers over the control channel.

Options:
  -f, --filename PATH    Manifest file or folder (repeatable for validate).
  --controller URLS      Controller channel URLs, ws://HOST:PORT, comma-separated (dataplane).
  --token-file FILE      File holding the channel's bearer token (controller, dataplane), and
                         the stick-table peers' (run with --peer-listen or --peers).
  --name NAME            This data plane's or controller replica's name, unique (dataplane,
                         controller, run; default for controller: $POD_NAME, else host-pid;
                         for run: the host name).
  --kubeconfig FILE      Cluster to watch (controller; default in-cluster, $KUBECONFIG, ~/.kube/config).
  --listen HOST:PORT     Control channel listener (controller).
  --admin-listen HOST:PORT  /healthz, /readyz, /metrics (controller; default 0.0.0.0:9180).
  --token-secret NS/NAME Secret whose key "token" data planes must present (controller).
  --namespace NS         Where the controller's Leases live (default $POD_NAMESPACE, else default).
  --lease-duration D, --renew-deadline D, --retry-period D
                         Leader election timings (controller; default 15s, 10s, 2s).
  --log-level LEVEL      trace, debug, info, warn, error (default info).
  --workers N            Proxy threads (run, dataplane): default one per CPU this process may
                         use; 1 runs everything on the main thread.
  --peer-listen HOST:PORT
                         Stick-table replication (dataplane, run): listen for the other data
                         planes' tables here (websocket, same bearer token as the channel), e.g.
                         0.0.0.0:7946. Default: no peer server. Only tables with replicate: true
                         leave the data plane.
  --peer-advertise URL   The ws:// URL others reach the peer server at (default: the listen
                         address; for 0.0.0.0, $POD_IP or the host's first address).
  --peers URLS           Peers known without a controller, ws://HOST:PORT, comma-separated,
                         repeatable (this data plane's own URL may be among them). With a
                         controller, the fleet's data planes are found through it too.
  -h, --help             Show this help.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        'log-level': { type: 'string' },
        controller: { type: 'string', multiple: true },
        'token-file': { type: 'string' },
        name: { type: 'string' },
        kubeconfig: { type: 'string' },
        listen: { type: 'string' },
        'admin-listen': { type: 'string' },
        'token-secret': { type: 'string' },
        namespace: { type: 'string' },
        'lease-duration': { type: 'string' },
        'renew-deadline': { type: 'string' },
        'retry-period': { type: 'string' },
        workers: { type: 'string' },
        'peer-listen': { type: 'string' },
        'peer-advertise': { type: 'string' },
        peers: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
  } catch (err) {
    process.stderr.write(`switchyard: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help || command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const files = values.filename ?? [];
  const logLevel = values['log-level'] ?? process.env.LOG_LEVEL ?? 'info';
  const workers = parseWorkers(values.workers);
  if (workers === null) return usageError(`--workers must be an integer from 1 to 256, not "${values.workers}"`);
  const replication = parsePeerFlags({ peerListen: values['peer-listen'], peerAdvertise: values['peer-advertise'], peers: values.peers });
  if (replication !== null && 'error' in replication) return usageError(replication.error);
  switch (command) {
    case 'run':
      if (files.length !== 1) return usageError('run needs exactly one -f DIR|FILE');
      if (replication !== null && !values['token-file']) return usageError('run with --peer-listen or --peers needs --token-file FILE (the peers\' shared token)');
      return run({ path: files[0]!, logLevel, workers, replication, tokenFile: values['token-file'], name: values.name });
    case 'validate':
      if (files.length === 0) return usageError('validate needs -f DIR|FILE');
      return validate(files, process.stdout, process.stderr);
    case 'demo': {
      // Loaded on demand: it brings node:http (about 14 MiB of RSS), which run never needs.
      const { demo } = await import('./commands/demo.ts');
      return demo({ logLevel });
    }
    case 'controller': {
      // Loaded on demand: it brings @kubernetes/client-node, which run and dataplane never need.
      const { controller } = await import('./commands/controller.ts');
      return controller({
        kubeconfig: values.kubeconfig,
        listen: values.listen,
        adminListen: values['admin-listen'],
        tokenFile: values['token-file'],
        tokenSecret: values['token-secret'],
        namespace: values.namespace,
        name: values.name,
        leaseDuration: values['lease-duration'],
        renewDeadline: values['renew-deadline'],
        retryPeriod: values['retry-period'],
        logLevel,
      });
    }
    case 'dataplane': {
      const controllers = parseControllerUrls(values.controller ?? []);
      if ('error' in controllers) return usageError(controllers.error);
      if (!values['token-file']) return usageError('dataplane needs --token-file FILE');
      if (!values.name) return usageError('dataplane needs --name NAME');
      return dataplane({ controllers: controllers.urls, tokenFile: values['token-file'], name: values.name, logLevel, workers, replication });
    }
    default:
      return usageError(`unknown command "${command}"`);
  }
}

/** --workers N, or one per CPU available to this process (affinity-aware); null when invalid. */
export function parseWorkers(value: string | undefined): number | null {
  if (value === undefined) return availableParallelism();
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : null;
}

function usageError(message: string): number {
  process.stderr.write(`switchyard: ${message}\n\n${USAGE}`);
  return 2;
}
