/**
 * The 32-bit hash of the hashing algorithms: HAProxy's default `sdbm` over the key's bytes,
 * followed by an avalanche step (murmur3's fmix32) so that similar keys land far apart, which
 * the consistent-hash ring and the modulo of the map both need (HAProxy applies `full_hash`
 * for the same reason with `hash-type consistent`).
 *
 * Strings are hashed as their UTF-8 bytes, encoded on the fly: `hashString(s)` equals
 * `hashBytes(Buffer.from(s))` (lone surrogates count as U+FFFD, as TextEncoder does), and a
 * range of a string can be hashed without slicing it. Nothing is allocated.
 */

/** murmur3 fmix32: a bijective 32-bit mixer with full avalanche. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One sdbm step: h * 65599 + byte, modulo 2^32. */
function sdbm(h: number, byte: number): number {
  return (byte + (h << 6) + (h << 16) - h) | 0;
}

/** Hash of the UTF-8 encoding of `s.slice(start, end)`, without the slice. */
export function hashString(s: string, start = 0, end = s.length): number {
  let h = 0;
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = (c + (h << 6) + (h << 16) - h) | 0;
      continue;
    }
    if (c < 0x800) {
      h = sdbm(h, 0xc0 | (c >> 6));
      h = sdbm(h, 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < end ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        h = sdbm(h, 0xf0 | (cp >> 18));
        h = sdbm(h, 0x80 | ((cp >> 12) & 0x3f));
        h = sdbm(h, 0x80 | ((cp >> 6) & 0x3f));
        h = sdbm(h, 0x80 | (cp & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    h = sdbm(h, 0xe0 | (c >> 12));
    h = sdbm(h, 0x80 | ((c >> 6) & 0x3f));
    h = sdbm(h, 0x80 | (c & 0x3f));
  }
  return mix32(h);
}

/** Hash of raw bytes (same result as hashString for the string those bytes encode). */
export function hashBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (bytes[i] + (h << 6) + (h << 16) - h) | 0;
  return mix32(h);
}
