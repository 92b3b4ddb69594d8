/**
 * TCP check (HAProxy `check` without an option, or `tcp-check send` / `tcp-check expect string`).
 * - connect only: L4OK, L4CON or L4TOUT;
 * - `send`: written once connected (escapes `\r`, `\n`, `\t`, `\\` interpreted);
 * - `expect`: read until the reply contains it (L7OK), the peer closes without it or the reply
 *   outgrows MAX_EXPECT_BYTES (L7RSP), or the timeout strikes (L7TOUT).
 * `send` without `expect` verifies nothing beyond layer 4: L4OK once the data is flushed.
 */
import type { ir } from '@switchyard/api';
import type { CheckResult } from '../result.ts';
import { runDialog } from './connection.ts';
import type { ProbeTarget } from './connection.ts';

export type TcpProbe = Extract<ir.Probe, { kind: 'tcp' }>;

/** How much of the reply is searched for `expect` (HAProxy: one 16 KiB buffer). */
export const MAX_EXPECT_BYTES = 64 * 1024;

export function tcpProbe(target: ProbeTarget, probe: TcpProbe, timeoutMs: number): Promise<CheckResult> {
  const send = probe.send ? Buffer.from(unescapeCheckString(probe.send), 'utf8') : null;
  const expect = probe.expect ? Buffer.from(unescapeCheckString(probe.expect), 'utf8') : null;
  if (!send && !expect) return runDialog(target, timeoutMs, null);

  return runDialog(target, timeoutMs, async (conn) => {
    if (send) {
      const flushed = conn.write(send);
      if (!expect) {
        await flushed;
        return { status: 'L4OK', info: 'data sent' };
      }
    }
    const shown = printable(probe.expect ?? '');
    const found = await conn.read<boolean>((buf, eof) => {
      const window = buf.subarray(0, MAX_EXPECT_BYTES);
      if (expect && window.indexOf(expect) >= 0) return [true, buf.length];
      if (eof || buf.length >= MAX_EXPECT_BYTES) return [false, buf.length];
      return undefined;
    });
    if (found) return { status: 'L7OK', info: '(tcp-check)' };
    return { status: 'L7RSP', info: `expected string '${shown}' not found` };
  });
}

/**
 * Interprets the escapes allowed in `send` and `expect`: `\r`, `\n`, `\t` and `\\`.
 * Any other backslash sequence is kept as written.
 */
export function unescapeCheckString(input: string): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '\\' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === 'r') out += '\r';
    else if (next === 'n') out += '\n';
    else if (next === 't') out += '\t';
    else if (next === '\\') out += '\\';
    else {
      out += ch;
      continue;
    }
    i++;
  }
  return out;
}

function printable(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}...` : s;
}
