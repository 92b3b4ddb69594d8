/**
 * What `source`, `uri`, `hdr` and `url_param` share: a key lookup chosen by `balance.hashType`
 * (`map-based`: hash-map.ts, `consistent`: consistent-hash.ts) plus a round-robin scheduler for
 * requests without a key (`pick({ hash: undefined })`), which HAProxy serves in round robin.
 *
 * With a key, the key's server is returned even when it is full: the request then waits for that
 * server, as in HAProxy. Without a key, round robin skips full servers like any non-hashing
 * algorithm. `avoid` is honoured in both cases (the lookup walks to the next server).
 */
import type { Algorithm, AlgorithmOptions, LbServer, PickRequest } from './algorithm.ts';
import { ConsistentHashLookup } from './consistent-hash.ts';
import { MapHashLookup } from './hash-map.ts';
import { WrrScheduler } from './wrr-scheduler.ts';

/** The server lookup of a hashing algorithm, kept current by the same events as an Algorithm. */
export interface HashLookup {
  onServerUp(server: LbServer): void;
  onServerDown(server: LbServer): void;
  onWeightChange(server: LbServer): void;
  /** The server owning `hash` (a 32-bit unsigned integer), another one if that is `avoid`. */
  lookup(hash: number, avoid: LbServer | null): LbServer | null;
}

class HashedAlgorithm implements Algorithm {
  readonly #lookup: HashLookup;
  readonly #rr = new WrrScheduler();

  constructor(lookup: HashLookup) {
    this.#lookup = lookup;
  }

  onServerUp(server: LbServer): void {
    this.#lookup.onServerUp(server);
    this.#rr.up(server, server.weight);
  }

  onServerDown(server: LbServer): void {
    this.#lookup.onServerDown(server);
    this.#rr.down(server);
  }

  onWeightChange(server: LbServer): void {
    this.#lookup.onWeightChange(server);
    this.#rr.setWeight(server, server.weight);
  }

  onTakeConn(server: LbServer): void {
    this.#rr.refreshFull(server);
  }

  onDropConn(server: LbServer): void {
    this.#rr.refreshFull(server);
  }

  pick(request: PickRequest): LbServer | null {
    const hash = request.hash;
    const avoid = request.avoid ?? null;
    if (hash === undefined) return this.#rr.pick(avoid);
    return this.#lookup.lookup(hash >>> 0, avoid);
  }
}

/** The lookup `balance.hashType` asks for. */
export function createHashLookup(options: AlgorithmOptions): HashLookup {
  return options.balance.hashType === 'consistent' ? new ConsistentHashLookup() : new MapHashLookup();
}

export function createHashedAlgorithm(options: AlgorithmOptions): Algorithm {
  return new HashedAlgorithm(createHashLookup(options));
}
