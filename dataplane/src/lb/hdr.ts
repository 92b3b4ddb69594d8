/**
 * `balance hdr`: hashes the value of the header named by balance.hashKey (HAProxy balance hdr(name)).
 * Key extraction is in hash-key.ts; lookup per `balance.hashType` and round-robin fallback for
 * requests without a key are in hashed-algorithm.ts.
 */
import type { AlgorithmFactory } from './algorithm.ts';
import { createHashedAlgorithm } from './hashed-algorithm.ts';

export const hdr = {
  name: 'hdr',
  needs: 'http',
  hashed: true,
  create: createHashedAlgorithm,
} as const satisfies AlgorithmFactory;
