/**
 * `balance uri`: hashes the request path, per balance.uri (HAProxy balance uri).
 * Key extraction is in hash-key.ts; lookup per `balance.hashType` and round-robin fallback for
 * requests without a key are in hashed-algorithm.ts.
 */
import type { AlgorithmFactory } from './algorithm.ts';
import { createHashedAlgorithm } from './hashed-algorithm.ts';

export const uri = {
  name: 'uri',
  needs: 'http',
  hashed: true,
  create: createHashedAlgorithm,
} as const satisfies AlgorithmFactory;
