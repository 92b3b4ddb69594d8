/** Resolving a Frontend's reference to a Backend (defaultBackend, useBackends[].backend). */
import { Reason } from '@switchyard/api';
import { refProblem } from './problems.ts';
import type { Problem } from './problems.ts';

export type BackendLookup = { state: 'missing' } | { state: 'not-served'; why: string } | { state: 'ok'; cluster: string; mode: 'http' | 'tcp' };

/**
 * The cluster of Backend `name`, or a ResolvedRefs problem at `path`: missing, not served, or of
 * the other mode. The caller leaves the reference out and keeps the rest of the Frontend working.
 */
export function resolveBackend(
  name: string,
  path: string,
  mode: 'http' | 'tcp',
  namespace: string,
  lookup: (name: string) => BackendLookup,
): { cluster: string; problem: null } | { cluster: null; problem: Problem } {
  const found = lookup(name);
  if (found.state === 'missing') {
    return { cluster: null, problem: refProblem(Reason.RefNotFound, path, `Backend "${name}" not found in namespace "${namespace}"`) };
  }
  if (found.state === 'not-served') return { cluster: null, problem: refProblem(Reason.RefNotAccepted, path, `Backend "${name}" ${found.why}`) };
  if (found.mode !== mode) {
    return { cluster: null, problem: refProblem(Reason.Invalid, path, `Backend "${name}" is in mode ${found.mode} but this Frontend is in mode ${mode}`) };
  }
  return { cluster: found.cluster, problem: null };
}
