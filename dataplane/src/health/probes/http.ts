/**
 * HTTP check (HAProxy `option httpchk` + `http-check send` / `http-check expect`), over a raw
 * socket so that each way of failing keeps its layer:
 * - L4CON / L4TOUT: the connection could not be made;
 * - L7TOUT: connected, but no complete answer (headers, and the body when one is inspected) in time;
 * - L7RSP: an answer that is not HTTP, is cut short, or lacks the expected header or body text;
 * - L7STS: a well-formed answer with a status that is not accepted (`code` = the status);
 * - L7OK: everything expected was there (`code` = the status, info = the reason phrase).
 *
 * The request is `METHOD path VERSION` with `Host` (probe.host, else the target's address and
 * port), `Connection: close`, `User-Agent: Switchyard-Check/1` and the probe's extra headers (an
 * extra header with one of those names replaces the default). The body is only read when
 * `bodyContains` is set, and at most MAX_BODY_BYTES of it.
 */
import type { ir } from '@switchyard/api';
import { checkResult } from '../result.ts';
import type { CheckResult } from '../result.ts';
import { findLineEnd, ProbeFailure, runDialog } from './connection.ts';
import type { Outcome, ProbeConnection, ProbeTarget } from './connection.ts';

export type HttpProbe = Extract<ir.Probe, { kind: 'http' }>;

export const USER_AGENT = 'Switchyard-Check/1';
/** Largest status line + headers accepted. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** How much of the body is searched for `bodyContains`. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpResponseHead {
  version: string;
  status: number;
  reason: string;
  /** In order received; names as sent. */
  headers: [string, string][];
}

export function httpProbe(target: ProbeTarget, probe: HttpProbe, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let request: Buffer;
  try {
    request = buildHttpRequest(target, probe);
  } catch (err) {
    const info = err instanceof Error ? err.message : String(err);
    return Promise.resolve(checkResult('SOCKERR', { info, durationMs: performance.now() - started }));
  }
  return runDialog(target, timeoutMs, (conn) => httpDialog(conn, probe, request));
}

async function httpDialog(conn: ProbeConnection, probe: HttpProbe, request: Buffer): Promise<Outcome> {
  void conn.write(request);
  let head = await conn.read(parseHead);
  // Interim 1xx answers (100 Continue, 103 Early Hints) precede the real one; 101 is final.
  while (head.status >= 100 && head.status < 200 && head.status !== 101) head = await conn.read(parseHead);

  const code = head.status;
  const { expect } = probe;
  if (!statusAccepted(code, expect)) return { status: 'L7STS', code, info: head.reason };

  if (expect.header) {
    const wanted = expect.header.name.toLowerCase();
    const values = head.headers.filter(([name]) => name.toLowerCase() === wanted).map(([, value]) => value);
    if (values.length === 0) return { status: 'L7RSP', code, info: `header '${expect.header.name}' not found` };
    const needle = expect.header.contains;
    if (!values.some((v) => v.includes(needle))) {
      return { status: 'L7RSP', code, info: `header '${expect.header.name}' does not contain '${needle}'` };
    }
  }

  if (expect.bodyContains !== null) {
    const needle = Buffer.from(expect.bodyContains, 'utf8');
    const framing = bodyFraming(probe.method, head);
    const found = await conn.read(bodyMatcher(framing, needle));
    if (!found) return { status: 'L7RSP', code, info: `body does not contain '${expect.bodyContains}'` };
  }

  return { status: 'L7OK', code, info: head.reason };
}

