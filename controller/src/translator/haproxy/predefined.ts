/**
 * HAProxy's predefined ACLs, written as the criteria they stand for. Where HAProxy uses a fetch
 * Switchyard does not have, the closest equivalent from the catalogue is used (noted inline).
 */
import type { ParsedCriterion } from './criterion.ts';
import { parseCriterion } from './criterion.ts';
import type { SampleEnv } from './sample.ts';
import { splitWords } from './words.ts';

const DEFINITIONS: Readonly<Record<string, readonly string[]>> = {
  TRUE: ['always_true'],
  FALSE: ['always_false'],
  // HAProxy: req.proto_http. Every request an HTTP rule sees has a version.
  HTTP: ['req.ver -m found'],
  'HTTP_1.0': ['req.ver 1.0'],
  'HTTP_1.1': ['req.ver 1.1'],
  // HAProxy: req.hdr_val(content-length) gt 0.
  HTTP_CONTENT: ['req.hdr(content-length) -m reg ^0*[1-9]'],
  HTTP_URL_ABS: ['url_reg ^[^/:]*://'],
  HTTP_URL_SLASH: ['url_beg /'],
  HTTP_URL_STAR: ['url *'],
  LOCALHOST: ['src 127.0.0.1/8 ::1'],
  METH_CONNECT: ['method CONNECT'],
  METH_DELETE: ['method DELETE'],
  METH_GET: ['method GET HEAD'],
  METH_HEAD: ['method HEAD'],
  METH_OPTIONS: ['method OPTIONS'],
  METH_POST: ['method POST'],
  METH_PUT: ['method PUT'],
  METH_TRACE: ['method TRACE'],
  // HAProxy waits for the end of the inspection delay; rules here run once the data is there.
  WAIT_END: ['always_true'],
};

export const PREDEFINED_ACLS: readonly string[] = Object.keys(DEFINITIONS);

const NO_STICK: SampleEnv = { stick: { kind: 'none', why: 'a predefined ACL cannot read' } };

/** The criteria of a predefined ACL (fresh objects on every call), or null when `name` is not one. */
export function predefinedAcl(name: string): ParsedCriterion[] | null {
  if (!Object.hasOwn(DEFINITIONS, name)) return null;
  return DEFINITIONS[name]!.map((text) => parseCriterion(text, splitWords(text), NO_STICK));
}
