import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECK_STATUS_NAMES, checkResult, formatDetail, isPassing } from './result.ts';

test('passing statuses are exactly the OK ones (L7OKC counts as a pass, like CHK_RES_CONDPASS)', () => {
  assert.deepEqual(CHECK_STATUS_NAMES.filter(isPassing), ['L4OK', 'L6OK', 'L7OK', 'L7OKC']);
  assert.equal(CHECK_STATUS_NAMES.length, 12);
});

test("detail follows HAProxy's check_append_info(): description, code, quoted info", () => {
  assert.equal(formatDetail('L7STS', 500, 'Internal Server Error'), 'Layer7 wrong status, code: 500, info: "Internal Server Error"');
  assert.equal(formatDetail('L4TOUT', null, null), 'Layer4 timeout');
  assert.equal(formatDetail('L4CON', null, 'Connection refused'), 'Layer4 connection problem, info: "Connection refused"');
});

test('info from the server is escaped and bounded', () => {
  const d = formatDetail('L7RSP', null, 'a"b\r\nc\\' + 'x'.repeat(500));
  assert.ok(d.startsWith('Layer7 invalid response, info: "a\\"b\\x0d\\x0ac\\\\x'));
  assert.ok(d.length < 200);
  assert.ok(!/[\r\n]/.test(d));
});

test('checkResult fills ok and code and freezes the result', () => {
  const r = checkResult('L7OK', { code: 200, info: 'OK', durationMs: 3 });
  assert.deepEqual({ ...r }, { status: 'L7OK', ok: true, code: 200, detail: 'Layer7 check passed, code: 200, info: "OK"', durationMs: 3 });
  assert.ok(Object.isFrozen(r));
  assert.equal(checkResult('SOCKERR', { durationMs: -1 }).durationMs, 0);
});
