import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControllerMessageSchema, DataplaneMessageSchema, decodeMessage, encodeMessage, HelloSchema, PROTOCOL_VERSION } from './messages.ts';

const hello = { type: 'hello', protocol: PROTOCOL_VERSION, node: 'dp-a', lastVersion: null };

describe('control channel messages: stick-table peers', () => {
  it('hello.peer is optional, null, or a ws:// or wss:// URL', () => {
    for (const peer of [undefined, null, { url: 'ws://10.0.0.5:7946/' }, { url: 'wss://dp-a.example:7946' }, { url: 'ws://[fd00::5]:7946/' }]) {
      const message = peer === undefined ? hello : { ...hello, peer };
      const decoded = decodeMessage(DataplaneMessageSchema, JSON.stringify(message));
      assert.ok(decoded.ok, `${JSON.stringify(peer)}: ${decoded.ok ? '' : decoded.error}`);
      assert.deepEqual(decoded.message, message);
    }
    const cases: [unknown, RegExp][] = [
      [{ url: 'http://10.0.0.5:7946/' }, /^peer\.url: must be a ws:\/\/ or wss:\/\/ URL/],
      [{ url: 'not a url' }, /^peer\.url: must be a ws:\/\/ or wss:\/\/ URL/],
      [{ url: '' }, /^peer\.url: /],
      [{ url: `ws://${'a'.repeat(2048)}/` }, /^peer\.url: /],
      [{ url: 'ws://x:1/', extra: 1 }, /^peer: /],
      ['ws://x:1/', /^peer: /],
    ];
    for (const [peer, error] of cases) {
      const decoded = decodeMessage(HelloSchema, JSON.stringify({ ...hello, peer }));
      assert.ok(!decoded.ok, JSON.stringify(peer));
      assert.match(decoded.error, error);
    }
  });

  it('peers lists the other data planes with their URLs, and round-trips', () => {
    const message = { type: 'peers' as const, peers: [{ node: 'dp-b', url: 'ws://10.0.0.6:7946/' }] };
    const decoded = decodeMessage(ControllerMessageSchema, encodeMessage(message));
    assert.deepEqual(decoded, { ok: true, message });
    assert.deepEqual(decodeMessage(ControllerMessageSchema, JSON.stringify({ type: 'peers', peers: [] })), { ok: true, message: { type: 'peers', peers: [] } });
    const cases: [unknown, RegExp][] = [
      [{ type: 'peers' }, /^peers: /],
      [{ type: 'peers', peers: [{ node: '', url: 'ws://x:1/' }] }, /^peers\[0\]\.node: /],
      [{ type: 'peers', peers: [{ node: 'dp-b' }] }, /^peers\[0\]\.url: /],
      [{ type: 'peers', peers: [{ node: 'dp-b', url: 'tcp://x:1' }] }, /^peers\[0\]\.url: must be a ws:\/\/ or wss:\/\/ URL/],
    ];
    for (const [json, error] of cases) {
      const decoded = decodeMessage(ControllerMessageSchema, JSON.stringify(json));
      assert.ok(!decoded.ok, JSON.stringify(json));
      assert.match(decoded.error, error);
    }
  });
});
