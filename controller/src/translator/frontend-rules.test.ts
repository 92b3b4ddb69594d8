import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrontendSpec } from '@switchyard/api';
import type { BackendLookup } from './backend-ref.ts';
import { compileFrontendRules } from './frontend-rules.ts';
import type { CompiledFrontendRules } from './frontend-rules.ts';

const BACKENDS: Record<string, BackendLookup> = {
  web: { state: 'ok', cluster: 'shop/web', mode: 'http' },
  db: { state: 'ok', cluster: 'shop/db', mode: 'tcp' },
  broken: { state: 'not-served', why: 'is not accepted' },
};
const lookup = (name: string): BackendLookup => BACKENDS[name] ?? { state: 'missing' };

function compile(spec: object): CompiledFrontendRules {
  return compileFrontendRules(FrontendSpec.parse({ binds: [{ port: 80 }], ...spec }), 'shop', 'www', lookup);
}
/** Problems as `path: message`. */
function problems(spec: object): string[] {
  return compile(spec).problems.map((p) => `${p.path}: ${p.message}`);
}

test('no rules: null; empty lists count as none; ACLs alone make empty rules', () => {
  assert.equal(compile({}).rules, null);
  assert.equal(compile({ acls: [], httpRequest: [], useBackends: [] }).rules, null);
  assert.deepEqual(compile({ acls: [{ name: 'a', criterion: 'path /' }] }).rules, {
    httpRequest: [],
    httpResponse: [],
    tcpRequest: [],
    useBackends: [],
    captures: 0,
    log: null,
  });
  assert.deepEqual(compile({ log: { format: '%ci' } }).rules?.log, [{ kind: 'var', name: 'ci', quote: false }]);
});

test('errors carry the field path and the column', () => {
  assert.deepEqual(
    problems({
      stickTable: { type: 'ip', size: '100k', store: ['http_req_rate(10s)'] },
      httpRequest: [{ action: 'track-sc0', key: 'src' }, { action: 'deny', status: 429, if: '{ sc_http_rq_rate(0) gt 100 }' }],
    }),
    ['spec.httpRequest[1].if: column 3: unknown fetch "sc_http_rq_rate" (did you mean sc_http_req_rate?)'],
  );
});

test('an ACL with an error is reported where it is defined, not where it is used', () => {
  assert.deepEqual(
    problems({
      acls: [
        { name: 'a', criterion: 'path_beg' },
        { name: 'b c', criterion: 'path /' },
      ],
      httpRequest: [{ action: 'deny', if: 'a' }, { action: 'allow', unless: 'a' }],
    }),
    [
      'spec.acls[0].criterion: column 1: path_beg has no pattern to compare with, so it would never match; add a pattern, or use -m found to test that it exists',
      'spec.acls[1].name: ACL name "b c": may hold letters, digits and _ . : - only',
    ],
  );
  assert.deepEqual(problems({ acls: [{ name: 'or', criterion: 'path /' }] }), ['spec.acls[0].name: ACL name "or": "or" separates alternatives in conditions']);
});

test('captures are numbered in order', () => {
  const rules = compile({
    httpRequest: [
      { action: 'capture', sample: 'hdr(host)', length: 32 },
      { action: 'allow' },
      { action: 'capture', sample: 'path', length: 64, if: 'METH_GET' },
    ],
  }).rules!;
  assert.equal(rules.captures, 2);
  assert.deepEqual(
    rules.httpRequest.map((r) => (r.action === 'capture' ? r.slot : null)),
    [0, null, 1],
  );
});

test('useBackends resolve like defaultBackend; an unusable one is left out and the rest works', () => {
  const compiled = compile({
    useBackends: [
      { backend: 'nowhere', if: '{ path /a }' },
      { backend: 'db', if: '{ path /b }' },
      { backend: 'broken' },
      { backend: 'web', unless: '{ path /c }' },
    ],
  });
  assert.deepEqual(compiled.problems, []);
  assert.deepEqual(
    compiled.refProblems.map((p) => [p.path, p.reason, p.message]),
    [
      ['spec.useBackends[0].backend', 'RefNotFound', 'Backend "nowhere" not found in namespace "shop"'],
      ['spec.useBackends[1].backend', 'Invalid', 'Backend "db" is in mode tcp but this Frontend is in mode http'],
      ['spec.useBackends[2].backend', 'RefNotAccepted', 'Backend "broken" is not accepted'],
    ],
  );
  assert.deepEqual(
    compiled.rules!.useBackends.map((u) => [u.cluster, u.condition?.unless]),
    [['shop/web', true]],
  );
});

