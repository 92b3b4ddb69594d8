/**
 * Edits of a parsed message head (http-request/http-response rules, cookie persistence). Each
 * edit rewrites the head's text line by line, keeping the other lines byte for byte, then parses
 * the result again so that everything derived from it (framing, Host, later rules' fetches) stays
 * true. Only rule paths pay for this: a request no rule touches is forwarded as it arrived.
 *
 * An edit that would leave a malformed head (a value with a control character, a Host removed
 * from an HTTP/1.1 request) is refused: the head stays as it was and the reason is returned.
 */
import type { MessageHead} from './message-head.ts';
import { parseRequestHead, parseResponseHead } from './message-head.ts';

/** Splits the text into its first line and header lines, each without CRLF. */
function lines(head: MessageHead): { first: string; fields: string[] } {
  const text = head.text;
  const firstEnd = text.indexOf('\r\n');
  const fields: string[] = [];
  let pos = firstEnd + 2;
  const end = text.length - 2;
  while (pos < end) {
    const eol = text.indexOf('\r\n', pos);
    fields.push(text.slice(pos, eol));
    pos = eol + 2;
  }
  return { first: text.slice(0, firstEnd), fields };
}

function commit(head: MessageHead, first: string, fields: string[]): string | null {
  const before = head.text;
  const text = first + '\r\n' + (fields.length === 0 ? '' : fields.join('\r\n') + '\r\n') + '\r\n';
  const isRequest = head.method !== '';
  const error = isRequest ? parseRequestHead(text, head) : parseResponseHead(text, head);
  if (error === null) return null;
  // Restore: parsing the previous text cannot fail, it was parsed before.
  if (isRequest) parseRequestHead(before, head);
  else parseResponseHead(before, head);
  return error;
}

/** Removes every `name` header (case-insensitive). */
export function delHeader(head: MessageHead, name: string): string | null {
  const lower = name.toLowerCase();
  let found = false;
  for (let i = 0; i < head.count; i++) if (head.names[i] === lower) found = true;
  if (!found) return null;
  const { first, fields } = lines(head);
  return commit(
    head,
    first,
    fields.filter((_, i) => head.names[i] !== lower),
  );
}

/** Appends a `name: value` header line. */
export function addHeader(head: MessageHead, name: string, value: string): string | null {
  const { first, fields } = lines(head);
  fields.push(`${name}: ${value}`);
  return commit(head, first, fields);
}

/** Replaces every `name` header with one `name: value` line, where the first one was (else at the end). */
export function setHeader(head: MessageHead, name: string, value: string): string | null {
  const lower = name.toLowerCase();
  const { first, fields } = lines(head);
  const out: string[] = [];
  let placed = false;
  fields.forEach((line, i) => {
    if (head.names[i] !== lower) out.push(line);
    else if (!placed) {
      out.push(`${name}: ${value}`);
      placed = true;
    }
  });
  if (!placed) out.push(`${name}: ${value}`);
  return commit(head, first, out);
}

/** Replaces the value of the header at index `i` (of head.names/values), keeping its name as sent. */
export function setHeaderValueAt(head: MessageHead, i: number, value: string): string | null {
  const { first, fields } = lines(head);
  const line = fields[i]!;
  fields[i] = `${line.slice(0, line.indexOf(':'))}: ${value}`;
  return commit(head, first, fields);
}

/** Removes the header at index `i`. */
export function deleteHeaderAt(head: MessageHead, i: number): string | null {
  const { first, fields } = lines(head);
  fields.splice(i, 1);
  return commit(head, first, fields);
}

/** Replaces a request's target (set-path and set-uri build it), keeping method and version. */
export function setTarget(head: MessageHead, target: string): string | null {
  const { fields } = lines(head);
  return commit(head, `${head.method} ${target} HTTP/1.${head.minor}`, fields);
}
