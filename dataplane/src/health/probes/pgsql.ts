/**
 * PostgreSQL check (HAProxy `option pgsql-check user <user>`): send a StartupMessage (protocol
 * 3.0, user = database = `user`) and read the first reply message.
 * - 'R' (any authentication request, or AuthenticationOk) proves a live server: L7OK;
 * - 'E' (ErrorResponse, e.g. "the database system is starting up", "too many clients",
 *   "no pg_hba.conf entry") is L7STS with the server's message as info;
 * - anything else is L7RSP.
 */
import type { ir } from '@switchyard/api';
import type { CheckResult } from '../result.ts';
import { ProbeFailure, runDialog } from './connection.ts';
import type { Outcome, ProbeTarget } from './connection.ts';

export type PgsqlProbe = Extract<ir.Probe, { kind: 'pgsql' }>;

export interface PgMessage {
  type: string;
  body: Buffer;
}

/** Largest backend message accepted as a reply to the startup message. */
const MAX_MESSAGE = 64 * 1024;
const PROTOCOL_3_0 = 196608;
/** Terminate, sent after AuthenticationOk so the server sees a clean goodbye. */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

const AUTH_NAMES: Record<number, string> = {
  0: 'AuthenticationOk',
  2: 'KerberosV5',
  3: 'CleartextPassword',
  5: 'MD5Password',
  7: 'GSS',
  9: 'SSPI',
  10: 'SASL',
};

export function pgsqlProbe(target: ProbeTarget, probe: PgsqlProbe, timeoutMs: number): Promise<CheckResult> {
  return runDialog(target, timeoutMs, async (conn): Promise<Outcome> => {
    void conn.write(startupMessage(probe.user));
    const msg = await conn.read(readPgMessage);
    if (msg.type === 'R' && msg.body.length >= 4) {
      const auth = msg.body.readInt32BE(0);
      const method = AUTH_NAMES[auth] ?? `authentication request ${auth}`;
      return { status: 'L7OK', info: `PostgreSQL server is ok (${method})`, goodbye: auth === 0 ? TERMINATE : undefined };
    }
    if (msg.type === 'E') return { status: 'L7STS', info: errorMessage(msg.body) };
    return { status: 'L7RSP', info: `unexpected PostgreSQL message '${printable(msg.type)}'` };
  });
}

/** StartupMessage: int32 length, int32 protocol 3.0, then name/value C strings and a final NUL. */
export function startupMessage(user: string): Buffer {
  const params = Buffer.from(`user\0${user}\0database\0${user}\0\0`, 'utf8');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + params.length, 0);
  head.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([head, params]);
}

/** Parser for one backend message: 1-byte type, int32 length (itself included), body. */
export function readPgMessage(buf: Buffer): readonly [PgMessage, number] | undefined {
  if (buf.length < 5) return undefined;
  const type = String.fromCharCode(buf[0]);
  const length = buf.readInt32BE(1);
  if (length < 4 || length > MAX_MESSAGE) {
    throw new ProbeFailure({ status: 'L7RSP', info: `not a PostgreSQL reply (type '${printable(type)}', length ${length})` });
  }
  if (buf.length < 1 + length) return undefined;
  return [{ type, body: buf.subarray(5, 1 + length) }, 1 + length];
}

/** ErrorResponse fields: type byte + C string each, NUL-terminated list. Returns "SEVERITY: message". */
function errorMessage(body: Buffer): string {
  const fields = new Map<string, string>();
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const type = String.fromCharCode(body[pos]);
    const end = body.indexOf(0, pos + 1);
    if (end < 0) break;
    fields.set(type, body.toString('utf8', pos + 1, end));
    pos = end + 1;
  }
  const message = fields.get('M') ?? 'PostgreSQL error';
  const severity = fields.get('V') ?? fields.get('S');
  return severity ? `${severity}: ${message}` : message;
}

function printable(s: string): string {
  return /^[\x20-\x7e]$/.test(s) ? s : `\\x${s.charCodeAt(0).toString(16).padStart(2, '0')}`;
}