test('mode tcp: no http rules, no HTTP fetches; tcpRequest in mode http sees only the connection', () => {
  assert.deepEqual(
    problems({
      mode: 'tcp',
      httpRequest: [{ action: 'allow' }],
      httpResponse: [{ action: 'del-header', name: 'Server' }],
      tcpRequest: [{ action: 'reject', if: '{ req.ver 1.1 }' }],
      useBackends: [{ backend: 'db', if: 'METH_GET' }],
    }),
    [
      'spec.httpRequest: httpRequest rules act on HTTP messages and need mode http; this Frontend is in mode tcp',
      'spec.httpResponse: httpResponse rules act on HTTP messages and need mode http; this Frontend is in mode tcp',
      'spec.tcpRequest[0].if: column 3: req.ver reads the HTTP request, which is not available in a Frontend in mode tcp',
      'spec.useBackends[0].if: column 1: predefined ACL METH_GET: method reads the HTTP request, which is not available in a Frontend in mode tcp',
    ],
  );
  assert.deepEqual(problems({ tcpRequest: [{ action: 'reject', if: '{ path /x }' }] }), [
    'spec.tcpRequest[0].if: column 3: path reads the HTTP request, which is not available in tcpRequest rules (they run before the HTTP request is parsed)',
  ]);
  assert.deepEqual(problems({ tcpRequest: [{ action: 'reject', unless: '{ src 10.0.0.0/8 }' }] }), []);
});

test('response fetches only in httpResponse rules; request fetches there too', () => {
  assert.deepEqual(
    problems({
      httpResponse: [{ action: 'set-header', name: 'X-Path', value: '%[path]', if: '{ status 200 } { res.hdr(x) -m found }' }],
      httpRequest: [{ action: 'set-header', name: 'X', value: '%[res.hdr(x)]' }],
      useBackends: [{ backend: 'web', if: '{ status 200 }' }],
    }),
    [
      "spec.httpRequest[0].value: column 3: res.hdr reads the HTTP response, which is not available in httpRequest rules (only in httpResponse rules and a Backend's storeResponse)",
      "spec.useBackends[0].if: column 3: status reads the HTTP response, which is not available in useBackends conditions (only in httpResponse rules and a Backend's storeResponse)",
    ],
  );
});

test("bare header fetches in httpResponse rules are refused: HAProxy reads the response there, these read the request", () => {
  assert.deepEqual(
    problems({
      acls: [{ name: 'json', criterion: 'hdr_sub(content-type) json' }],
      httpResponse: [
        { action: 'set-header', name: 'X-A', value: '%[hdr(x)]' },
        { action: 'del-header', name: 'X-B', if: '{ hdr_cnt(x) gt 0 }' },
        { action: 'del-header', name: 'X-C', if: 'json' },
        { action: 'set-header', name: 'X-D', value: '%[req.hdr(host)]', if: '{ res.hdr(content-type) -m sub json }' },
      ],
      httpRequest: [{ action: 'set-header', name: 'X-E', value: '%[hdr(host)]', if: 'json' }],
    }),
    [
      "spec.httpResponse[0].value: column 3: hdr reads the response in HAProxy's http-response rules but would read the request here: write res.hdr() for the response, or req.hdr() for the request",
      "spec.httpResponse[1].if: column 3: hdr_cnt reads the response in HAProxy's http-response rules but would read the request here: write res.hdr() for the response, or req.hdr_cnt() for the request",
      "spec.httpResponse[2].if: column 1: ACL json (spec.acls[0]): hdr_sub reads the response in HAProxy's http-response rules but would read the request here: write res.hdr() for the response, or req.hdr() for the request",
    ],
  );
});

