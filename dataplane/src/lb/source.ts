/**
 * `balance source`: hashes the client address (HAProxy balance source).
 * Key extraction is in hash-key.ts; lookup per `balance.hashType` and round-robin fallback for
 * requests without a key are in hashed-algorithm.ts.
 */
import type { AlgorithmFactory } from './algorithm.ts';
import { createHashedAlgorithm } from './hashed-algorithm.ts';

export const source = {
  name: 'source',
  needs: 'addr',
  hashed: true,
  create: createHashedAlgorithm,
} as const satisfies AlgorithmFactory;
