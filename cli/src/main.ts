/**
 * The `switchyard` command line: the composition root that wires the controller's translator
 * and file provider to the data plane. Subcommands live in ./commands.
 */
import { parseArgs } from 'node:util';
import { demo } from './commands/demo.ts';
import { run } from './commands/run.ts';
import { validate } from './commands/validate.ts';

const USAGE = `Usage: switchyard <command> [options]

Commands:
  run -f DIR|FILE        Run the controller and data plane from manifests; reloads when they change.
  validate -f DIR|FILE   Check manifests like 'haproxy -c': prints file: Kind/name: field: reason.
  demo                   Start three demo backends and Switchyard in front of them.

Options:
  -f, --filename PATH    Manifest file or folder (repeatable for validate).
  --log-level LEVEL      trace, debug, info, warn, error (default info).
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
  switch (command) {
    case 'run':
      if (files.length !== 1) return usageError('run needs exactly one -f DIR|FILE');
      return run({ path: files[0]!, logLevel });
    case 'validate':
      if (files.length === 0) return usageError('validate needs -f DIR|FILE');
      return validate(files, process.stdout, process.stderr);
    case 'demo':
      return demo({ logLevel });
    default:
      return usageError(`unknown command "${command}"`);
  }
}

function usageError(message: string): number {
  process.stderr.write(`switchyard: ${message}\n\n${USAGE}`);
  return 2;
}
