/**
 * Typed, layered health check results, named and described as HAProxy reports them
 * (`check_statuses[]` in HAProxy's check.c), so `show servers state`, the stats page and the logs
 * read the same way an HAProxy operator expects: "L7STS", "Layer7 wrong status, code: 500,
 * info: "Internal Server Error"".
 *
 * The layer tells where a check stopped: L4 = TCP connect, L6 = TLS handshake, L7 = the
 * application reply. SOCKERR is a local socket problem or an I/O error after the connection was
 * established (HAProxy's "I/O error after connection was established").
 */

export type CheckStatus =
  | 'L4OK'
  | 'L4TOUT'
  | 'L4CON'
  | 'L6OK'
  | 'L6TOUT'
  | 'L6RSP'
  | 'L7OK'
  | 'L7OKC'
  | 'L7TOUT'
  | 'L7RSP'
  | 'L7STS'
  | 'SOCKERR';

export interface CheckResult {
  readonly status: CheckStatus;
  /** Whether the check counts as a success for the rise/fall counter. */
  readonly ok: boolean;
  /** HTTP status (or protocol error code, e.g. a MySQL error number) when one was received. */
  readonly code: number | null;
  /** Short human reason, HAProxy style: `Layer7 wrong status, code: 500, info: "Internal Server Error"`. */
  readonly detail: string;
  /** Time from the start of the probe to its outcome. */
  readonly durationMs: number;
}

interface StatusInfo {
  readonly ok: boolean;
  readonly description: string;
}

/** Outcome class and long description of every status (HAProxy `check_statuses[]`). */
export const CHECK_STATUSES: Readonly<Record<CheckStatus, StatusInfo>> = Object.freeze({
  L4OK: { ok: true, description: 'Layer4 check passed' },
  L4TOUT: { ok: false, description: 'Layer4 timeout' },
  L4CON: { ok: false, description: 'Layer4 connection problem' },
  L6OK: { ok: true, description: 'Layer6 check passed' },
  L6TOUT: { ok: false, description: 'Layer6 timeout' },
  L6RSP: { ok: false, description: 'Layer6 invalid response' },
  L7OK: { ok: true, description: 'Layer7 check passed' },
  // HAProxy's CHK_RES_CONDPASS: counts as a success for health; the server would go to drain.
  L7OKC: { ok: true, description: 'Layer7 check conditionally passed' },
  L7TOUT: { ok: false, description: 'Layer7 timeout' },
  L7RSP: { ok: false, description: 'Layer7 invalid response' },
  L7STS: { ok: false, description: 'Layer7 wrong status' },
  SOCKERR: { ok: false, description: 'Socket error' },
});

export const CHECK_STATUS_NAMES: readonly CheckStatus[] = Object.freeze(Object.keys(CHECK_STATUSES) as CheckStatus[]);

export function isPassing(status: CheckStatus): boolean {
  return CHECK_STATUSES[status].ok;
}

/** Longest `info` kept in a detail; HAProxy truncates at HCHK_DESC_LEN (128) too. */
export const MAX_INFO_LENGTH = 128;

/**
 * `description[, code: N][, info: "..."]`, as HAProxy's check_append_info() prints it.
 * Non-printable characters in info are escaped so a hostile server cannot inject log lines.
 */
export function formatDetail(status: CheckStatus, code: number | null, info: string | null): string {
  let out = CHECK_STATUSES[status].description;
  if (code !== null) out += `, code: ${code}`;
  if (info) out += `, info: "${sanitizeInfo(info)}"`;
  return out;
}

export interface CheckResultInput {
  code?: number | null;
  info?: string | null;
  durationMs: number;
}

export function checkResult(status: CheckStatus, input: CheckResultInput): CheckResult {
  const code = input.code ?? null;
  return Object.freeze({
    status,
    ok: CHECK_STATUSES[status].ok,
    code,
    detail: formatDetail(status, code, input.info ?? null),
    durationMs: Math.max(0, input.durationMs),
  });
}

function sanitizeInfo(info: string): string {
  let out = '';
  for (const ch of info) {
    if (out.length >= MAX_INFO_LENGTH) {
      out += '...';
      break;
    }
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}
