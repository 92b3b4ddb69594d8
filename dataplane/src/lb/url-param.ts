/**
 * `balance url_param`: hashes the value of the query parameter balance.hashKey (HAProxy balance url_param).
 * Key extraction is in hash-key.ts; lookup per `balance.hashType` and round-robin fallback for
 * requests without a key are in hashed-algorithm.ts.
 */
import type { AlgorithmFactory } from './algorithm.ts';
import { createHashedAlgorithm } from './hashed-algorithm.ts';

export const urlParam = {
  name: 'url_param',
  needs: 'http',
  hashed: true,
  create: createHashedAlgorithm,
} as const satisfies AlgorithmFactory;