test('track-sc needs the stick table, keys it with a fitting sample, and names it', () => {
  assert.deepEqual(problems({ tcpRequest: [{ action: 'track-sc2', key: 'src' }] }), ['spec.tcpRequest[0].action: track-sc2 needs spec.stickTable (this Frontend has none)']);
  assert.deepEqual(problems({ stickTable: { type: 'integer', size: 10 }, httpRequest: [{ action: 'track-sc0', key: 'src' }] }), [
    'spec.httpRequest[0].key: src yields an IP address, which cannot be the key of a table of type integer',
  ]);
  const compiled = compile({ stickTable: { type: 'string', size: 10 }, httpRequest: [{ action: 'track-sc1', key: 'hdr(x-api-key)' }] });
  assert.deepEqual(compiled.rules!.httpRequest[0], {
    action: 'track-sc',
    counter: 1,
    key: { fetch: 'req.hdr', args: ['x-api-key'], converters: [] },
    table: 'frontend:shop/www',
    condition: null,
  });
});

test('the stick table: parsed store sorted by type, size, expiry, key length, replication on by default', () => {
  assert.deepEqual(compile({ stickTable: { type: 'ip', size: '100k', expire: '30s', store: ['http_req_rate(10s)', 'conn_cur,bytes_out_rate(1m)'] } }).stickTable, {
    name: 'frontend:shop/www',
    type: 'ip',
    keyLength: 32,
    size: 100_000,
    expireMs: 30_000,
    store: [{ type: 'bytes_out_rate', periodMs: 60_000 }, { type: 'conn_cur' }, { type: 'http_req_rate', periodMs: 10_000 }],
    replicate: true,
  });
  const t = compile({ stickTable: { type: 'string', length: 64, size: 1, replicate: false } }).stickTable!;
  assert.deepEqual([t.keyLength, t.expireMs, t.store, t.replicate], [64, null, [], false]);
  assert.deepEqual(problems({ stickTable: { type: 'ip', length: 8, size: 0, expire: '0s', store: ['conn_cur', 'gpc0,conn_cur'] } }), [
    'spec.stickTable.store[1]: conn_cur is already stored by spec.stickTable.store[0]',
    'spec.stickTable.size: must be at least 1, got 0',
    'spec.stickTable.length: only applies to tables of type string, not ip',
    'spec.stickTable.expire: must be greater than 0, got "0s"',
  ]);
  assert.equal(compile({ stickTable: { type: 'ip', size: 0 } }).stickTable, null, 'nothing is produced for a Frontend with problems');
});

test('rule fields: if and unless, header names, redirect targets', () => {
  assert.deepEqual(
    problems({
      httpRequest: [
        { action: 'allow', if: 'TRUE', unless: 'FALSE' },
        { action: 'del-header', name: 'X Y' },
        { action: 'redirect', scheme: 'https', prefix: '/x' },
        { action: 'redirect' },
        { action: 'redirect', scheme: 'ht tps' },
        { action: 'redirect', location: ' ' },
        { action: 'set-path', value: '%[pth]' },
      ],
      httpResponse: [{ action: 'add-header', name: 'X:', value: 'v' }],
    }),
    [
      'spec.httpRequest[0].unless: use either if or unless, not both',
      "spec.httpRequest[1].name: must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-), got \"X Y\"",
      'spec.httpRequest[2].prefix: takes one of scheme, location or prefix, got scheme and prefix',
      'spec.httpRequest[3]: needs one of scheme, location or prefix',
      'spec.httpRequest[4].scheme: must be a URL scheme such as https, got "ht tps"',
      'spec.httpRequest[5].location: must not be empty',
      'spec.httpRequest[6].value: column 3: unknown fetch "pth" (did you mean path?)',
      "spec.httpResponse[0].name: must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-), got \"X:\"",
    ],
  );
  const redirect = compile({ httpRequest: [{ action: 'redirect', location: 'https://%[hdr(host)]%[path]', code: 308 }] }).rules!.httpRequest[0]!;
  assert.equal(redirect.action, 'redirect');
  assert.deepEqual(redirect.action === 'redirect' && [redirect.type, redirect.code, redirect.value.map((p) => p.kind)], ['location', 308, ['text', 'sample', 'sample']]);
});
