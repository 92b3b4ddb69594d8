/**
 * Fields the schemas accept but the data plane does not implement yet. Using one is an error
 * (`Accepted=False`, reason `Unsupported`): silently ignoring it would serve something other than
 * what the user wrote. Shrink these lists as the data plane grows.
 */
import type { BackendSpec, FrontendSpec, HealthPolicySpec } from '@switchyard/api';
import { formatFieldPath } from './field-errors.ts';

/** A field counts as used when it is set, except empty lists and `false` flags (which change nothing). */
function used(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

const FRONTEND_FIELDS = ['vip'] as const;
const BIND_FIELDS = ['tls', 'acceptProxy'] as const;
const SERVER_FIELDS = ['tls', 'proxyProtocol'] as const;
const HEALTH_POLICY_FIELDS = ['passive'] as const;

export function unsupportedFrontendFields(spec: FrontendSpec): string[] {
  const out: string[] = [];
  for (const f of FRONTEND_FIELDS) if (used(spec[f])) out.push(formatFieldPath(['spec', f]));
  spec.binds.forEach((bind, i) => {
    for (const f of BIND_FIELDS) if (used(bind[f])) out.push(formatFieldPath(['spec', 'binds', i, f]));
  });
  return out;
}

export function unsupportedBackendFields(spec: BackendSpec): string[] {
  const out: string[] = [];
  spec.servers.forEach((server, i) => {
    for (const f of SERVER_FIELDS) {
      // `tls: { enabled: false }` asks for plain TCP, which is what we do.
      const value = f === 'tls' ? server.tls?.enabled : server[f];
      if (used(value)) out.push(formatFieldPath(['spec', 'servers', i, f]));
    }
  });
  return out;
}

export function unsupportedHealthPolicyFields(spec: HealthPolicySpec): string[] {
  const out: string[] = [];
  for (const f of HEALTH_POLICY_FIELDS) if (used(spec[f])) out.push(formatFieldPath(['spec', f]));
  return out;
}
