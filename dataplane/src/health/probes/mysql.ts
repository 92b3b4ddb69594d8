/**
 * MySQL check (HAProxy `option mysql-check user <user>`, post-41):
 * 1. read the server greeting (protocol v10 handshake); an error packet instead (e.g. "Host ...
 *    is not allowed to connect") is L7STS with the MySQL error number as code;
 * 2. answer with a HandshakeResponse41 for `user`, no password, no database;
 * 3. read the reply: an OK packet is L7OK (info: the server version); an error packet (e.g.
 *    "Access denied") is L7STS with the error number and message. As HAProxy, any other reply
 *    (an authentication switch request for instance) still proves a live MySQL server: L7OK.
 * 4. say COM_QUIT before closing so the server does not log an aborted connection.
 * The user must exist and be allowed to log in from the checker's address without a password,
 * as with HAProxy.
 */
import type { ir } from '@switchyard/api';
import type { CheckResult } from '../result.ts';
import { runDialog } from './connection.ts';
import type { Outcome, ProbeTarget } from './connection.ts';

export type MysqlProbe = Extract<ir.Probe, { kind: 'mysql' }>;

export interface MysqlPacket {
  seq: number;
  payload: Buffer;
}

const CLIENT_PROTOCOL_41 = 0x0000_0200;
const CLIENT_SECURE_CONNECTION = 0x0000_8000;
/** Capabilities HAProxy announces for post-41 checks. */
export const CLIENT_CAPABILITIES = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
const MAX_PACKET_SIZE = 16 * 1024 * 1024;
const CHARSET_UTF8 = 0x21;
/** COM_QUIT, sequence 0. */
export const COM_QUIT = Buffer.from([0x01, 0x00, 0x00, 0x00, 0x01]);

export function mysqlProbe(target: ProbeTarget, probe: MysqlProbe, timeoutMs: number): Promise<CheckResult> {
  return runDialog(target, timeoutMs, async (conn): Promise<Outcome> => {
    const greeting = await conn.read(readMysqlPacket);
    const g = greeting.payload;
    if (g[0] === 0xff) return mysqlError(g);
    if (g[0] !== 10) return { status: 'L7RSP', info: `unsupported MySQL protocol version ${g[0] ?? 'none'}` };
    const nul = g.indexOf(0, 1);
    const version = g.toString('latin1', 1, nul > 0 ? nul : Math.min(g.length, 64));

    void conn.write(handshakeResponse41(probe.user, (greeting.seq + 1) & 0xff));
    const reply = await conn.read(readMysqlPacket);
    if (reply.payload[0] === 0xff) return mysqlError(reply.payload);
    return { status: 'L7OK', info: version, goodbye: COM_QUIT };
  });
}

/** Parser for one MySQL packet: 3-byte little-endian payload length, 1-byte sequence id. */
export function readMysqlPacket(buf: Buffer): readonly [MysqlPacket, number] | undefined {
  if (buf.length < 4) return undefined;
  const length = buf.readUIntLE(0, 3);
  if (buf.length < 4 + length) return undefined;
  return [{ seq: buf[3], payload: buf.subarray(4, 4 + length) }, 4 + length];
}

/** HandshakeResponse41: capabilities, max packet, charset, 23 zero bytes, user, empty auth. */
export function handshakeResponse41(user: string, seq: number): Buffer {
  const name = Buffer.from(user, 'utf8');
  const payload = Buffer.alloc(4 + 4 + 1 + 23 + name.length + 1 + 1);
  let o = payload.writeUInt32LE(CLIENT_CAPABILITIES, 0);
  o = payload.writeUInt32LE(MAX_PACKET_SIZE, o);
  o = payload.writeUInt8(CHARSET_UTF8, o);
  o += 23;
  o += name.copy(payload, o);
  o = payload.writeUInt8(0, o); // end of user name
  payload.writeUInt8(0, o); // auth response length: no password
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = seq;
  return Buffer.concat([header, payload]);
}

/** ERR packet: 0xff, error number (2 bytes LE), optional `#` + SQL state (5), message. */
function mysqlError(payload: Buffer): Outcome {
  const code = payload.length >= 3 ? payload.readUInt16LE(1) : null;
  let start = 3;
  if (payload[3] === 0x23 /* # */) start = 9;
  const message = payload.toString('utf8', Math.min(start, payload.length));
  return { status: 'L7STS', code, info: message || 'MySQL error' };
}
