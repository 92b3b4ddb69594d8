/**
 * A strict HTTP/1.x message head parser built for a proxy: it reads only what routing and
 * message framing need, keeps the head as one latin1 string so it can be forwarded without
 * re-serialising, and rejects what HAProxy rejects, early. One MessageHead object is reused for
 * every message of a connection, so parsing a request allocates the head string, the header
 * substrings and nothing else.
 *
 * Request smuggling defences (RFC 9112 section 6.3, 11.2): Content-Length together with
 * Transfer-Encoding, differing Content-Lengths, a request Transfer-Encoding other than exactly
 * "chunked", obs-fold, white space before the colon, bare CR or LF and control characters are
 * all errors, never "repaired".
 */
import { TARGET_CHAR, TCHAR, VALUE_CHAR, listHasToken, trimOws } from './token.ts';

export const MAX_HEADERS = 100;

export class MessageHead {
  /** The whole head, request or status line through the blank line, as latin1. */
  text = '';
  method = '';
  target = '';
  status = 0;
  reason = '';
  /** The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor = 1;
  /** Header names lower-cased, values trimmed; `count` entries are valid. */
  readonly names: string[] = [];
  readonly values: string[] = [];
  count = 0;
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  /** Transfer-Encoding present but not ending in chunked (responses only: read until close). */
  otherEncoding = false;
  connClose = false;
  connKeepAlive = false;
  connUpgrade = false;
  upgrade = '';
  host = '';
  expectContinue = false;
  /** True when a hop-by-hop header (Connection, Keep-Alive, Proxy-Connection, TE, Upgrade) is present. */
  hopByHop = false;

  reset(): void {
    this.text = '';
    this.method = '';
    this.target = '';
    this.status = 0;
    this.reason = '';
    this.minor = 1;
    this.count = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.otherEncoding = false;
    this.connClose = false;
    this.connKeepAlive = false;
    this.connUpgrade = false;
    this.upgrade = '';
    this.host = '';
    this.expectContinue = false;
    this.hopByHop = false;
  }

  /**
   * Forgets the last message, strings included, before the head is reused for another
   * connection's (http-session.ts keeps ended transactions' heads for the next to begin).
   */
  clear(): void {
    this.names.fill('', 0, this.count);
    this.values.fill('', 0, this.count);
    this.reset();
  }

  /** The first value of a header, by lower-case name. */
  header(nameLower: string): string | undefined {
    for (let i = 0; i < this.count; i++) if (this.names[i] === nameLower) return this.values[i];
    return undefined;
  }

  /** Whether the connection may carry another message after this one (RFC 9112 section 9.3). */
  get keepAlive(): boolean {
    if (this.connClose) return false;
    return this.minor === 1 || this.connKeepAlive;
  }
}

/** Index just past the blank line ending a head in buf[from..], or -1 while incomplete. */
export function findHeadEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf('\r\n\r\n', from > 3 ? from - 3 : 0, 'latin1');
  return i < 0 ? -1 : i + 4;
}

/** Parses a request head. Returns null on success or the reason it is malformed. */
export function parseRequestHead(text: string, head: MessageHead): string | null {
  head.reset();
  head.text = text;
  const lineEnd = text.indexOf('\r\n');
  // request-line = method SP request-target SP HTTP-version
  const sp1 = text.indexOf(' ');
  if (sp1 <= 0 || sp1 > lineEnd) return 'malformed request line';
  for (let i = 0; i < sp1; i++) if (TCHAR[text.charCodeAt(i)] !== 1) return 'invalid character in method';
  const sp2 = text.indexOf(' ', sp1 + 1);
  if (sp2 < 0 || sp2 > lineEnd || sp2 === sp1 + 1) return 'malformed request line';
  for (let i = sp1 + 1; i < sp2; i++) if (TARGET_CHAR[text.charCodeAt(i)] !== 1) return 'invalid character in request target';
  if (lineEnd - sp2 - 1 !== 8 || !text.startsWith('HTTP/1.', sp2 + 1)) return 'unsupported HTTP version';
  const minor = text.charCodeAt(lineEnd - 1);
  if (minor !== 0x30 && minor !== 0x31) return 'unsupported HTTP version';
  head.method = text.slice(0, sp1);
  head.target = text.slice(sp1 + 1, sp2);
  head.minor = minor - 0x30;
  const error = parseFields(text, lineEnd + 2, head);
  if (error) return error;
  if (head.chunked || head.otherEncoding) {
    if (head.otherEncoding) return 'unsupported Transfer-Encoding';
    if (head.contentLength >= 0) return 'both Content-Length and Transfer-Encoding';
    if (head.minor === 0) return 'Transfer-Encoding in an HTTP/1.0 request';
  }
  if (head.minor === 1 && head.host === '') return 'missing Host header';
  if (head.target.charCodeAt(0) !== 0x2f && head.target !== '*' && !/^https?:\/\//i.test(head.target)) {
    if (head.method !== 'CONNECT') return 'invalid request target';
  }
  return null;
}

