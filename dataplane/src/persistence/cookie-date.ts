/**
 * The dates an inserted persistence cookie carries with maxIdle/maxLife, in HAProxy's own
 * encoding so that cookies issued by HAProxy stay valid here and the other way round (a
 * migration keeps every client on its server):
 *
 *   NAME=<server cookie>|<last seen>|<first seen>
 *
 * Each date is a Unix time in seconds divided by 4 (HAProxy's resolution: a 30-bit count of
 * 4-second quanta, good until 2106), written as 5 base64 digits (RFC 4648 alphabet, most
 * significant first, no padding): HAProxy's s30tob64()/b64tos30(). A date is written rounded up
 * to the next quantum, so a fresh cookie's last-seen date is never in the past.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 digit values by char code, -1 for characters outside the alphabet. */
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;

/** The number of characters of one encoded date. */
export const DATE_LENGTH = 5;

/** The date HAProxy writes for `seconds`: the count of 4-second quanta, rounded up. */
export function toQuanta(seconds: number): number {
  return Math.floor((seconds + 3) / 4);
}

/** Writes the low 30 bits of `quanta` as 5 base64 digits. */
export function encodeQuanta(quanta: number): string {
  let out = '';
  for (let shift = 24; shift >= 0; shift -= 6) out += ALPHABET[Math.floor(quanta / 2 ** shift) & 0x3f];
  return out;
}

/** Reads 5 base64 digits at `at` of `text`; -1 when fewer remain or one is not a digit. */
export function decodeQuanta(text: string, at: number): number {
  if (text.length - at < DATE_LENGTH) return -1;
  let value = 0;
  for (let i = at; i < at + DATE_LENGTH; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? DIGIT[code]! : -1;
    if (digit < 0) return -1;
    value = value * 64 + digit;
  }
  return value;
}
