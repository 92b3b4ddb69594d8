import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSample, sampleText } from './sample.ts';
import { httpTx, requestHead, smp, tablesOf } from './test-support.ts';
import type { Present } from './values.ts';

const context = { tables: tablesOf() };
const tx = httpTx(requestHead('GET /Shop/Items?id=42 HTTP/1.1', 'Host: WWW.Example.com', 'X-Id: 7, 8'));

test('a sample applies its converters in order and types its output after the last one', () => {
  const host = compileSample(smp('req.hdr', ['host'], ['lower'], ['field', '1', '.']), context, 'http-request');
  assert.equal(host.value(tx), 'www');
  assert.equal(host.type, 'str');
  const id = compileSample(smp('url_param', ['id'], ['add', '1']), context, 'http-request');
  assert.equal(id.value(tx), 43);
  assert.equal(id.type, 'int');
  assert.equal(compileSample(smp('url_param', ['none'], ['add', '1']), context, 'http-request').value(tx), null, 'no value stays no value');
  assert.equal(compileSample(smp('path', [], ['field', '9', '/']), context, 'http-request').value(tx), null, 'a failing converter is no value');
});

test('matches() visits every value with the converters applied and stops at the first match', () => {
  const seen: Present[] = [];
  const anyEight = compileSample(smp('req.hdr', ['x-id'], ['mul', '2']), context, 'http-request').matches((v) => {
    seen.push(v);
    return v === 14;
  });
  assert.ok(anyEight(tx));
  assert.deepEqual(seen, [14]);
  const all: Present[] = [];
  const none = compileSample(smp('req.hdr', ['x-id'], ['mul', '2']), context, 'http-request').matches((v) => {
    all.push(v);
    return false;
  });
  assert.ok(!none(tx));
  assert.deepEqual(all, [14, 16]);
});

test('arity, unknown names and phases are checked at compile time', () => {
  assert.throws(() => compileSample(smp('req.hdr'), context, 'http-request'), /fetch 'req.hdr' takes 1 to 2 argument\(s\), got 0/);
  assert.throws(() => compileSample(smp('path', [], ['regsub', 'a']), context, 'http-request'), /converter 'regsub' takes 2 to 3/);
  assert.throws(() => compileSample(smp('toString'), context, 'http-request'), /unknown fetch 'toString'/, 'no prototype names');
  assert.throws(() => compileSample(smp('method'), context, 'tcp-request'), /needs the HTTP request/);
  assert.doesNotThrow(() => compileSample(smp('res.hdr', ['server']), context, 'log'));
  assert.equal(sampleText(smp('req.hdr', ['host'], ['lower'], ['regsub', 'a', 'b', 'g'])), 'req.hdr(host),lower,regsub(a,b,g)');
});
