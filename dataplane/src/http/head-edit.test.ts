import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addHeader, delHeader, deleteHeaderAt, setHeader, setHeaderValueAt, setTarget } from './head-edit.ts';
import { MessageHead, parseRequestHead, parseResponseHead } from './message-head.ts';

function request(text: string): MessageHead {
  const head = new MessageHead();
  assert.equal(parseRequestHead(text, head), null);
  return head;
}

test('set-header replaces every occurrence in place and keeps other lines byte for byte', () => {
  const head = request('GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-keep:  spaced \r\nX-a: 2\r\n\r\n');
  assert.equal(setHeader(head, 'X-A', 'new'), null);
  assert.equal(head.text, 'GET / HTTP/1.1\r\nHost: a\r\nX-A: new\r\nx-keep:  spaced \r\n\r\n');
  assert.equal(head.header('x-a'), 'new');
  assert.equal(head.count, 3);
});

test('add-header appends; del-header removes all; both re-derive Host and framing', () => {
  const head = request('POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n');
  assert.equal(addHeader(head, 'X-Forwarded-Proto', 'https'), null);
  assert.match(head.text, /X-Forwarded-Proto: https\r\n\r\n$/);
  assert.equal(head.contentLength, 3);
  assert.equal(setHeader(head, 'host', 'b.example'), null);
  assert.equal(head.host, 'b.example');
  assert.equal(delHeader(head, 'x-forwarded-proto'), null);
  assert.equal(head.header('x-forwarded-proto'), undefined);
});

test('an edit that would break the head is refused and changes nothing', () => {
  const head = request('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const before = head.text;
  assert.equal(delHeader(head, 'host'), 'missing Host header');
  assert.equal(head.text, before);
  assert.equal(head.host, 'a');
  assert.equal(setHeader(head, 'x', 'bad\u0001'), 'invalid character in header value');
  assert.equal(head.text, before);
});

test('set target keeps method and version; value edits by index keep the name as sent', () => {
  const head = request('GET /old?q=1 HTTP/1.0\r\nCookie: a=1; SRV=s1\r\n\r\n');
  assert.equal(setTarget(head, '/new?q=1'), null);
  assert.equal(head.text.split('\r\n')[0], 'GET /new?q=1 HTTP/1.0');
  assert.equal(head.target, '/new?q=1');
  assert.equal(setHeaderValueAt(head, 0, 'a=1'), null);
  assert.match(head.text, /\r\nCookie: a=1\r\n/);
  assert.equal(deleteHeaderAt(head, 0), null);
  assert.equal(head.count, 0);
});

test('response heads are edited and re-parsed as responses', () => {
  const head = new MessageHead();
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n', head), null);
  assert.equal(addHeader(head, 'Set-Cookie', 'SRV=s1; path=/'), null);
  assert.equal(head.status, 200);
  assert.equal(head.header('set-cookie'), 'SRV=s1; path=/');
  assert.equal(head.contentLength, 2);
});
