/**
 * `balance first`: the usable server with the lowest id that still has a free slot (HAProxy
 * lb_fas). Servers fill up in order to their maxConnections; a server without a limit
 * (maxConnections 0) is never full, so it takes every request that reaches it. Weight plays no
 * part beyond 0 meaning "takes no new traffic".
 *
 * Only servers with a free slot are kept, in a heap by id: pick is O(1), updates O(log n).
 */
import type { ServerNode } from './server-nodes.ts';
import type { Algorithm, AlgorithmFactory, LbServer, PickRequest } from './algorithm.ts';
import { isFull } from './capacity.ts';
import { ServerNodes } from './server-nodes.ts';
import { IndexedHeap } from './heap.ts';

class FirstNode implements ServerNode {
  heapIndex = -1;
  server: LbServer;
  up = false;
  /** The id, copied so the heap never depends on a field it is not told about. */
  id: number;

  constructor(server: LbServer) {
    this.server = server;
    this.id = server.id;
  }
}

function lowerId(a: FirstNode, b: FirstNode): boolean {
  return a.id < b.id;
}

class First implements Algorithm {
  readonly #nodes = new ServerNodes((server) => new FirstNode(server));
  readonly #heap = new IndexedHeap<FirstNode>(lowerId);

  onServerUp(server: LbServer): void {
    this.#sync(this.#nodes.up(server));
  }

  onServerDown(server: LbServer): void {
    const n = this.#nodes.get(server.id);
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
    const n = heap.peek();
    if (n === undefined) return null;
    const avoid = request.avoid;
    if (avoid != null && n.server === avoid) return (heap.second() ?? n).server;
    return n.server;
  }

  #changed(server: LbServer): void {
    const n = this.#nodes.live(server);
    if (n !== undefined) this.#sync(n);
  }

  #sync(n: FirstNode): void {
    const usable = n.up && n.server.weight > 0 && !isFull(n.server);
    const heap = this.#heap;
    if (!usable) heap.remove(n);
    else if (!heap.has(n)) heap.push(n);
  }
}

export const first = {
  name: 'first',
  needs: 'none',
  hashed: false,
  create: () => new First(),
} as const satisfies AlgorithmFactory;
