/**
 * `balance leastconn`: the server with the fewest requests in flight relative to its weight
 * (HAProxy lb_fwlc). Servers are ordered by (active + 1) / weight, so with nothing in flight the
 * heaviest server goes first, and each server's load is compared in proportion to its capacity.
 *
 * Ties rotate: a server that is picked, takes or releases a request is re-queued behind the
 * servers that share its new load (fwlc appends duplicates in its ebtree, which has the same effect),
 * so equally loaded servers are used in turn instead of always the lowest id.
 *
 * Full servers leave the tree when they reach maxConnections and return when a request ends, so
 * pick is O(1) and the updates O(log n).
 */
import type { ServerNode } from './server-nodes.ts';
import type { Algorithm, AlgorithmFactory, LbServer, PickRequest } from './algorithm.ts';
import { isFull } from './capacity.ts';
import { ServerNodes } from './server-nodes.ts';
import { IndexedHeap } from './heap.ts';

class LcNode implements ServerNode {
  heapIndex = -1;
  server: LbServer;
  up = false;
  /** Order of the last (re)queueing, for round robin among equal loads. */
  seq = 0;
  /**
   * The key, copied from the server when it was last queued, so that the heap stays consistent
   * even while the pool has already changed `active` and not yet told us.
   */
  load = 1;
  weight = 1;

  constructor(server: LbServer) {
    this.server = server;
  }
}

/** (a.active + 1) / a.weight < (b.active + 1) / b.weight, then the oldest queued first. */
function lessLoaded(a: LcNode, b: LcNode): boolean {
  const d = a.load * b.weight - b.load * a.weight;
  return d < 0 || (d === 0 && a.seq < b.seq);
}

class LeastConn implements Algorithm {
  readonly #nodes = new ServerNodes((server) => new LcNode(server));
  readonly #heap = new IndexedHeap<LcNode>(lessLoaded);
  #seq = 0;

  onServerUp(server: LbServer): void {
    this.#sync(this.#nodes.up(server));
  }

  onServerDown(server: LbServer): void {
    const n = this.#nodes.live(server);
    if (n === undefined) return;
    n.up = false;
    this.#heap.remove(n);
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
    const heap = this.#heap;
    let n = heap.peek();
    if (n === undefined) return null;
    const avoid = request.avoid;
    if (avoid != null && n.server === avoid) n = heap.second() ?? n;
    // Re-queue behind its equals so that the next pick rotates even if no take follows.
    n.seq = ++this.#seq;
    heap.update(n);
    return n.server;
  }

  #changed(server: LbServer): void {
    const n = this.#nodes.live(server);
    if (n !== undefined) this.#sync(n);
  }

  /** Puts the node where its server's state says, behind its equals. */
  #sync(n: LcNode): void {
    const heap = this.#heap;
    const server = n.server;
    const usable = n.up && server.weight > 0 && !isFull(server);
    n.load = server.active + 1;
    n.weight = server.weight;
    n.seq = ++this.#seq;
    if (!usable) heap.remove(n);
    else if (heap.has(n)) heap.update(n);
    else heap.push(n);
  }
}

export const leastconn = {
  name: 'leastconn',
  needs: 'none',
  hashed: false,
  create: () => new LeastConn(),
} as const satisfies AlgorithmFactory;
