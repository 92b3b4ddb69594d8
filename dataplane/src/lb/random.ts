/**
 * `balance random`: power of N choices (HAProxy `balance random(<draws>)`, default 2). Each pick
 * draws `randomDraws` servers at random, in proportion to their weights, and keeps the one with
 * the fewest requests in flight relative to its weight (active / weight, as HAProxy compares
 * served * eweight). Randomness comes from AlgorithmOptions.random so tests are deterministic.
 *
 * Weights live in a Fenwick tree by server id, so a draw is O(log n). Full servers have weight 0
 * in the tree, so they are never drawn; `avoid` is excluded from the draws by taking its weight out
 * of the range (no retries), and chosen only when it is the sole candidate.
 */
import type { ServerNode } from './server-nodes.ts';
import type { Algorithm, AlgorithmFactory, AlgorithmOptions, LbServer, PickRequest } from './algorithm.ts';
import { isFull } from './capacity.ts';
import { ServerNodes } from './server-nodes.ts';
import { WeightTree } from './weight-tree.ts';

class RandomNode implements ServerNode {
  server: LbServer;
  up = false;

  constructor(server: LbServer) {
    this.server = server;
  }
}

class PowerOfChoices implements Algorithm {
  readonly #nodes = new ServerNodes((server) => new RandomNode(server));
  readonly #tree = new WeightTree();
  readonly #draws: number;
  readonly #random: () => number;

  constructor(options: AlgorithmOptions) {
    const draws = Math.floor(options.balance.randomDraws);
    this.#draws = Number.isFinite(draws) && draws >= 1 ? draws : 2;
    this.#random = options.random;
  }

  onServerUp(server: LbServer): void {
    this.#sync(this.#nodes.up(server));
  }

  onServerDown(server: LbServer): void {
    const n = this.#nodes.get(server.id);
    if (n === undefined) return;
    n.up = false;
    this.#sync(n);
  }

  onWeightChange(server: LbServer): void {
    this.#changed(server);
  }

  onTakeConn(server: LbServer): void {
    this.#changed(server);
  }

  onDropConn(server: LbServer): void {
    this.#changed(server);
  }

  pick(request: PickRequest): LbServer | null {
    const tree = this.#tree;
    const total = tree.total;
    if (total === 0) return null;
    const avoid = request.avoid;
    let avoidWeight = 0;
    let avoidStart = 0;
    if (avoid != null) {
      const a = this.#nodes.get(avoid.id);
      if (a !== undefined && a.server === avoid) {
        avoidWeight = tree.get(avoid.id);
        if (avoidWeight === total) return avoid;
        if (avoidWeight > 0) avoidStart = tree.prefix(avoid.id - 1);
      }
    }
    const range = total - avoidWeight;
    const nodes = this.#nodes;
    let best: LbServer | null = null;
    for (let i = 0; i < this.#draws; i++) {
      // A point in [0, range): weights may be fractional (slow start), so no rounding.
      let u = this.#random() * range;
      if (!(u >= 0)) u = 0;
      if (avoidWeight > 0 && u >= avoidStart) u += avoidWeight;
      const drawn = nodes.get(tree.find(u))!.server;
      // Lower active/weight wins; the earlier draw keeps a tie.
      if (best === null || drawn.active * best.weight < best.active * drawn.weight) best = drawn;
    }
    return best;
  }

  #changed(server: LbServer): void {
    const n = this.#nodes.live(server);
    if (n !== undefined) this.#sync(n);
  }

  #sync(n: RandomNode): void {
    const s = n.server;
    this.#tree.set(s.id, n.up && !isFull(s) ? s.weight : 0);
  }
}

export const random = {
  name: 'random',
  needs: 'none',
  hashed: false,
  create: (options: AlgorithmOptions) => new PowerOfChoices(options),
} as const satisfies AlgorithmFactory;
