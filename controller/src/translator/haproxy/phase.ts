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
  /** HAProxy reads the response with bare header fetches here (http-response rules, store-response). */
  responseRules?: boolean;
}

const LEVEL: Record<Needs, number> = { none: 0, request: 1, response: 2 };

/**
 * HAProxy's header fetches without a `req.`/`res.` prefix (`hdr`, `fhdr`, `hdr_cnt` and the ACL
 * keywords built on them, `hdr_beg`...) read whichever message is being processed: the response
 * in http-response rules. Here they always name the request, so in a response context they would
 * silently read something other than an HAProxy user expects; they are refused with the spelling
 * that says which message is meant.
 */
const CONTEXT_DEPENDENT = /^(hdr|fhdr|hdr_cnt)(_[a-z]+)?$/;

/** Why the fetch cannot run in `phase`, or null when it can. */
export function needsProblem(used: { fetch: string; needs: Needs; written: string }, phase: Phase): string | null {
  const { fetch, needs, written } = used;
  if (phase.responseRules === true && CONTEXT_DEPENDENT.test(written)) {
    const request = written === 'hdr_cnt' ? 'req.hdr_cnt' : written.startsWith('fhdr') ? 'req.fhdr' : 'req.hdr';
    return `${written} reads the response in HAProxy's http-response rules but would read the request here: write res.hdr() for the response, or ${request}() for the request`;
  }
  if (LEVEL[needs] <= LEVEL[phase.allows]) return null;
  if (needs === 'request') return `${fetch} reads the HTTP request, which is not available in ${phase.where}`;
  const hint = phase.allows === 'request' ? " (only in httpResponse rules and a Backend's storeResponse)" : '';
  return `${fetch} reads the HTTP response, which is not available in ${phase.where}${hint}`;
}
