/**
 * Backend persistence -> ir.Cluster.cookie, ir.Cluster.stick and the Backend's stick table
 * (`backend:namespace/name`, storing the server id of each key).
 */
import type { BackendSpec, ir } from '@switchyard/api';
import { ParseError } from './haproxy/parse-error.ts';
import type { Phase } from './haproxy/phase.ts';
import { parseSampleField } from './haproxy/sample.ts';
import type { ParsedSample, SampleEnv } from './haproxy/sample.ts';
import { invalid, positiveDuration } from './problems.ts';
import type { Problem } from './problems.ts';
import { buildStickTable, keyProblem } from './stick-table.ts';

export interface CompiledPersistence {
  cookie: ir.CookiePersistence | null;
  stick: ir.StickPersistence | null;
  stickTable: ir.StickTable | null;
}

/** RFC 6265 cookie-name (a token) and cookie-value characters. */
const COOKIE_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const COOKIE_VALUE_RE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/;

const NO_COUNTERS: SampleEnv = { stick: { kind: 'none', why: "a Backend's stick rules cannot read (track counters in a Frontend)" } };

/** Server cookie values: valid characters, and one server per value once cookie persistence is on (a server without one uses its name). */
function checkServerCookies(spec: BackendSpec, problems: Problem[]): void {
  const owner = new Map<string, number>();
  spec.servers.forEach((s, i) => {
    if (s.cookie !== undefined && !COOKIE_VALUE_RE.test(s.cookie)) {
      problems.push(invalid(`spec.servers[${i}].cookie`, `must be a cookie value (no spaces, quotes, commas, semicolons or backslashes), got ${JSON.stringify(s.cookie)}`));
      return;
    }
    if (!spec.persistence?.cookie) return;
    const value = s.cookie ?? s.name;
    const first = owner.get(value);
    if (first === undefined) owner.set(value, i);
    else {
      const field = s.cookie === undefined ? 'name' : 'cookie';
      problems.push(invalid(`spec.servers[${i}].${field}`, `cookie value ${JSON.stringify(value)} also selects spec.servers[${first}]; each server needs its own`));
    }
  });
}

function compileCookie(spec: BackendSpec, problems: Problem[]): ir.CookiePersistence | null {
  const c = spec.persistence?.cookie;
  if (!c) return null;
  const path = 'spec.persistence.cookie';
  if (spec.mode === 'tcp') problems.push(invalid(path, 'cookie persistence needs mode http; this Backend is in mode tcp (stick on src works in mode tcp)'));
  if (!COOKIE_NAME_RE.test(c.name)) problems.push(invalid(`${path}.name`, `must be a cookie name (letters, digits and !#$%&'*+.^_\`|~-), got ${JSON.stringify(c.name)}`));
  const lifetime = (field: 'maxIdle' | 'maxLife'): number | null => {
    const text = c[field];
    if (text === undefined) return null;
    if (c.mode !== 'insert') problems.push(invalid(`${path}.${field}`, `only applies to mode insert (a cookie Switchyard sets), not ${c.mode}`));
    return positiveDuration(text, `${path}.${field}`, problems);
  };
  return {
    name: c.name,
    mode: c.mode,
    indirect: c.indirect,
    nocache: c.nocache,
    maxIdleMs: lifetime('maxIdle'),
    maxLifeMs: lifetime('maxLife'),
    secure: c.secure,
    httpOnly: c.httpOnly,
  };
}

function stickSample(source: string, path: string, phase: Phase, table: ir.StickTable['type'], problems: Problem[]): ParsedSample | null {
  try {
    const parsed = parseSampleField(source, NO_COUNTERS, phase);
    const problem = keyProblem(parsed.text, parsed.type, table);
    if (problem) problems.push(invalid(path, problem));
    return parsed;
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    problems.push(invalid(path, `column ${e.column}: ${e.message}`));
    return null;
  }
}

function compileStick(spec: BackendSpec, name: string, problems: Problem[]): { stick: ir.StickPersistence; table: ir.StickTable } | null {
  const s = spec.persistence?.stick;
  if (!s) return null;
  const path = 'spec.persistence.stick';
  const tcp: Phase = { allows: 'none', where: 'a Backend in mode tcp' };
  const onPhase: Phase = spec.mode === 'http' ? { allows: 'request', where: 'stick on (it runs on the request)' } : tcp;
  const responsePhase: Phase = spec.mode === 'http' ? { allows: 'response', where: 'storeResponse', responseRules: true } : tcp;
  const on = stickSample(s.on, `${path}.on`, onPhase, s.table.type, problems);
  const store = s.storeResponse === undefined ? null : stickSample(s.storeResponse, `${path}.storeResponse`, responsePhase, s.table.type, problems);
  const table = buildStickTable(name, s.table, [{ type: 'server_id' }], s.replicate, `${path}.table`, problems);
  if (!on || (s.storeResponse !== undefined && !store)) return null;
  return { stick: { on: on.sample, storeResponse: store?.sample ?? null, table: name }, table };
}

export function compilePersistence(spec: BackendSpec, namespace: string, name: string, problems: Problem[]): CompiledPersistence {
  checkServerCookies(spec, problems);
  const cookie = compileCookie(spec, problems);
  const stick = compileStick(spec, `backend:${namespace}/${name}`, problems);
  return { cookie, stick: stick?.stick ?? null, stickTable: stick?.table ?? null };
}
