import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOG_VARIABLES } from '@switchyard/api';
import type { ir } from '@switchyard/api';
import { compileLogFormat } from './log-format.ts';
import { LOG_VARIABLE_TABLE } from './log-variables.ts';
import { httpTx, logRecord, requestHead, smp, tablesOf, tcpTx, text } from './test-support.ts';

// %t and %tr print local time: pin the zone so the expectations hold on any machine.
process.env.TZ = 'UTC';

const context = { tables: tablesOf() };

function v(name: string, quote = false): ir.LogFormatPart {
  return { kind: 'var', name, quote };
}

function s(sample: ir.Sample, quote = false): ir.LogFormatPart {
  return { kind: 'sample', sample, quote };
}

function logLine(...format: ir.LogFormatPart[]) {
  return compileLogFormat(format, context, 'log', 'log');
}

function value(...format: ir.LogFormatPart[]) {
  return compileLogFormat(format, context, 'value', 'http-request');
}

const req = requestHead('GET /index.html?x=1 HTTP/1.1', 'Host: www.example.com', 'User-Agent: curl/8');

test('every catalogue log variable is implemented', () => {
  assert.deepEqual(Object.keys(LOG_VARIABLE_TABLE).sort(), Object.keys(LOG_VARIABLES).sort());
});

test("HAProxy's HTTP log format", () => {
  // option httplog without the cookie fields: %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hrl %{+Q}r
  const format: ir.LogFormatPart[] = [
    v('ci'), text(':'), v('cp'), text(' ['), v('tr'), text('] '), v('ft'), text(' '), v('b'), text('/'), v('s'), text(' '),
    v('TR'), text('/'), v('Tw'), text('/'), v('Tc'), text('/'), v('Tr'), text('/'), v('Ta'), text(' '), v('ST'), text(' '), v('B'), text(' '),
    v('tsc'), text(' '), v('ac'), text('/'), v('fc'), text('/'), v('bc'), text('/'), v('sc'), text('/'), v('rc'), text(' '),
    v('sq'), text('/'), v('bq'), text(' '), v('hr'), text(' '), v('hrl'), text(' '), v('r', true),
  ];
  const tx = httpTx(req, { src: '::ffff:192.0.2.10', srcPort: 40000, captures: ['www.example.com', null] });
  const line = logLine(...format)(tx, logRecord({ th: 1, ti: 2 }));
  assert.equal(
    line,
    '192.0.2.10:40000 [21/Nov/2026:13:55:36.126] default/web default/app/app-1 3/0/1/12/20 200 1234 ---- 5/4/3/2/0 0/0 {www.example.com|} www.example.com - "GET /index.html?x=1 HTTP/1.1"',
  );
});

test('dates: %t local with milliseconds, %T GMT, %Ts, %ms; %ft marks TLS with ~', () => {
  const record = logRecord({ acceptedAt: Date.UTC(2026, 0, 5, 3, 4, 5, 7) });
  const tx = tcpTx({ ssl: true });
  assert.equal(logLine(v('t'))(tx, record), '05/Jan/2026:03:04:05.007');
  assert.equal(logLine(v('T'))(tx, record), '05/Jan/2026:03:04:05 +0000');
  assert.equal(logLine(v('Ts'))(tx, record), String(Math.floor(Date.UTC(2026, 0, 5, 3, 4, 5) / 1000)));
  assert.equal(logLine(v('ms'))(tx, record), '007');
  assert.equal(logLine(v('ft'))(tx, record), 'default/web~');
  assert.equal(logLine(v('f', true))(tx, record), '"default/web"');
  assert.equal(logLine(v('ST', true))(tx, record), '200', 'numbers are never quoted');
  assert.equal(logLine(v('t', true), text(' '), v('tsc', true))(tx, record), '05/Jan/2026:03:04:05.007 ----', 'nor dates and the termination state');
});

test('timers: %Tq sums Th, Ti and TR, and is -1 when the head never completed', () => {
  const tx = tcpTx();
  assert.equal(logLine(v('Tq'))(tx, logRecord({ th: 1, ti: 2, tR: 3 })), '6');
  assert.equal(logLine(v('Tq'))(tx, logRecord({ tR: -1 })), '-1');
  assert.equal(logLine(v('Tt'), text(' '), v('U'), text(' '), v('ts'))(tx, logRecord({ termination: 'CD--' })), '25 321 CD');
});

