import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedTracker } from './chunked.ts';

function feedAll(text: string, split = 0): { end: number; payload: string; error: string | null } {
  const t = new ChunkedTracker();
  let payload = '';
  t.onData = (b, s, e) => (payload += b.subarray(s, e).toString('latin1'));
  const buf = Buffer.from(text, 'latin1');
  if (split === 0) {
    const end = t.feed(buf, 0, buf.length);
    return { end, payload, error: t.error };
  }
  // Byte by byte (or in `split`-sized pieces) must give the same result.
  for (let i = 0; i < buf.length; i += split) {
    const end = t.feed(buf, i, Math.min(buf.length, i + split));
    if (end < 0) return { end, payload, error: t.error };
    if (t.done) return { end, payload, error: null };
  }
  return { end: buf.length, payload, error: null };
}

describe('ChunkedTracker', () => {
  const body = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n';
  it('finds the end of a chunked body and yields its payload', () => {
    const r = feedAll(body + 'NEXT');
    assert.equal(r.error, null);
    assert.equal(r.end, body.length);
    assert.equal(r.payload, 'hello world');
  });
  it('gives the same answer fed one byte at a time', () => {
    const r = feedAll(body, 1);
    assert.equal(r.end, body.length);
    assert.equal(r.payload, 'hello world');
  });
  it('accepts upper-case hex sizes', () => {
    const text = 'A\r\n0123456789\r\n0\r\n\r\n';
    assert.equal(feedAll(text).end, text.length);
  });
  const bad: [string, string][] = [
    ['x\r\n', 'invalid chunk size'],
    [' 5\r\nhello\r\n', 'invalid chunk size'],
    ['5 \r\nhello\r\n', 'invalid chunk size'],
    ['-5\r\n', 'invalid chunk size'],
    ['5\nhello\r\n', 'invalid chunk size'],
    ['5\r\nhelloX\r\n', 'chunk data not followed by CRLF'],
    ['fffffffffffffff\r\n', 'chunk size too large'],
    ['0\r\n\r\r', 'chunked body not ended by CRLF'],
  ];
  for (const [text, reason] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      const r = feedAll(text);
      assert.equal(r.end, -1);
      assert.equal(r.error, reason);
    });
  }
});
