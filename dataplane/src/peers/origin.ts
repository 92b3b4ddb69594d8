/**
 * Stick-table origins: who wrote a state. One per writing thread of one process,
 * `<node>/<instance>/<thread>`: the data plane's name, a random id per process start (so a
 * restarted pod is a new origin and never mistaken for its predecessor, whose counters it did not
 * inherit), and `w<index>` for a worker thread (`w0` when one thread does everything) or `main`
 * for the main thread of a multi-core data plane (which only merges, never writes).
 */
import { randomBytes } from 'node:crypto';

export interface OriginParts {
  node: string;
  instance: string;
  thread: string;
}

/** A fresh process instance id: 48 random bits in hex. */
export function newInstanceId(): string {
  return randomBytes(6).toString('hex');
}

export function originOf(node: string, instance: string, thread: number | 'main'): string {
  return `${node}/${instance}/${thread === 'main' ? 'main' : `w${thread}`}`;
}

/** The parts of an origin; null when it does not have the three parts (another writer's format). */
export function parseOrigin(origin: string): OriginParts | null {
  const last = origin.lastIndexOf('/');
  const middle = last <= 0 ? -1 : origin.lastIndexOf('/', last - 1);
  if (middle <= 0 || last === middle + 1 || last === origin.length - 1) return null;
  return { node: origin.slice(0, middle), instance: origin.slice(middle + 1, last), thread: origin.slice(last + 1) };
}
