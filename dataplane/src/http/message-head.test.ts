import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageHead, findHeadEnd, parseRequestHead, parseResponseHead } from './message-head.ts';

const head = new MessageHead();
const req = (text: string): string | null => parseRequestHead(text, head);

describe('parseRequestHead', () => {
  it('reads method, target, version and the framing headers', () => {
    assert.equal(req('POST /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 12\r\nX-Thing:  v  \r\n\r\n'), null);
    assert.equal(head.method, 'POST');
    assert.equal(head.target, '/a/b?x=1');
    assert.equal(head.minor, 1);
    assert.equal(head.contentLength, 12);
    assert.equal(head.host, 'example.com');
    assert.equal(head.header('x-thing'), 'v');
    assert.equal(head.hopByHop, false);
    assert.equal(head.keepAlive, true);
  });

  it('understands connection management', () => {
    assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), null);
    assert.equal(head.keepAlive, false);
    assert.equal(head.hopByHop, true);
    assert.equal(req('GET / HTTP/1.0\r\n\r\n'), null);
    assert.equal(head.keepAlive, false);
    assert.equal(req('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'), null);
    assert.equal(head.keepAlive, true);
    assert.equal(req('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n'), null);
    assert.equal(head.connUpgrade, true);
    assert.equal(head.upgrade, 'websocket');
  });

  it('accepts chunked requests and identical repeated lengths', () => {
    assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'), null);
    assert.equal(head.chunked, true);
    assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n'), null);
    assert.equal(head.contentLength, 5);
  });

  const smuggling: [string, string][] = [
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 'both Content-Length and Transfer-Encoding'],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 'conflicting Content-Length headers'],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n', 'invalid Content-Length'],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 'invalid Content-Length'],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n', 'invalid Content-Length'],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 'unsupported Transfer-Encoding'],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'chunked applied more than once'],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 'unsupported Transfer-Encoding'],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n', 'white space before colon'],
    ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 'Transfer-Encoding in an HTTP/1.0 request'],
    ['GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n', 'obsolete line folding'],
    ['GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n', 'invalid character in header value'],
    ['GET / HTTP/1.1\r\nHost: a\r\nX: a\nY: b\r\n\r\n', 'invalid character in header value'],
    ['GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n', 'invalid character in header value'],
    ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'duplicate Host header'],
    ['GET / HTTP/1.1\r\n\r\n', 'missing Host header'],
    ['GET / HTTP/2.0\r\nHost: a\r\n\r\n', 'unsupported HTTP version'],
    ['GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 'unsupported HTTP version'],
    ['G@T / HTTP/1.1\r\nHost: a\r\n\r\n', 'invalid character in method'],
    ['GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 'malformed request line'],
    ['GET foo HTTP/1.1\r\nHost: a\r\n\r\n', 'invalid request target'],
    ['GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n', 'malformed header line'],
    ['GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n', 'malformed header line'],
  ];
  for (const [text, reason] of smuggling) {
    it(`rejects ${JSON.stringify(text)}: ${reason}`, () => {
      assert.equal(req(text), reason);
    });
  }

  it('limits the number of headers', () => {
    const many = Array.from({ length: 101 }, (_, i) => `x-${i}: v\r\n`).join('');
    assert.equal(req(`GET / HTTP/1.1\r\nHost: a\r\n${many}\r\n`), 'too many headers');
  });

  it('never throws on random input, and what it accepts has one unambiguous framing', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ['GET', ' ', '/', 'HTTP/1.1', '\r\n', '\r', '\n', 'Host', ':', 'a', 'Content-Length', 'Transfer-Encoding', 'chunked', '5', ',', '\t', '\x00', '\x7f', 'é', ' HTTP/1.0'];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      const n = 1 + rand(20);
      for (let j = 0; j < n; j++) text += pieces[rand(pieces.length)];
      text += '\r\n\r\n';
      const result = parseRequestHead(text, head);
      if (result === null) {
        accepted++;
        // Anything accepted has a valid framing decision.
        assert.ok(!(head.chunked && head.contentLength >= 0));
        assert.ok(head.minor === 0 || head.host !== '');
      }
    }
    assert.ok(accepted < 20_000);
  });
});

describe('parseResponseHead', () => {
  it('reads status and framing', () => {
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', head), null);
    assert.equal(head.status, 200);
    assert.equal(head.reason, 'OK');
    assert.equal(head.contentLength, 3);
    assert.equal(parseResponseHead('HTTP/1.1 204\r\n\r\n', head), null);
    assert.equal(head.status, 204);
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', head), null);
    assert.equal(head.chunked, true);
    assert.equal(head.otherEncoding, false);
    assert.equal(parseResponseHead('HTTP/1.0 200 OK\r\n\r\n', head), null);
    assert.equal(head.keepAlive, false);
  });

  it('rejects malformed responses', () => {
    assert.equal(parseResponseHead('HTTP/1.1 2000 OK\r\n\r\n', head), 'malformed status line');
    assert.equal(parseResponseHead('HTTP/1.1 20x OK\r\n\r\n', head), 'malformed status code');
    assert.equal(parseResponseHead('ICY 200 OK\r\n\r\n', head), 'malformed status line');
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', head), 'both Content-Length and Transfer-Encoding');
  });
});

describe('findHeadEnd', () => {
  it('finds the blank line, also when it straddles chunks', () => {
    const buf = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY');
    assert.equal(findHeadEnd(buf, 0), buf.length - 4);
    assert.equal(findHeadEnd(buf, 26), buf.length - 4);
    assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n'), 0), -1);
  });
});
