import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { advertiseUrl, parseHostPort } from './address.ts';
import { LagWindow } from './lag.ts';
import { newInstanceId, originOf, parseOrigin } from './origin.ts';

describe('origins', () => {
  it('name the node, the process instance and the thread, and parse back', () => {
    const instance = newInstanceId();
    assert.match(instance, /^[0-9a-f]{12}$/);
    assert.notEqual(newInstanceId(), instance);
    assert.equal(originOf('dp-a', 'abc', 0), 'dp-a/abc/w0');
    assert.equal(originOf('dp-a', 'abc', 3), 'dp-a/abc/w3');
    assert.equal(originOf('dp-a', 'abc', 'main'), 'dp-a/abc/main');
    assert.deepEqual(parseOrigin('dp-a/abc/w1'), { node: 'dp-a', instance: 'abc', thread: 'w1' });
    assert.deepEqual(parseOrigin('odd/name/abc/w1'), { node: 'odd/name', instance: 'abc', thread: 'w1' });
    for (const bad of ['', 'dp-a', 'dp-a/abc', '/abc/w1', 'dp-a//w1', 'dp-a/abc/']) assert.equal(parseOrigin(bad), null, bad);
  });
});

describe('LagWindow', () => {
  it('summarises the most recent samples in bounded memory, counting every sample', () => {
    const lag = new LagWindow(100);
    assert.deepEqual(lag.summary(), { count: 0, p50: null, p99: null, max: null });
    for (let i = 1; i <= 100; i++) lag.record(i);
    assert.deepEqual(lag.summary(), { count: 100, p50: 50, p99: 99, max: 100 });
    // 100 more, larger: the first hundred have left the window.
    for (let i = 1; i <= 100; i++) lag.record(1000 + i);
    assert.deepEqual(lag.summary(), { count: 200, p50: 1050, p99: 1099, max: 1100 });
    lag.record(-5); // clock skew between hosts
    assert.equal(lag.summary().count, 201);
    assert.throws(() => new LagWindow(0), /capacity/);
  });
});

describe('peer addresses', () => {
  it('parses HOST:PORT, [V6]:PORT and :PORT, naming what is wrong', () => {
    assert.deepEqual(parseHostPort('10.0.0.5:7946'), { host: '10.0.0.5', port: 7946 });
    assert.deepEqual(parseHostPort('[::1]:7946'), { host: '::1', port: 7946 });
    assert.deepEqual(parseHostPort(':7946'), { host: '0.0.0.0', port: 7946 });
    assert.deepEqual(parseHostPort('localhost:0'), { host: 'localhost', port: 0 });
    assert.deepEqual(parseHostPort('7946'), { error: '"7946" is not HOST:PORT' });
    assert.deepEqual(parseHostPort('a:99999'), { error: '"a:99999": port 99999 is out of range' });
    assert.deepEqual(parseHostPort('::1:80'), { error: '"::1:80" is not HOST:PORT' });
  });

  it('advertises the bound address, or for a wildcard one $POD_IP', () => {
    assert.equal(advertiseUrl('10.0.0.5', 7946, {}), 'ws://10.0.0.5:7946/');
    assert.equal(advertiseUrl('::1', 7946, {}), 'ws://[::1]:7946/');
    assert.equal(advertiseUrl('0.0.0.0', 7946, { POD_IP: '10.1.2.3' }), 'ws://10.1.2.3:7946/');
    assert.equal(advertiseUrl('::', 7946, { POD_IP: 'fd00::5' }), 'ws://[fd00::5]:7946/');
    assert.match(advertiseUrl('0.0.0.0', 7946, {}), /^ws:\/\/[0-9.]+:7946\/$/);
  });
});
