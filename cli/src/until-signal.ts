import type { Logger } from '@switchyard/dataplane';

/** Resolves at the first SIGINT or SIGTERM, logging which: how every long-running command ends. */
export function untilSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
