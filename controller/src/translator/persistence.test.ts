import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackendSpec } from '@switchyard/api';
import { compilePersistence } from './persistence.ts';
import type { CompiledPersistence } from './persistence.ts';
import type { Problem } from './problems.ts';

const SERVERS = [
  { name: 'a', address: '10.0.0.1', port: 80, cookie: 'one' },
  { name: 'b', address: '10.0.0.2', port: 80 },
];

function compile(spec: object): CompiledPersistence & { problems: string[] } {
  const problems: Problem[] = [];
  const compiled = compilePersistence(BackendSpec.parse({ servers: SERVERS, ...spec }), 'shop', 'app', problems);
  return { ...compiled, problems: problems.map((p) => `${p.path}: ${p.message}`) };
}

test('no persistence: nothing', () => {
  assert.deepEqual(compile({}), { cookie: null, stick: null, stickTable: null, problems: [] });
});

test('cookie persistence: defaults, durations in milliseconds', () => {
  assert.deepEqual(compile({ persistence: { cookie: { name: 'SRV' } } }).cookie, {
    name: 'SRV',
    mode: 'insert',
    indirect: false,
    nocache: false,
    maxIdleMs: null,
    maxLifeMs: null,
    secure: false,
    httpOnly: false,
  });
  const c = compile({ persistence: { cookie: { name: 'SRV', indirect: true, nocache: true, maxIdle: '30m', maxLife: '1d', secure: true, httpOnly: true } } });
  assert.deepEqual(c.problems, []);
  assert.deepEqual([c.cookie!.maxIdleMs, c.cookie!.maxLifeMs, c.cookie!.indirect, c.cookie!.httpOnly], [1_800_000, 86_400_000, true, true]);
});

test('cookie persistence: mode http, valid names and values, one server per value', () => {
  assert.deepEqual(
    compile({
      mode: 'tcp',
      persistence: { cookie: { name: 'S R V', mode: 'prefix', maxLife: '1h' } },
      servers: [
        { name: 'a', address: '10.0.0.1', port: 80, cookie: 'x;y' },
        { name: 'b', address: '10.0.0.2', port: 80, cookie: 'c' },
        { name: 'c', address: '10.0.0.3', port: 80 },
      ],
    }).problems,
    [
      'spec.servers[0].cookie: must be a cookie value (no spaces, quotes, commas, semicolons or backslashes), got "x;y"',
      'spec.servers[2].name: cookie value "c" also selects spec.servers[1]; each server needs its own',
      'spec.persistence.cookie: cookie persistence needs mode http; this Backend is in mode tcp (stick on src works in mode tcp)',
      "spec.persistence.cookie.name: must be a cookie name (letters, digits and !#$%&'*+.^_`|~-), got \"S R V\"",
      'spec.persistence.cookie.maxLife: only applies to mode insert (a cookie Switchyard sets), not prefix',
    ],
  );
  // Without cookie persistence, equal values do not matter (they are not used).
  assert.deepEqual(compile({ servers: [SERVERS[0], { ...SERVERS[1], cookie: 'one' }] }).problems, []);
});

test('stick on src in mode tcp: a table of server ids, replicated by default', () => {
  const c = compile({ mode: 'tcp', persistence: { stick: { on: 'src', table: { type: 'ip', size: '100k', expire: '30m' } } } });
  assert.deepEqual(c.problems, []);
  assert.deepEqual(c.stick, { on: { fetch: 'src', args: [], converters: [] }, storeResponse: null, table: 'backend:shop/app' });
  assert.deepEqual(c.stickTable, {
    name: 'backend:shop/app',
    type: 'ip',
    keyLength: 32,
    size: 100_000,
    expireMs: 1_800_000,
    store: [{ type: 'server_id' }],
    replicate: true,
  });
});

test('stick on a request cookie, learnt from the response', () => {
  const c = compile({
    persistence: { stick: { on: 'req.cook(JSESSIONID)', storeResponse: 'res.cook(JSESSIONID)', table: { type: 'string', length: 52, size: '1m' }, replicate: false } },
  });
  assert.deepEqual(c.problems, []);
  assert.deepEqual(c.stick, {
    on: { fetch: 'req.cook', args: ['JSESSIONID'], converters: [] },
    storeResponse: { fetch: 'res.cook', args: ['JSESSIONID'], converters: [] },
    table: 'backend:shop/app',
  });
  assert.deepEqual([c.stickTable!.keyLength, c.stickTable!.replicate], [52, false]);
});

test('stick samples: where they run, what they may read, what fits the table', () => {
  assert.deepEqual(
    compile({
      persistence: { stick: { on: 'res.cook(x)', storeResponse: 'sc_conn_cur(0)', table: { type: 'ip', size: 10 } } },
    }).problems,
    [
      "spec.persistence.stick.on: column 1: res.cook reads the HTTP response, which is not available in stick on (it runs on the request) (only in httpResponse rules and a Backend's storeResponse)",
      "spec.persistence.stick.storeResponse: column 1: sc_conn_cur reads a stick counter, which a Backend's stick rules cannot read (track counters in a Frontend)",
    ],
  );
  assert.deepEqual(compile({ mode: 'tcp', persistence: { stick: { on: 'req.cook(x)', table: { type: 'string', size: 10 } } } }).problems, [
    'spec.persistence.stick.on: column 1: req.cook reads the HTTP request, which is not available in a Backend in mode tcp',
  ]);
  assert.deepEqual(compile({ persistence: { stick: { on: 'dst_port', table: { type: 'ipv6', length: 4, size: 10 } } } }).problems, [
    'spec.persistence.stick.on: dst_port yields an integer, which cannot be the key of a table of type ipv6',
    'spec.persistence.stick.table.length: only applies to tables of type string, not ipv6',
  ]);
  assert.deepEqual(compile({ persistence: { stick: { on: 'hdr(x-real-ip)', table: { type: 'ip', size: 10 } } } }).problems, [], 'text converts to an address');
});
