import { pino, type Logger } from 'pino';

export type { Logger };

/** The data plane's root logger; components take children with their own fields. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ name: options.name ?? 'switchyard', level: options.level ?? process.env.LOG_LEVEL ?? 'info' });
}
