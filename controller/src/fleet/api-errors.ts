/** Reading Kubernetes API failures the same way whatever client threw them. */

/**
 * The HTTP status of a failed API call: client-node's ApiException carries `code`, its Watch
 * `statusCode`, a `kind: Status` body `code`. Undefined for transport errors (ECONNREFUSED...).
 */
export function httpStatus(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (e.body !== null && typeof e.body === 'object' && typeof (e.body as { code?: unknown }).code === 'number') return (e.body as { code: number }).code;
  return undefined;
}

/** A one-line description of a failed API call, for logs. */
export function describeError(err: unknown): string {
  const status = httpStatus(err);
  let message = err instanceof Error ? err.message : String(err);
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // not JSON: keep the error's own message
    }
  } else if (body !== null && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    message = (body as { message: string }).message;
  }
  return status === undefined ? message : `${status}: ${message.split('\n')[0]}`;
}

/** An error with an HTTP status, as fakes of the API throw it. */
export class HttpError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
