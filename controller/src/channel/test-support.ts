/**
 * Test support for the channel (used only by the *.test.ts files here): a recording transport, a
 * silent logger and small snapshots. The clock driven by hand is `testing/manual-clock.ts`.
 */
import type { StreamTransport } from './stream.ts';

export type TransportEvent =
  | { kind: 'send'; message: Record<string, unknown> }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'ping' }
  | { kind: 'terminate' };

/** A StreamTransport that records what the stream did. */
export class RecordingTransport implements StreamTransport {
  readonly events: TransportEvent[] = [];

  send(message: string | readonly Buffer[]): void {
    const text = typeof message === 'string' ? message : Buffer.concat(message).toString('utf8');
    this.events.push({ kind: 'send', message: JSON.parse(text) as Record<string, unknown> });
  }

  close(code: number, reason: string): void {
    this.events.push({ kind: 'close', code, reason });
  }

  ping(): void {
    this.events.push({ kind: 'ping' });
  }

  terminate(): void {
    this.events.push({ kind: 'terminate' });
  }

  /** Messages sent, optionally of one type. */
  sent(type?: string): Record<string, unknown>[] {
    return this.events.flatMap((e) => (e.kind === 'send' && (type === undefined || e.message.type === type) ? [e.message] : []));
  }

  /** The last push sent. */
  lastPush(): { version: string; nonce: string; snapshot: unknown } {
    const pushes = this.sent('push');
    if (pushes.length === 0) throw new Error('no push sent');
    return pushes.at(-1) as { version: string; nonce: string; snapshot: unknown };
  }

  closes(): { code: number; reason: string }[] {
    return this.events.flatMap((e) => (e.kind === 'close' ? [{ code: e.code, reason: e.reason }] : []));
  }
}

