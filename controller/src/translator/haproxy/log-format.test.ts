import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ir } from '@switchyard/api';
import { parseLogFormat } from './log-format.ts';
import type { Phase } from './phase.ts';
import { errorOf, NO_TABLE } from './testing.ts';

const ANY: Phase = { allows: 'response', where: 'the access log' };
const TCP: Phase = { allows: 'none', where: 'a Frontend in mode tcp' };
const parse = (text: string, phase: Phase = ANY): ir.LogFormat => parseLogFormat(text, NO_TABLE, phase);
const error = (text: string, phase: Phase = ANY): string => errorOf(() => parse(text, phase));

test('text, %% and variables, longest name first', () => {
  assert.deepEqual(parse('%ci:%cp [%tr] %Tr/%Ta %T %ST 100%%'), [
    { kind: 'var', name: 'ci', quote: false },
    { kind: 'text', text: ':' },
    { kind: 'var', name: 'cp', quote: false },
    { kind: 'text', text: ' [' },
    { kind: 'var', name: 'tr', quote: false },
    { kind: 'text', text: '] ' },
    { kind: 'var', name: 'Tr', quote: false },
    { kind: 'text', text: '/' },
    { kind: 'var', name: 'Ta', quote: false },
    { kind: 'text', text: ' ' },
    { kind: 'var', name: 'T', quote: false },
    { kind: 'text', text: ' ' },
    { kind: 'var', name: 'ST', quote: false },
    { kind: 'text', text: ' 100%' },
  ]);
  assert.deepEqual(parse('%tsc%hrl'), [
    { kind: 'var', name: 'tsc', quote: false },
    { kind: 'var', name: 'hrl', quote: false },
  ]);
  assert.deepEqual(parse(''), []);
  assert.deepEqual(parse('plain'), [{ kind: 'text', text: 'plain' }]);
});

test('samples and the +Q flag', () => {
  assert.deepEqual(parse('/v2%[path]'), [
    { kind: 'text', text: '/v2' },
    { kind: 'sample', sample: { fetch: 'path', args: [], converters: [] }, quote: false },
  ]);
  assert.deepEqual(parse('%{+Q}[hdr(host),lower] %{+Q}r %{-Q}ci'), [
    { kind: 'sample', sample: { fetch: 'req.hdr', args: ['host'], converters: [{ name: 'lower', args: [] }] }, quote: true },
    { kind: 'text', text: ' ' },
    { kind: 'var', name: 'r', quote: true },
    { kind: 'text', text: ' ' },
    { kind: 'var', name: 'ci', quote: false },
  ]);
  assert.deepEqual(parse('%[path,regsub("[]]",x)]!')[0], {
    kind: 'sample',
    sample: { fetch: 'path', args: [], converters: [{ name: 'regsub', args: ['[]]', 'x'] }] },
    quote: false,
  });
});

test('errors carry the column', () => {
  assert.equal(error('%ci %Qx'), 'column 5: unknown log-format variable %Qx');
  assert.equal(error('%cz'), 'column 1: unknown log-format variable %cz (did you mean %ci?)');
  assert.equal(error('%Sx'), 'column 1: unknown log-format variable %Sx (did you mean %si?)');
  assert.equal(error('50%'), 'column 3: "%" must be followed by a variable, a [sample] or another "%" (write %% for a literal %)');
  assert.equal(error('a %[src'), 'column 4: unclosed "[": a sample ends with "]"');
  assert.equal(error('a %[pth]'), 'column 5: unknown fetch "pth" (did you mean path?)');
  assert.equal(error('%{+Q'), 'column 2: unclosed "{" of log-format flags');
  assert.equal(error('%{+Q,+X}ci'), 'column 6: unsupported log-format flag "+X"; only +Q (quote) and -Q are supported');
  assert.equal(error('%ci %[path]', TCP), 'column 7: path reads the HTTP request, which is not available in a Frontend in mode tcp');
});
