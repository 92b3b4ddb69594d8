/**
 * `balance roundrobin`: smooth weighted round robin, dynamic (HAProxy lb_fwrr).
 * Weight changes, servers going up or down and servers filling up take effect on the next pick.
 * See wrr-scheduler.ts for the ordering guarantees.
 */
import type { Algorithm, AlgorithmFactory, LbServer, PickRequest } from './algorithm.ts';
import { WrrScheduler } from './wrr-scheduler.ts';

class RoundRobin implements Algorithm {
  readonly #rr = new WrrScheduler();

  onServerUp(server: LbServer): void {
    this.#rr.up(server, server.weight);
  }

  onServerDown(server: LbServer): void {
    this.#rr.down(server);
  }

  onWeightChange(server: LbServer): void {
    this.#rr.setWeight(server, server.weight);
  }

  onTakeConn(server: LbServer): void {
    this.#rr.refreshFull(server);
  }

  onDropConn(server: LbServer): void {
    this.#rr.refreshFull(server);
  }

  pick(request: PickRequest): LbServer | null {
    return this.#rr.pick(request.avoid ?? null);
  }
}

export const roundrobin = {
  name: 'roundrobin',
  needs: 'none',
  hashed: false,
  create: () => new RoundRobin(),
} as const satisfies AlgorithmFactory;
