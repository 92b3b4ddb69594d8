/**
 * The responses rules answer with (`deny`, `return`, `redirect`), worded as HAProxy's so that
 * operators and their monitoring recognise them. Each is a complete HTTP/1.1 response as a latin1
 * string (one character per byte: write it with the 'latin1' encoding) ending the connection.
 * Everything but a redirect's Location is known when the rules compile, so those are built once.
 */
import { cannedResponse } from '../http/canned-responses.ts';
import { REASON_PHRASES } from '../http/reason-phrases.ts';

/** HAProxy's error pages (http_err_msgs) that canned-responses.ts does not have. */
const MORE_ERRORS: Record<number, [string, string]> = {
  200: ['OK', 'Service ready.'],
  401: ['Unauthorized', 'You need a valid user and password to access this content.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'A request was made of a resource using a request method not supported by that resource'],
  407: ['Unauthorized', 'You need a valid user and password to access this content.'],
  410: ['Gone', 'The resource is no longer available and will not be available again.'],
  422: ['Unprocessable Content', 'The server cannot process the contained instructions.'],
  425: ['Too Early', 'Your browser sent early data.'],
  429: ['Too Many Requests', 'You have sent too many requests in a given amount of time.'],
};

function reasonOf(status: number): string {
  return REASON_PHRASES[status] ?? 'Unknown';
}

function errorPage(status: number, reason: string, message: string): string {
  const body = `<html><body><h1>${status} ${reason}</h1>\n${message}\n</body></html>\n`;
  return (
    `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${body.length}\r\ncache-control: no-cache\r\n` +
    `content-type: text/html\r\nconnection: close\r\n\r\n${body}`
  );
}

/** `deny`: HAProxy's error page for the status (403 by default in the resources). */
export function denyResponse(status: number): string {
  const canned = cannedResponse(status).toString('latin1');
  // cannedResponse falls back to its 500 page for statuses it does not know.
  if (canned.startsWith(`HTTP/1.1 ${status} `)) return canned;
  const more = MORE_ERRORS[status];
  if (more !== undefined) return errorPage(status, more[0], more[1]);
  const reason = reasonOf(status);
  return errorPage(status, reason, reason);
}

/** `return`: the status with an optional body (the configuration's UTF-8) and content type. */
export function returnResponse(status: number, body: string | null, contentType: string | null): string {
  const bytes = body === null ? '' : Buffer.from(body, 'utf8').toString('latin1');
  let head = `HTTP/1.1 ${status} ${reasonOf(status)}\r\ncontent-length: ${bytes.length}\r\n`;
  if (contentType !== null) head += `content-type: ${contentType}\r\n`;
  return `${head}connection: close\r\n\r\n${bytes}`;
}

/** The status line and the headers before Location; HAProxy adds cache-control to the temporary ones. */
export function redirectHead(code: 301 | 302 | 303 | 307 | 308): { before: string; after: string } {
  const after = code === 302 || code === 303 || code === 307 ? '\r\ncache-control: no-cache' : '';
  return {
    before: `HTTP/1.1 ${code} ${reasonOf(code)}\r\ncontent-length: 0\r\nlocation: `,
    after: `${after}\r\nconnection: close\r\n\r\n`,
  };
}

const LINE_BREAKS = /[\r\n\0]/g;

/** A redirect's complete response; a Location never carries a line break into the head. */
export function redirectResponse(head: { before: string; after: string }, location: string): string {
  const safe = location.indexOf('\r') < 0 && location.indexOf('\n') < 0 && location.indexOf('\0') < 0 ? location : location.replace(LINE_BREAKS, '');
  return head.before + safe + head.after;
}
