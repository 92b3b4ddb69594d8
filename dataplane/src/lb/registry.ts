/**
 * Every balancing algorithm by its `balance` name, and the one way the runtime creates them.
 * The proxy depends on this module and on algorithm.ts only, never on a concrete algorithm.
 */
import type { BalanceAlgorithm, ir } from '@switchyard/api';
import type { Algorithm, AlgorithmFactory } from './algorithm.ts';
import { first } from './first.ts';
import { hdr } from './hdr.ts';
import { leastconn } from './leastconn.ts';
import { random } from './random.ts';
import { roundrobin } from './round-robin.ts';
import { source } from './source.ts';
import { staticRr } from './static-rr.ts';
import { uri } from './uri.ts';
import { urlParam } from './url-param.ts';

/** The factories, typed per name so that `needs` and `hashed` are known at compile time. */
export const factories = {
  roundrobin,
  'static-rr': staticRr,
  leastconn,
  first,
  source,
  uri,
  hdr,
  url_param: urlParam,
  random,
} as const satisfies { readonly [K in BalanceAlgorithm]: AlgorithmFactory & { readonly name: K } };

export const algorithms: ReadonlyMap<BalanceAlgorithm, AlgorithmFactory> = new Map(
  Object.values(factories).map((f): [BalanceAlgorithm, AlgorithmFactory] => [f.name, f]),
);

/** A new algorithm instance for a cluster (one per server group: primaries, backups). */
export function createAlgorithm(balance: ir.Balance, random: () => number): Algorithm {
  const factory = algorithms.get(balance.algorithm);
  if (factory === undefined) throw new Error(`unknown balance algorithm ${JSON.stringify(balance.algorithm)}`);
  return factory.create({ balance, random });
}