test('request line variables come from the record; <BADREQ> without a request', () => {
  const tx = httpTx(req);
  const parts = [v('HM'), text(' '), v('HU'), text(' '), v('HP'), text(' '), v('HQ'), text(' '), v('HV')];
  assert.equal(logLine(...parts)(tx, logRecord({ uri: '/a/b?c=d' })), 'GET /a/b?c=d /a/b ?c=d HTTP/1.1');
  assert.equal(logLine(v('HQ', true))(tx, logRecord({ uri: '/a' })), '""');
  assert.equal(logLine(v('r'))(tcpTx(), logRecord({ method: '', uri: '', version: '' })), '<BADREQ>');
  assert.equal(logLine(v('HU'))(tx, logRecord({ uri: '/say?"hi"#x' })), '/say?#22hi#22#23x', 'quotes and # are escaped');
});

test('samples: - when absent or empty, "" when quoted, booleans as 1/0', () => {
  const tx = httpTx(req);
  const record = logRecord();
  assert.equal(logLine(s(smp('req.hdr', ['user-agent'])))(tx, record), 'curl/8');
  assert.equal(logLine(s(smp('req.hdr', ['user-agent']), true))(tx, record), '"curl/8"');
  assert.equal(logLine(s(smp('req.hdr', ['x-missing'])))(tx, record), '-');
  assert.equal(logLine(s(smp('req.hdr', ['x-missing']), true))(tx, record), '""');
  assert.equal(logLine(s(smp('query')))(httpTx(requestHead('GET /? HTTP/1.1', 'Host: a')), record), '-', 'an empty string too');
  assert.equal(logLine(s(smp('ssl_fc')))(tx, record), '0');
  assert.equal(logLine(s(smp('path')))(tcpTx(), record), '-', 'a TCP log line has no request');
  assert.equal(logLine(v('bi'), text(':'), v('bp'))(tx, record), '-:-');
});

test('captures: %hr escapes its separators, %hrl prints - for an empty slot, nothing without captures', () => {
  const tx = httpTx(req, { captures: ['a|b', null, '{x}'] });
  assert.equal(logLine(v('hr'))(tx, logRecord()), '{a#7Cb||#7Bx#7D}');
  assert.equal(logLine(v('hrl'))(tx, logRecord()), 'a#7Cb - #7Bx#7D');
  assert.equal(logLine(v('hrl', true))(tx, logRecord()), '"a#7Cb" "" "#7Bx#7D"');
  assert.equal(logLine(text('['), v('hr'), text(']'))(httpTx(req), logRecord()), '[]');
});

test('value mode: connection variables and samples, nothing for an absent sample, controls %-encoded', () => {
  const tx = httpTx(requestHead('GET /p?q=1 HTTP/1.0', 'Host: a', 'X-Trace: abc'), { src: '::ffff:10.9.8.7', dstPort: 8080 });
  assert.equal(value(text('for='), v('ci'), text(';port='), v('fp'))(tx, null), 'for=10.9.8.7;port=8080');
  assert.equal(value(s(smp('src')))(tx, null), '10.9.8.7');
  assert.equal(value(text('['), s(smp('req.hdr', ['x-none'])), text(']'))(tx, null), '[]');
  assert.equal(value(v('HM'), text(' '), v('HU'), text(' '), v('HV'))(tx, null), 'GET /p?q=1 HTTP/1.0', 'from the current head');
  assert.equal(value(v('ST'), v('b'))(tx, null), '', 'record variables print nothing without a record');
  assert.equal(value(s(smp('url_param', ['q'], ['regsub', '1', '\\x0a'])))(tx, null), '%0A', 'a line break cannot reach a head');
  assert.equal(value(text('café'))(tx, null), 'caf\u00c3\u00a9', 'literal text is UTF-8 bytes on a latin1 head');
});

test('constant formats cost nothing per call; unknown variables are compile errors', () => {
  assert.equal(value(text('a'), text('b'))(tcpTx(), null), 'ab');
  assert.equal(value()(tcpTx(), null), '');
  assert.throws(() => logLine(v('nope')), /unknown log-format variable '%nope'/);
  assert.throws(() => logLine(s(smp('nope'))), /unknown fetch 'nope'/);
});
