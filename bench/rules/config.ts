/**
 * The rules benchmark's configuration (`npm run bench -- --rules`): 20 named ACLs and 10 rules
 * written once, as data, and rendered both as haproxy.cfg lines and as the Switchyard Frontend's
 * `acls`, `httpRequest`, `useBackends` and `httpResponse`, so the two products run the same
 * configuration. Pure (no I/O), unit-tested in config.test.ts.
 *
 * The benchmark's request (BENCH_REQUEST) is a browser-like GET of a shop page. None of the rules
 * changes its outcome: no deny fires, no use_backend matches, so it reaches the same backend as
 * without rules and is answered 200; the header rules do run (X-Client-IP, X-Lang added, X-Debug
 * and Server deleted, Strict-Transport-Security added). The conditions are ordered so that every
 * one of the 20 ACLs is evaluated for that request: an AND stops at its first false term and an OR
 * at its first true one, in both products, so each rule's terms are laid out to be all reached.
 * PROBES check before the measurement that both products' rules are live and agree.
 */

/** A named ACL (HAProxy `acl <name> <criterion>`, Switchyard `acls[]`). */
export interface AclDef {
  name: string;
  criterion: string;
  /** Whether it holds for BENCH_REQUEST (documentation, checked by the unit test's evaluation). */
  matches: boolean;
}

/** `if` or `unless` a condition in HAProxy syntax. */
export interface Guard {
  if?: string;
  unless?: string;
}

/** The backends a use_backend may name besides the default: logical names, rendered per product. */
export type ExtraBackend = 'api' | 'static';

export type RuleDef =
  | ({ phase: 'http-request'; action: 'deny'; status: number } & Guard)
  | ({ phase: 'http-request' | 'http-response'; action: 'set-header' | 'add-header'; name: string; value: string } & Guard)
  | ({ phase: 'http-request' | 'http-response'; action: 'del-header'; name: string } & Guard)
  | ({ phase: 'use-backend'; backend: ExtraBackend } & Guard);

export const ACLS: readonly AclDef[] = [
  { name: 'is_api', criterion: 'path_beg -i /api /v2 /graphql', matches: false },
  { name: 'is_static', criterion: 'path_end .css .js .png .jpg .svg .woff2', matches: false },
  { name: 'is_shop', criterion: 'path_beg /shop', matches: true },
  { name: 'is_item_page', criterion: 'path_reg ^/shop/items/[0-9]+$', matches: true },
  { name: 'is_admin_path', criterion: 'path_beg -i /admin /wp-admin /.env', matches: false },
  { name: 'host_shop', criterion: 'hdr(host) -i shop.example.com www.example.com', matches: true },
  { name: 'host_beta', criterion: 'hdr_beg(host) -i beta. staging.', matches: false },
  { name: 'internal_net', criterion: 'src 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16', matches: false },
  { name: 'blocked_net', criterion: 'src 203.0.113.0/24 198.51.100.0/24 192.0.2.0/24', matches: false },
  { name: 'loopback', criterion: 'src 127.0.0.0/8 ::1', matches: true },
  { name: 'write_method', criterion: 'method POST PUT PATCH DELETE', matches: false },
  { name: 'safe_method', criterion: 'method GET HEAD OPTIONS', matches: true },
  { name: 'debug_param', criterion: 'url_param(debug) -m found', matches: false },
  { name: 'lang_en', criterion: 'url_param(lang) -i en', matches: true },
  { name: 'has_session', criterion: 'req.cook(session) -m found', matches: true },
  { name: 'beta_cookie', criterion: 'req.cook(beta) -m str 1', matches: false },
  { name: 'dup_host', criterion: 'hdr_cnt(host) gt 1', matches: false },
  { name: 'too_many_xff', criterion: 'hdr_cnt(x-forwarded-for) gt 5', matches: false },
  { name: 'big_cookie', criterion: 'hdr_len(cookie) gt 4096', matches: false },
  { name: 'bot_ua', criterion: 'hdr_sub(user-agent) -i bot crawler spider', matches: false },
];

export const RULES: readonly RuleDef[] = [
  { phase: 'http-request', action: 'deny', status: 403, if: 'blocked_net || !internal_net is_admin_path || !is_api write_method' },
  { phase: 'http-request', action: 'deny', status: 400, if: 'dup_host || too_many_xff || big_cookie' },
  { phase: 'http-request', action: 'deny', status: 429, if: 'is_shop bot_ua' },
  { phase: 'http-request', action: 'set-header', name: 'X-Client-IP', value: '%[src]' },
  { phase: 'http-request', action: 'add-header', name: 'X-Lang', value: '%[url_param(lang)]', if: 'lang_en safe_method' },
  { phase: 'http-request', action: 'del-header', name: 'X-Debug', unless: 'loopback debug_param' },
  { phase: 'use-backend', backend: 'api', if: 'is_api || host_beta || beta_cookie' },
  { phase: 'use-backend', backend: 'static', if: 'is_static || host_shop is_item_page !has_session' },
  { phase: 'http-response', action: 'set-header', name: 'Strict-Transport-Security', value: 'max-age=63072000', unless: '{ res.hdr(strict-transport-security) -m found }' },
  { phase: 'http-response', action: 'del-header', name: 'Server' },
];

