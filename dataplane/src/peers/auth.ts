/**
 * The peer server's bearer check: the same token as the control channel, compared in constant
 * time (the controller's channel-server.ts does the same; the data plane cannot import it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Null when the header carries the expected token, else why not (without any token in it). */
export function checkBearer(header: string | undefined, expected: string | null): string | null {
  if (expected === null || expected === '') return 'no token configured';
  if (header === undefined) return 'no Authorization header';
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (match === null) return 'Authorization is not a bearer token';
  // Hash both sides: equal lengths for timingSafeEqual, and no length leak.
  const presented = createHash('sha256').update(match[1]!).digest();
  const wanted = createHash('sha256').update(expected).digest();
  return timingSafeEqual(presented, wanted) ? null : 'wrong token';
}
