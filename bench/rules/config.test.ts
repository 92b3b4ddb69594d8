import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseManifests, translate } from '@switchyard/controller';
import { haproxyConfig, layoutPorts, switchyardManifests } from '../contenders.ts';
import {
  ACLS,
  BENCH_REQUEST,
  evaluateCondition,
  extraBackends,
  haproxyBackendName,
  haproxyRuleLines,
  headerObject,
  PROBES,
  probeProblem,
  RULES,
  switchyardBackendName,
  switchyardRules,
  switchyardRuleYaml,
  traceBenchRequest,
  type AclDef,
  type RuleDef,
} from './config.ts';

const ports = layoutPorts(24_000);

function haproxyCfg(): string {
  return haproxyConfig({
    threads: 1,
    maxconn: 4096,
    ports,
    rules: { port: ports.haproxyRules, frontendLines: haproxyRuleLines(), backends: extraBackends().map(haproxyBackendName) },
  });
}

function switchyardYaml(): string {
  return switchyardManifests(ports, ports.switchyardRules, false, { yaml: switchyardRuleYaml(), backends: extraBackends().map(switchyardBackendName) });
}

describe('the rules configuration', () => {
  it('has 20 distinct ACLs and 10 rules', () => {
    assert.equal(ACLS.length, 20);
    assert.equal(new Set(ACLS.map((a) => a.name)).size, 20);
    assert.equal(RULES.length, 10);
    const phases = new Set(RULES.map((r) => r.phase));
    assert.deepEqual([...phases].sort(), ['http-request', 'http-response', 'use-backend']);
  });

  it('makes the benchmark request evaluate all 20 ACLs, then reach the default backend unchanged', () => {
    const trace = traceBenchRequest();
    assert.deepEqual([...trace.reached].sort(), ACLS.map((a) => a.name).sort());
    assert.equal(trace.denied, null);
    assert.equal(trace.backend, null);
    // deny x3 and use_backend x2 do not act; the header rules do.
    const acting = RULES.filter((_, i) => trace.acted[i]).map((r) => (r.phase === 'use-backend' ? 'use_backend' : `${r.phase} ${r.action}`));
    assert.deepEqual(acting, [
      'http-request set-header',
      'http-request add-header',
      'http-request del-header',
      'http-response set-header',
      'http-response del-header',
    ]);
  });

  it('says where a request that trips a rule would go', () => {
    const acls: AclDef[] = ACLS.map((a) => (a.name === 'bot_ua' ? { ...a, matches: true } : a));
    assert.equal(traceBenchRequest(acls).denied, 429);
    const beta: AclDef[] = ACLS.map((a) => (a.name === 'beta_cookie' ? { ...a, matches: true } : a));
    assert.equal(traceBenchRequest(beta).backend, 'api');
    const anonymous: AclDef[] = ACLS.map((a) => (a.name === 'has_session' ? { ...a, matches: false } : a));
    assert.equal(traceBenchRequest(anonymous).backend, 'static');
  });

  it('lists the probes with the benchmark request first, and headers as node:http wants them', () => {
    assert.equal(PROBES[0]!.path, BENCH_REQUEST.path);
    assert.deepEqual(PROBES[0]!.status, { none: 200, rules: 200 });
    assert.equal(headerObject(BENCH_REQUEST.headers).host, 'shop.example.com');
    assert.deepEqual(headerObject(['X-A:  b c ', 'Cookie: a=1; b=2']), { 'x-a': 'b c', cookie: 'a=1; b=2' });
    assert.throws(() => headerObject(['nonsense']), /not a header line/);
  });
});

describe('evaluateCondition', () => {
  const truth = new Map([
    ['t', true],
    ['f', false],
    ['u', true],
  ]);
  it('ANDs terms, stopping at the first false one', () => {
    const reached = new Set<string>();
    assert.equal(evaluateCondition('t f u', truth, reached), false);
    assert.deepEqual([...reached], ['t', 'f']);
  });
  it('ORs alternatives, stopping at the first true one, with negation', () => {
    const reached = new Set<string>();
    assert.equal(evaluateCondition('f || !f u || t', truth, reached), true);
    assert.deepEqual([...reached], ['f', 'u']);
  });
  it('takes anonymous terms from their text, false by default', () => {
    const reached = new Set<string>();
    assert.equal(evaluateCondition('{ status 200 }', truth, reached, new Map([['status 200', true]])), true);
    assert.equal(evaluateCondition('!{ res.hdr(x) -m found }', truth, reached), true);
    assert.equal(reached.size, 0);
  });
  it('rejects unknown ACLs and empty alternatives', () => {
    assert.throws(() => evaluateCondition('nope', truth, new Set()), /unknown ACL "nope"/);
    assert.throws(() => evaluateCondition('t ||', truth, new Set()), /empty alternative/);
  });
});