/** The request wrk sends, to every contender (with and without rules). */
export const BENCH_REQUEST = {
  method: 'GET',
  path: '/shop/items/42?lang=en&ref=home',
  headers: [
    'Host: shop.example.com',
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
    'Accept: text/html,application/xhtml+xml',
    'Accept-Language: en-US',
    'Cookie: session=7f3a9c2e41d04b5e; theme=dark',
  ],
} as const;

/** Header lines as an object, for node:http. */
export function headerObject(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line)}`);
    out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

/**
 * A request sent to every contender before the measurement, with what it must get: the plain
 * frontend answers 200 to all of them; the rules frontend denies some, and on the benchmark's
 * request adds Strict-Transport-Security and removes Server (HAProxy and Switchyard alike).
 */
export interface Probe {
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Expected status without rules, with rules. */
  status: { none: number; rules: number };
  /** Response headers that must be present (true) or absent (false) with the rules. */
  rulesHeaders?: Record<string, boolean>;
}

const benchHeaders = headerObject(BENCH_REQUEST.headers);

export const PROBES: readonly Probe[] = [
  {
    what: 'the benchmark request',
    method: 'GET',
    path: BENCH_REQUEST.path,
    headers: benchHeaders,
    status: { none: 200, rules: 200 },
    rulesHeaders: { 'strict-transport-security': true, server: false },
  },
  { what: 'an admin path from outside', method: 'GET', path: '/admin/users', headers: benchHeaders, status: { none: 200, rules: 403 } },
  { what: 'a POST outside the API', method: 'POST', path: BENCH_REQUEST.path, headers: benchHeaders, status: { none: 200, rules: 403 } },
  { what: 'a crawler on the shop', method: 'GET', path: BENCH_REQUEST.path, headers: { ...benchHeaders, 'user-agent': 'ExampleBot/1.0 (+crawler)' }, status: { none: 200, rules: 429 } },
];

/** What is wrong with a probe's answer (status, a header), or null when it is as expected. */
export function probeProblem(probe: Probe, withRules: boolean, res: { status: number; headers: Record<string, unknown> }): string | null {
  const expected = withRules ? probe.status.rules : probe.status.none;
  if (res.status !== expected) return `status ${res.status}, expected ${expected}`;
  if (!withRules) return null;
  for (const [name, present] of Object.entries(probe.rulesHeaders ?? {})) {
    const has = res.headers[name.toLowerCase()] !== undefined;
    if (has !== present) return `${present ? 'no' : 'a'} ${name} header in the response, expected ${present ? 'one' : 'none'}`;
  }
  return null;
}

/** `if cond` / `unless cond`, or nothing. */
function guardText(g: Guard): string {
  if (g.if !== undefined) return ` if ${g.if}`;
  if (g.unless !== undefined) return ` unless ${g.unless}`;
  return '';
}

/** A header value for haproxy.cfg: quoted when it holds spaces or quotes. */
function haproxyWord(value: string): string {
  return /^[^\s"'\\#]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

export function haproxyBackendName(b: ExtraBackend): string {
  return `be_${b}`;
}

export function switchyardBackendName(b: ExtraBackend): string {
  return `be-${b}`;
}

/** The extra backends the rules name, in first-use order. */
export function extraBackends(rules: readonly RuleDef[] = RULES): ExtraBackend[] {
  const out: ExtraBackend[] = [];
  for (const r of rules) if (r.phase === 'use-backend' && !out.includes(r.backend)) out.push(r.backend);
  return out;
}

/** The frontend lines for haproxy.cfg: the ACLs, then the rules in order (each kind keeps its order). */
export function haproxyRuleLines(acls: readonly AclDef[] = ACLS, rules: readonly RuleDef[] = RULES): string[] {
  const lines = acls.map((a) => `acl ${a.name} ${a.criterion}`);
  for (const r of rules) {
    const guard = guardText(r);
    if (r.phase === 'use-backend') {
      lines.push(`use_backend ${haproxyBackendName(r.backend)}${guard}`);
    } else if (r.action === 'deny') {
      lines.push(`${r.phase} deny deny_status ${r.status}${guard}`);
    } else if (r.action === 'del-header') {
      lines.push(`${r.phase} del-header ${r.name}${guard}`);
    } else {
      lines.push(`${r.phase} ${r.action} ${r.name} ${haproxyWord(r.value)}${guard}`);
    }
  }
  return lines;
}

/** The Switchyard Frontend fields the rules become (FrontendSpec's acls, httpRequest, useBackends, httpResponse). */
export interface SwitchyardRules {
  acls: { name: string; criterion: string }[];
  httpRequest: Record<string, unknown>[];
  useBackends: Record<string, unknown>[];
  httpResponse: Record<string, unknown>[];
}

function guardFields(g: Guard): Guard {
  return g.if !== undefined ? { if: g.if } : g.unless !== undefined ? { unless: g.unless } : {};
}

export function switchyardRules(acls: readonly AclDef[] = ACLS, rules: readonly RuleDef[] = RULES): SwitchyardRules {
  const out: SwitchyardRules = { acls: acls.map((a) => ({ name: a.name, criterion: a.criterion })), httpRequest: [], useBackends: [], httpResponse: [] };
  for (const r of rules) {
    if (r.phase === 'use-backend') {
      out.useBackends.push({ backend: switchyardBackendName(r.backend), ...guardFields(r) });
      continue;
    }
    const list = r.phase === 'http-request' ? out.httpRequest : out.httpResponse;
    if (r.action === 'deny') list.push({ action: 'deny', status: r.status, ...guardFields(r) });
    else if (r.action === 'del-header') list.push({ action: 'del-header', name: r.name, ...guardFields(r) });
    else list.push({ action: r.action, name: r.name, value: r.value, ...guardFields(r) });
  }
  return out;
}

/**
 * The rules as YAML lines for a Frontend's spec (two-space indented under `spec:`): each list
 * item is a JSON object, which is YAML flow syntax, so nothing needs escaping by hand.
 */
export function switchyardRuleYaml(rules: SwitchyardRules = switchyardRules()): string {
  const list = (key: string, items: readonly object[]): string =>
    items.length === 0 ? '' : `  ${key}:\n${items.map((i) => `    - ${JSON.stringify(i)}\n`).join('')}`;
  return list('acls', rules.acls) + list('httpRequest', rules.httpRequest) + list('useBackends', rules.useBackends) + list('httpResponse', rules.httpResponse);
}

// ---- what the benchmark request goes through (checks the design, not the products) ----

/**
 * Evaluates a condition in HAProxy syntax (`a !b || c`, anonymous `{ ... }` terms) from known
 * truth values, as both products do: `||` alternatives left to right, stopping at the first true
 * one; within one, the AND of its terms left to right, stopping at the first false one. Adds the
 * ACLs it evaluates to `reached`. Anonymous terms take their value from `anonymous` (by their
 * text without braces; false when absent).
 */
export function evaluateCondition(
  condition: string,
  truth: ReadonlyMap<string, boolean>,
  reached: Set<string>,
  anonymous: ReadonlyMap<string, boolean> = new Map(),
): boolean {
  const words = condition.match(/!?\{[^}]*\}|\|\||\S+/g) ?? [];
  const alternatives: string[][] = [[]];
  for (const w of words) {
    if (w === '||') alternatives.push([]);
    else alternatives[alternatives.length - 1]!.push(w);
  }
  if (alternatives.some((terms) => terms.length === 0)) throw new Error(`empty alternative in ${JSON.stringify(condition)}`);
  for (const terms of alternatives) {
    let all = true;
    for (const t of terms) {
      const negate = t.startsWith('!');
      const body = negate ? t.slice(1) : t;
      let value: boolean;
      if (body.startsWith('{')) {
        value = anonymous.get(body.slice(1, -1).trim()) ?? false;
      } else {
        const known = truth.get(body);
        if (known === undefined) throw new Error(`unknown ACL ${JSON.stringify(body)} in ${JSON.stringify(condition)}`);
        reached.add(body);
        value = known;
      }
      if (value === negate) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

export interface RequestTrace {
  /** The ACLs evaluated, in first-evaluation order. */
  reached: string[];
  /** Per rule, in order: whether its guard held (the rule acted). */
  acted: boolean[];
  /** Status of a deny that fired, or null. */
  denied: number | null;
  /** The extra backend a use_backend picked, or null for the default. */
  backend: ExtraBackend | null;
}

/**
 * What BENCH_REQUEST goes through, from the ACLs' `matches`: which ACLs are evaluated, which rules
 * act, and where it goes. The rules are run in HAProxy's order (http-request rules, then
 * use_backend, then http-response); the response has no Strict-Transport-Security of its own.
 */
export function traceBenchRequest(acls: readonly AclDef[] = ACLS, rules: readonly RuleDef[] = RULES): RequestTrace {
  const truth = new Map(acls.map((a) => [a.name, a.matches]));
  const reached = new Set<string>();
  const acted: boolean[] = [];
  let denied: number | null = null;
  let backend: ExtraBackend | null = null;
  const order = ['http-request', 'use-backend', 'http-response'] as const;
  const holds = (g: Guard): boolean =>
    g.if !== undefined ? evaluateCondition(g.if, truth, reached) : g.unless !== undefined ? !evaluateCondition(g.unless, truth, reached) : true;
  for (const phase of order) {
    for (const r of rules) {
      if (r.phase !== phase) continue;
      if (denied !== null || (phase === 'use-backend' && backend !== null)) {
        acted[rules.indexOf(r)] = false;
        continue;
      }
      const act = holds(r);
      acted[rules.indexOf(r)] = act;
      if (!act) continue;
      if (r.phase === 'use-backend') backend = r.backend;
      else if (r.action === 'deny') denied = r.status;
    }
  }
  return { reached: [...reached], acted, denied, backend };
}
