import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashBytes, hashString, mix32 } from './hash-fn.ts';

function sdbmReference(bytes: Uint8Array): number {
  let h = 0;
  for (const b of bytes) h = (b + h * 65599) % 2 ** 32;
  return h;
}

describe('hash-fn', () => {
  it('is sdbm over the UTF-8 bytes followed by the avalanche step', () => {
    for (const s of ['', 'a', '/index.html', '10.0.0.1', 'x'.repeat(1000)]) {
      const bytes = Buffer.from(s, 'utf8');
      assert.equal(hashString(s), mix32(sdbmReference(bytes)), JSON.stringify(s));
    }
  });

  it('hashes a string exactly as its UTF-8 bytes, non-ASCII included', () => {
    const samples = ['héllo', '日本語', 'emoji 😀 ok', 'mixed ©®™ ÿ', '\u{10ffff}', 'lone \ud800 high', 'lone \udc00 low', 'end \ud83d'];
    for (const s of samples) assert.equal(hashString(s), hashBytes(Buffer.from(s, 'utf8')), JSON.stringify(s));
  });

  it('hashes a range without slicing', () => {
    const s = 'GET /path/to/thing?x=1';
    assert.equal(hashString(s, 4, 18), hashString(s.slice(4, 18)));
    const b = Buffer.from(s);
    assert.equal(hashBytes(b, 4, 18), hashString(s.slice(4, 18)));
  });

  it('returns unsigned 32-bit integers', () => {
    for (let i = 0; i < 1000; i++) {
      const h = hashString(`key-${i}`);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
    }
  });

  it('mix32 avalanches: one flipped input bit flips about half of the output bits', () => {
    let flipped = 0;
    let trials = 0;
    for (let x = 1; x < 2000; x++) {
      const base = mix32(x * 2654435761);
      for (let bit = 0; bit < 32; bit++) {
        let d = (base ^ mix32((x * 2654435761) ^ (1 << bit))) >>> 0;
        while (d) {
          flipped += d & 1;
          d >>>= 1;
        }
        trials++;
      }
    }
    const mean = flipped / trials;
    assert.ok(mean > 15.5 && mean < 16.5, `mean flipped bits ${mean}`);
  });

  it('spreads similar keys evenly over buckets', () => {
    const buckets = new Array<number>(64).fill(0);
    const n = 64_000;
    for (let i = 0; i < n; i++) buckets[hashString(`/user/${i}`) % 64]++;
    // Chi-square with 63 degrees of freedom: 99.9th percentile is about 104.
    const expected = n / 64;
    const chi = buckets.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    assert.ok(chi < 104, `chi-square ${chi}`);
  });
});
