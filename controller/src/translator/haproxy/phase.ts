/**
 * Where a sample is evaluated decides which fetches can run: a tcp-request rule sees only the
 * connection, an http-request rule the request, an http-response rule both request and response.
 * HAProxy warns about (or silently fails) a fetch used where its data does not exist; here it is
 * an error naming the fetch.
 */
import type { FetchSpec } from '@switchyard/api';

export type Needs = FetchSpec['needs'];

export interface Phase {
  /** The most a fetch may need here: `none` (the connection), `request`, or `response` (anything). */
  allows: Needs;
  /** Where this is, for messages: "httpRequest rules", "a Frontend in mode tcp". */
  where: string;
}

const LEVEL: Record<Needs, number> = { none: 0, request: 1, response: 2 };

/** Why `fetch` cannot run in `phase`, or null when it can. */
export function needsProblem(fetch: string, needs: Needs, phase: Phase): string | null {
  if (LEVEL[needs] <= LEVEL[phase.allows]) return null;
  if (needs === 'request') return `${fetch} reads the HTTP request, which is not available in ${phase.where}`;
  const hint = phase.allows === 'request' ? " (only in httpResponse rules and a Backend's storeResponse)" : '';
  return `${fetch} reads the HTTP response, which is not available in ${phase.where}${hint}`;
}
