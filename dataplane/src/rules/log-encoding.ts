/**
 * HAProxy's escaping of what lands in log lines and in rewritten header values (haproxy.c encode
 * maps): each escaped character becomes the escape character and two upper-case hex digits.
 * - url map, `#`: the request line and its parts (`%r`, `%HU`...): `"`, `#`, controls and bytes >= 127;
 * - header map, `#`: captured headers (`%hr`): the url map plus `{`, `|` and `}`;
 * - http map, `%`: samples in header values and redirect targets: controls other than HTAB, and
 *   DEL, so that a sample can never smuggle a line break into a head.
 * A string with nothing to escape is returned as is.
 */

function buildMap(test: (c: number) => boolean): Uint8Array {
  const map = new Uint8Array(256);
  for (let c = 0; c < 256; c++) if (test(c)) map[c] = 1;
  return map;
}

const URL_MAP = buildMap((c) => c < 32 || c >= 127 || c === 0x22 || c === 0x23);
const HEADER_MAP = buildMap((c) => URL_MAP[c] === 1 || c === 0x7b || c === 0x7c || c === 0x7d);
const HTTP_MAP = buildMap((c) => (c < 32 && c !== 0x09) || c === 0x7f);

const HEX = '0123456789ABCDEF';

function encode(text: string, map: Uint8Array, escape: string): string {
  let i = 0;
  for (; i < text.length; i++) if (map[text.charCodeAt(i)] === 1) break;
  if (i === text.length) return text;
  let out = text.slice(0, i);
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Characters beyond latin1 (never from the wire, which is read as latin1) index no map entry and pass.
    out += map[c] === 1 ? escape + HEX[c >> 4] + HEX[c & 15] : text[i];
  }
  return out;
}

export function encodeUrl(text: string): string {
  return encode(text, URL_MAP, '#');
}

export function encodeHeaderCapture(text: string): string {
  return encode(text, HEADER_MAP, '#');
}

export function encodeHttpValue(text: string): string {
  return encode(text, HTTP_MAP, '%');
}