describe('rendering', () => {
  const sample: RuleDef[] = [
    { phase: 'http-request', action: 'deny', status: 403, if: 'a || !b' },
    { phase: 'http-request', action: 'set-header', name: 'X-Via', value: 'proxy %[req.ver]', unless: 'b' },
    { phase: 'http-request', action: 'del-header', name: 'X-Debug' },
    { phase: 'use-backend', backend: 'api', if: 'a' },
    { phase: 'http-response', action: 'add-header', name: 'X-Q', value: 'say "hi"' },
  ];
  const acls: AclDef[] = [
    { name: 'a', criterion: 'path_beg /a', matches: false },
    { name: 'b', criterion: 'src 10.0.0.0/8', matches: false },
  ];

  it('writes haproxy.cfg lines, quoting values with spaces or quotes', () => {
    assert.deepEqual(haproxyRuleLines(acls, sample), [
      'acl a path_beg /a',
      'acl b src 10.0.0.0/8',
      'http-request deny deny_status 403 if a || !b',
      'http-request set-header X-Via "proxy %[req.ver]" unless b',
      'http-request del-header X-Debug',
      'use_backend be_api if a',
      'http-response add-header X-Q "say \\"hi\\""',
    ]);
  });

  it('writes the Switchyard Frontend fields, one list per kind', () => {
    assert.deepEqual(switchyardRules(acls, sample), {
      acls: [
        { name: 'a', criterion: 'path_beg /a' },
        { name: 'b', criterion: 'src 10.0.0.0/8' },
      ],
      httpRequest: [
        { action: 'deny', status: 403, if: 'a || !b' },
        { action: 'set-header', name: 'X-Via', value: 'proxy %[req.ver]', unless: 'b' },
        { action: 'del-header', name: 'X-Debug' },
      ],
      useBackends: [{ backend: 'be-api', if: 'a' }],
      httpResponse: [{ action: 'add-header', name: 'X-Q', value: 'say "hi"' }],
    });
    const yaml = switchyardRuleYaml(switchyardRules(acls, sample));
    assert.match(yaml, /^ {2}acls:\n {4}- \{"name":"a","criterion":"path_beg \/a"\}\n/);
    assert.match(yaml, /\n {2}useBackends:\n {4}- \{"backend":"be-api","if":"a"\}\n/);
  });

  it('puts the rules in the HTTP frontend of a HAProxy configuration without the tcp frontend', () => {
    const cfg = haproxyCfg();
    assert.match(cfg, /bind 127\.0\.0\.1:24012\n/);
    assert.match(cfg, /\n {2}acl is_api path_beg -i \/api \/v2 \/graphql\n/);
    assert.match(cfg, /\n {2}http-response del-header Server\n {2}default_backend be_http\n/);
    assert.match(cfg, /\nbackend be_api\n {2}mode http\n/);
    assert.match(cfg, /\nbackend be_static\n/);
    assert.doesNotMatch(cfg, /fe_tcp/);
    assert.match(haproxyConfig({ threads: 1, maxconn: 4096, ports }), /frontend fe_tcp/);
  });

  it('gives a Switchyard configuration the translator accepts without a single error', () => {
    const { objects, errors } = parseManifests(switchyardYaml(), 'bench.yaml');
    assert.deepEqual(errors, []);
    const { results } = translate({ objects });
    assert.equal(results.length, 4); // be-http, be-api, be-static, fe-http
    for (const r of results) assert.deepEqual(r.errors, [], `${JSON.stringify(r)}`);
  });

  it('gives a configuration haproxy -c accepts without warnings (when haproxy is installed)', (t) => {
    const which = spawnSync('sh', ['-c', 'command -v haproxy || ls /usr/sbin/haproxy'], { encoding: 'utf8' });
    const haproxy = which.status === 0 ? which.stdout.trim().split('\n')[0]! : '';
    if (haproxy === '') {
      t.skip('haproxy is not installed');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'bench-rules-test-'));
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), haproxyCfg());
      const r = spawnSync(haproxy, ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.doesNotMatch(r.stderr + r.stdout, /WARNING|ALERT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('probeProblem', () => {
  const bench = PROBES[0]!;
  const admin = PROBES[1]!;
  it('accepts the expected answers', () => {
    assert.equal(probeProblem(bench, false, { status: 200, headers: { server: 'nginx' } }), null);
    assert.equal(probeProblem(bench, true, { status: 200, headers: { 'strict-transport-security': 'max-age=63072000' } }), null);
    assert.equal(probeProblem(admin, true, { status: 403, headers: {} }), null);
  });
  it('says what differs', () => {
    assert.equal(probeProblem(admin, false, { status: 403, headers: {} }), 'status 403, expected 200');
    assert.equal(probeProblem(bench, true, { status: 200, headers: {} }), 'no strict-transport-security header in the response, expected one');
    assert.equal(
      probeProblem(bench, true, { status: 200, headers: { 'strict-transport-security': 'x', server: 'nginx' } }),
      'a server header in the response, expected none',
    );
  });
});