/** Accepted status: the `status` list and/or `statusRange` when given (all must pass), else 2xx and 3xx. */
export function statusAccepted(code: number, expect: HttpProbe['expect']): boolean {
  if (expect.status === null && expect.statusRange === null) return code >= 200 && code < 400;
  if (expect.status !== null && !expect.status.includes(code)) return false;
  if (expect.statusRange !== null) {
    const [lo, hi] = expect.statusRange;
    if (code < lo || code > hi) return false;
  }
  return true;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True if s has a control character (tab allowed when allowTab) or a space (when !allowSpace). */
function hasControl(s: string, allowTab: boolean, allowSpace: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x09 && allowTab) continue;
    if (c === 0x20 && !allowSpace) return true;
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Serialises the check request; throws on a method, path or header that would corrupt it. */
export function buildHttpRequest(target: ProbeTarget, probe: HttpProbe): Buffer {
  if (!TOKEN.test(probe.method)) throw new Error(`invalid method '${probe.method}'`);
  if (probe.path === '' || hasControl(probe.path, false, false)) throw new Error(`invalid path '${probe.path}'`);
  const defaults: [string, string][] = [
    ['Host', probe.host ?? defaultHost(target)],
    ['Connection', 'close'],
    ['User-Agent', USER_AGENT],
  ];
  const extra = probe.headers.map((h): [string, string] => [h.name, h.value]);
  const overridden = new Set(extra.map(([n]) => n.toLowerCase()));
  const headers = [...defaults.filter(([n]) => !overridden.has(n.toLowerCase())), ...extra];
  let text = `${probe.method} ${probe.path} ${probe.version}\r\n`;
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) throw new Error(`invalid header name '${name}'`);
    if (hasControl(value, true, true)) throw new Error(`invalid value for header '${name}'`);
    text += `${name}: ${value}\r\n`;
  }
  text += '\r\n';
  return Buffer.from(text, 'utf8');
}

function defaultHost(target: ProbeTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return target.port === 80 ? host : `${host}:${target.port}`;
}

const STATUS_LINE = /^HTTP\/(\d\.\d) ([1-9]\d\d)(?: (.*))?$/;

/** Parser for a status line and headers; consumes them, leaving the body in the buffer. */
export function parseHead(buf: Buffer, eof: boolean): readonly [HttpResponseHead, number] | undefined {
  const lines: string[] = [];
  let pos = 0;
  for (;;) {
    const end = findLineEnd(buf, pos);
    if (!end) {
      if (buf.length > MAX_HEAD_BYTES) throw new ProbeFailure({ status: 'L7RSP', info: 'response headers too large' });
      // A peer that closed after a partial head: report what it sent if it is not even HTTP.
      if (eof) {
        if (buf.length > 0 && !looksLikeHttp(buf)) throw invalidStatusLine(buf);
        return undefined;
      }
      // Fail fast on a first line that can never become a status line.
      if (buf.length >= 5 && !looksLikeHttp(buf)) throw invalidStatusLine(buf);
      return undefined;
    }
    if (end.index + end.length > MAX_HEAD_BYTES) throw new ProbeFailure({ status: 'L7RSP', info: 'response headers too large' });
    const line = buf.toString('latin1', pos, end.index);
    pos = end.index + end.length;
    if (line === '') {
      if (lines.length === 0) throw new ProbeFailure({ status: 'L7RSP', info: 'empty status line' });
      break;
    }
    // Judge the status line as soon as it is complete, not after the headers.
    if (lines.length === 0 && !STATUS_LINE.test(line)) throw invalidStatusLine(Buffer.from(line, 'latin1'));
    lines.push(line);
  }

  const m = STATUS_LINE.exec(lines[0]);
  if (!m) throw invalidStatusLine(Buffer.from(lines[0], 'latin1'));
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // obs-fold: continuation of the previous header value.
      const last = headers.at(-1);
      if (!last) throw new ProbeFailure({ status: 'L7RSP', code: Number(m[2]), info: 'invalid header line' });
      last[1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) {
      throw new ProbeFailure({ status: 'L7RSP', code: Number(m[2]), info: `invalid header line '${line.slice(0, 40)}'` });
    }
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return [{ version: `HTTP/${m[1]}`, status: Number(m[2]), reason: m[3] ?? '', headers }, pos];
}

