/**
 * Redis check (HAProxy `option redis-check`): send `PING\r\n`, expect a reply starting with
 * `+PONG` (L7OK "Redis server is ok"). Any other reply line, e.g. `-LOADING ...` or
 * `-NOAUTH ...`, is L7STS with that line as info; a close before a full line is L7RSP.
 */
import type { ir } from '@switchyard/api';
import type { CheckResult } from '../result.ts';
import { findLineEnd, runDialog } from './connection.ts';
import type { ProbeTarget } from './connection.ts';

export type RedisProbe = Extract<ir.Probe, { kind: 'redis' }>;

/** Longest reply line waited for. */
const MAX_LINE = 4096;

export function redisProbe(target: ProbeTarget, _probe: RedisProbe, timeoutMs: number): Promise<CheckResult> {
  return runDialog(target, timeoutMs, async (conn) => {
    void conn.write('PING\r\n');
    const line = await conn.read<string>((buf, eof) => {
      if (buf.length >= 5 && buf.toString('latin1', 0, 5) === '+PONG') return ['+PONG', buf.length];
      const end = findLineEnd(buf);
      if (end) return [buf.toString('latin1', 0, end.index), end.index + end.length];
      if (buf.length >= MAX_LINE || (eof && buf.length > 0)) return [buf.toString('latin1', 0, Math.min(buf.length, MAX_LINE)), buf.length];
      return undefined;
    });
    if (line.startsWith('+PONG')) return { status: 'L7OK', info: 'Redis server is ok' };
    return { status: 'L7STS', info: line };
  });
}
