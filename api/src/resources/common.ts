import { z } from 'zod';

/** API group and version shared by every Switchyard resource. */
export const GROUP = 'switchyard.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

const DURATION_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d+(?:us|ms|s|m|h|d))+$/;
const DURATION_PART_RE = /(\d+)(us|ms|s|m|h|d)/g;

/** Durations are strings as HAProxy writes them: `500ms`, `5s`, `30m`, `8h`, also `1m30s`. */
export const Duration = z
  .string()
  .regex(DURATION_RE, 'must be a duration such as 500ms, 5s, 30m or 8h')
  .describe('A duration: a number followed by a unit (us, ms, s, m, h, d), e.g. 500ms, 5s, 1m30s.');

/** Milliseconds in a duration string already validated by `Duration`. */
export function parseDuration(text: string): number {
  let ms = 0;
  for (const m of text.matchAll(DURATION_PART_RE)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return ms;
}

const COUNT_RE = /^\d+[kmg]?$/;
/** Counts take an integer or HAProxy's suffixes (`100k`, `1m`, `1g`). */
export const Count = z
  .union([z.number().int().nonnegative(), z.string().regex(COUNT_RE, 'must be an integer, optionally with k, m or g')])
  .describe('A count: an integer, or a string with a k, m or g suffix (100k, 1m).');

export function parseCount(value: number | string): number {
  if (typeof value === 'number') return value;
  const suffix = value.at(-1)!;
  const mult = suffix === 'k' ? 1_000 : suffix === 'm' ? 1_000_000 : suffix === 'g' ? 1_000_000_000 : 1;
  return Number(mult === 1 ? value : value.slice(0, -1)) * mult;
}

export const Port = z.number().int().min(1).max(65535).describe('A TCP port, 1-65535.');

export const Mode = z.enum(['http', 'tcp']).describe('Proxy mode: http (layer 7) or tcp (layer 4).');

/** A reference to another object in the same namespace. */
export const LocalObjectReference = z
  .object({ name: z.string().min(1).describe('Name of the referenced object in the same namespace.') })
  .strict();

export const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const ObjectMeta = z
  .object({
    name: z.string().min(1).max(253).regex(DNS_SUBDOMAIN_RE, 'must be a lowercase RFC 1123 subdomain'),
    namespace: z.string().regex(DNS_LABEL_RE, 'must be a lowercase RFC 1123 label').optional(),
    generation: z.number().int().optional(),
    resourceVersion: z.string().optional(),
    uid: z.string().optional(),
    creationTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

/** The metav1.Condition shape. */
export const Condition = z
  .object({
    type: z.string().describe('Accepted, ResolvedRefs or Programmed.'),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z.string().describe('A CamelCase reason for the last transition.'),
    message: z.string().describe('Human-readable details, e.g. the invalid field path or "3/3 data planes".'),
    observedGeneration: z.number().int().optional().describe('metadata.generation the condition was computed from.'),
    lastTransitionTime: z.string().describe('When status last changed (RFC 3339).'),
  })
  .describe('One aspect of the resource state (metav1.Condition).');
export type Condition = z.infer<typeof Condition>;

export const Status = z
  .object({ conditions: z.array(Condition).optional().describe('Accepted, ResolvedRefs and Programmed.') })
  .loose()
  .describe('Observed state, written by the controller.');
