/** Character classes of RFC 9110, as lookup tables indexed by char code (0-255). */

/** tchar: the characters allowed in a method or a header name. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** field-vchar, SP and HTAB: what a header value may hold (obs-text 0x80-0xff allowed, CTLs not). */
export const VALUE_CHAR = new Uint8Array(256);
VALUE_CHAR[0x09] = 1;
for (let c = 0x20; c <= 0x7e; c++) VALUE_CHAR[c] = 1;
for (let c = 0x80; c <= 0xff; c++) VALUE_CHAR[c] = 1;

/** What a request-target may hold: visible ASCII and obs-text, no SP or CTL. */
export const TARGET_CHAR = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TARGET_CHAR[c] = 1;
for (let c = 0x80; c <= 0xff; c++) TARGET_CHAR[c] = 1;

export function isToken(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** Trims optional white space (SP, HTAB) around a header value. */
export function trimOws(s: string, start: number, end: number): string {
  while (start < end && (s.charCodeAt(start) === 0x20 || s.charCodeAt(start) === 0x09)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return s.slice(start, end);
}

/** True when a comma-separated header value lists `token` (case-insensitive), e.g. Connection: keep-alive, Upgrade. */
export function listHasToken(value: string, token: string): boolean {
  const lower = value.toLowerCase();
  let from = 0;
  for (;;) {
    const i = lower.indexOf(token, from);
    if (i < 0) return false;
    const before = i === 0 ? 0x2c : lower.charCodeAt(i - 1);
    const afterIdx = i + token.length;
    const after = afterIdx >= lower.length ? 0x2c : lower.charCodeAt(afterIdx);
    if ((before === 0x2c || before === 0x20 || before === 0x09) && (after === 0x2c || after === 0x20 || after === 0x09)) return true;
    from = i + 1;
  }
}