/** Parses a response head. Returns null on success or the reason it is malformed. */
export function parseResponseHead(text: string, head: MessageHead): string | null {
  head.reset();
  head.text = text;
  const lineEnd = text.indexOf('\r\n');
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  if (lineEnd < 12 || !text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 0x20) return 'malformed status line';
  const minor = text.charCodeAt(7);
  if (minor !== 0x30 && minor !== 0x31) return 'unsupported HTTP version';
  head.minor = minor - 0x30;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return 'malformed status code';
    status = status * 10 + d;
  }
  if (status < 100) return 'malformed status code';
  if (lineEnd > 12 && text.charCodeAt(12) !== 0x20) return 'malformed status line';
  head.status = status;
  head.reason = lineEnd > 13 ? text.slice(13, lineEnd) : '';
  const error = parseFields(text, lineEnd + 2, head);
  if (error) return error;
  if (head.chunked && head.contentLength >= 0) return 'both Content-Length and Transfer-Encoding';
  return null;
}

function parseFields(text: string, pos: number, head: MessageHead): string | null {
  const end = text.length - 2; // the final CRLF
  const names = head.names;
  const values = head.values;
  let n = 0;
  while (pos < end) {
    const eol = text.indexOf('\r\n', pos);
    const first = text.charCodeAt(pos);
    if (first === 0x20 || first === 0x09) return 'obsolete line folding';
    const colon = text.indexOf(':', pos);
    if (colon < 0 || colon > eol || colon === pos) return 'malformed header line';
    for (let i = pos; i < colon; i++) {
      if (TCHAR[text.charCodeAt(i)] !== 1) return i === colon - 1 && text.charCodeAt(i) <= 0x20 ? 'white space before colon' : 'invalid character in header name';
    }
    for (let i = colon + 1; i < eol; i++) if (VALUE_CHAR[text.charCodeAt(i)] !== 1) return 'invalid character in header value';
    if (n === MAX_HEADERS) return 'too many headers';
    const name = text.slice(pos, colon).toLowerCase();
    const value = trimOws(text, colon + 1, eol);
    names[n] = name;
    values[n] = value;
    n++;
    pos = eol + 2;
    const error = noteFramingHeader(head, name, value);
    if (error) return error;
  }
  head.count = n;
  return null;
}

/** Records the headers that decide framing, connection handling and routing. */
function noteFramingHeader(head: MessageHead, name: string, value: string): string | null {
  switch (name.length) {
    case 4:
      if (name === 'host') {
        if (head.host !== '') return 'duplicate Host header';
        if (value === '') return 'empty Host header';
        head.host = value;
      }
      return null;
    case 14:
      if (name === 'content-length') {
        const length = parseContentLength(value);
        if (length < 0) return 'invalid Content-Length';
        if (head.contentLength >= 0 && head.contentLength !== length) return 'conflicting Content-Length headers';
        head.contentLength = length;
      }
      return null;
    case 17:
      if (name === 'transfer-encoding') {
        // The final coding decides; "chunked" must be last and appear once.
        const lower = value.toLowerCase();
        const codings = lower.split(',');
        const last = codings[codings.length - 1]!.trim();
        const chunkedCount = codings.filter((c) => c.trim() === 'chunked').length;
        if (head.chunked || chunkedCount > 1) return 'chunked applied more than once';
        if (last === 'chunked' && codings.length === 1) head.chunked = true;
        else if (last === 'chunked') {
          head.chunked = true;
          head.otherEncoding = head.method !== ''; // a request may only say "chunked"
        } else head.otherEncoding = true;
      }
      return null;
    case 10:
      if (name === 'connection') {
        head.hopByHop = true;
        if (listHasToken(value, 'close')) head.connClose = true;
        if (listHasToken(value, 'keep-alive')) head.connKeepAlive = true;
        if (listHasToken(value, 'upgrade')) head.connUpgrade = true;
      } else if (name === 'keep-alive') head.hopByHop = true;
      return null;
    case 7:
      if (name === 'upgrade') {
        head.hopByHop = true;
        head.upgrade = value;
      }
      return null;
    case 6:
      if (name === 'expect' && value.toLowerCase() === '100-continue') head.expectContinue = true;
      return null;
    case 2:
      if (name === 'te') head.hopByHop = true;
      return null;
    case 16:
      if (name === 'proxy-connection') head.hopByHop = true;
      return null;
    default:
      return null;
  }
}

/** A Content-Length value: digits, or identical comma-separated copies of them. -1 if invalid. */
function parseContentLength(value: string): number {
  let result = -1;
  for (const part of value.split(',')) {
    const p = part.trim();
    if (p.length === 0 || p.length > 15) return -1;
    let n = 0;
    for (let i = 0; i < p.length; i++) {
      const d = p.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return -1;
      n = n * 10 + d;
    }
    if (result >= 0 && result !== n) return -1;
    result = n;
  }
  return result;
}

/** Hop-by-hop headers a proxy never forwards as received (RFC 9110 section 7.6.1). */
export function isHopByHop(name: string): boolean {
  return name === 'connection' || name === 'keep-alive' || name === 'proxy-connection' || name === 'te' || name === 'upgrade' || name === 'trailer';
}

/** Response statuses and request methods after which no body follows (RFC 9112 section 6.3). */
export function responseHasBody(status: number, requestMethod: string): boolean {
  if (requestMethod === 'HEAD') return false;
  if (status < 200 || status === 204 || status === 304) return false;
  return true;
}
