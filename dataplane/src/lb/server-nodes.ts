/**
 * Per-server state an algorithm keeps, indexed by server id (ids are small and dense: positions
 * in the cluster's list). One table shared by the algorithms that keep a node per server, so
 * "create on first up, point at the current server object, look up by id" is written once.
 */
import type { LbServer } from './algorithm.ts';

export interface ServerNode {
  server: LbServer;
  up: boolean;
}

export class ServerNodes<N extends ServerNode> {
  readonly #nodes: (N | undefined)[] = [];
  readonly #make: (server: LbServer) => N;

  constructor(make: (server: LbServer) => N) {
    this.#make = make;
  }

  /** The server's node, created on first sight, marked up and pointing at this server object. */
  up(server: LbServer): N {
    let n = this.#nodes[server.id];
    if (n === undefined) {
      n = this.#make(server);
      this.#nodes[server.id] = n;
    } else n.server = server;
    n.up = true;
    return n;
  }

  /** The node with this id, if the server was ever up. */
  get(id: number): N | undefined {
    return this.#nodes[id];
  }

  /** The node of a server that is up now, for weight and take/drop events; undefined otherwise. */
  live(server: LbServer): N | undefined {
    const n = this.#nodes[server.id];
    return n !== undefined && n.up ? n : undefined;
  }
}