function looksLikeHttp(buf: Buffer): boolean {
  const prefix = 'HTTP/';
  const n = Math.min(buf.length, prefix.length);
  return buf.toString('latin1', 0, n) === prefix.slice(0, n);
}

function invalidStatusLine(buf: Buffer): ProbeFailure {
  const end = findLineEnd(buf);
  const first = buf.toString('latin1', 0, Math.min(end ? end.index : buf.length, 40));
  return new ProbeFailure({ status: 'L7RSP', info: `invalid status line '${first}'` });
}

export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' };

/** RFC 9112 section 6.3: how the body of this response is delimited. */
export function bodyFraming(method: string, head: HttpResponseHead): BodyFraming {
  if (method.toUpperCase() === 'HEAD' || head.status === 204 || head.status === 304 || head.status < 200) {
    return { kind: 'none' };
  }
  const get = (name: string) => head.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  const te = get('transfer-encoding');
  if (te.length > 0) {
    const codings = te.join(',').split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
    return codings.at(-1) === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  }
  const cl = get('content-length');
  if (cl.length > 0) {
    const values = new Set(cl.join(',').split(',').map((v) => v.trim()));
    const [only] = values;
    if (values.size !== 1 || !/^\d{1,15}$/.test(only)) {
      throw new ProbeFailure({ status: 'L7RSP', code: head.status, info: 'invalid Content-Length' });
    }
    return { kind: 'length', length: Number(only) };
  }
  return { kind: 'close' };
}

/** Parser resolving true as soon as the body contains needle, false when it cannot anymore. */
function bodyMatcher(framing: BodyFraming, needle: Buffer): (buf: Buffer, eof: boolean) => readonly [boolean, number] | undefined {
  return (buf, eof) => {
    let body: Buffer;
    let complete: boolean;
    switch (framing.kind) {
      case 'none':
        body = Buffer.alloc(0);
        complete = true;
        break;
      case 'length':
        body = buf.subarray(0, framing.length);
        complete = body.length >= framing.length;
        break;
      case 'chunked': {
        const decoded = decodeChunked(buf, MAX_BODY_BYTES);
        body = decoded.body;
        complete = decoded.complete;
        break;
      }
      case 'close':
        body = buf;
        complete = false;
        break;
    }
    const window = body.subarray(0, MAX_BODY_BYTES);
    if (window.indexOf(needle) >= 0) return [true, buf.length];
    if (complete || eof || body.length >= MAX_BODY_BYTES) return [false, buf.length];
    return undefined;
  };
}

/**
 * Decodes as much of a chunked body as has arrived, stopping once `limit` bytes are decoded.
 * Throws L7RSP on a malformed chunk header.
 */
export function decodeChunked(buf: Buffer, limit: number): { body: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  let size = 0;
  let pos = 0;
  while (size < limit) {
    const end = findLineEnd(buf, pos);
    if (!end) {
      if (buf.length - pos > 1024) throw new ProbeFailure({ status: 'L7RSP', info: 'invalid chunk size line' });
      break;
    }
    const line = buf.toString('latin1', pos, end.index);
    const m = /^([0-9A-Fa-f]{1,8})[ \t]*(?:;.*)?$/.exec(line);
    if (!m) throw new ProbeFailure({ status: 'L7RSP', info: 'invalid chunk size line' });
    const chunkSize = parseInt(m[1], 16);
    if (chunkSize === 0) return { body: Buffer.concat(parts), complete: true };
    const dataStart = end.index + end.length;
    const available = Math.min(chunkSize, buf.length - dataStart);
    parts.push(buf.subarray(dataStart, dataStart + available));
    size += available;
    if (available < chunkSize) break;
    // Skip the CRLF after the chunk data.
    let next = dataStart + chunkSize;
    if (buf[next] === 0x0d) next++;
    if (next >= buf.length) break;
    if (buf[next] !== 0x0a) throw new ProbeFailure({ status: 'L7RSP', info: 'invalid chunk terminator' });
    pos = next + 1;
  }
  return { body: Buffer.concat(parts), complete: false };
}
