/**
 * `balance static-rr`: weighted round robin with static weights (HAProxy lb_map used as static-rr).
 *
 * Same smooth ordering as roundrobin (wrr-scheduler.ts). What is static is the weight: a server is
 * scheduled with the weight it had when it came up, and keeps it until it goes down and comes
 * back. Run-time weight changes follow HAProxy's rule for static algorithms, which only accepts
 * 0% and 100% (server.c refuses other values): a change to 0 drains the server, a change from 0
 * back to anything restores the weight it came up with (or takes the new one if it came up at 0);
 * any other change is remembered by the runtime but ignored here until the server's next up.
 */
import type { Algorithm, AlgorithmFactory, LbServer, PickRequest } from './algorithm.ts';
import { WrrScheduler } from './wrr-scheduler.ts';

class StaticRoundRobin implements Algorithm {
  readonly #rr = new WrrScheduler();
  /** Weight each server came up with, by id. */
  readonly #initial: number[] = [];

  onServerUp(server: LbServer): void {
    this.#initial[server.id] = server.weight;
    this.#rr.up(server, server.weight);
  }

  onServerDown(server: LbServer): void {
    this.#rr.down(server);
  }

  onWeightChange(server: LbServer): void {
    const current = this.#rr.weightOf(server);
    if (server.weight === 0) {
      if (current !== 0) this.#rr.setWeight(server, 0);
      return;
    }
    if (current !== 0) return;
    let initial = this.#initial[server.id] ?? 0;
    if (initial === 0) {
      initial = server.weight;
      this.#initial[server.id] = initial;
    }
    this.#rr.setWeight(server, initial);
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

export const staticRr = {
  name: 'static-rr',
  needs: 'none',
  hashed: false,
  create: () => new StaticRoundRobin(),
} as const satisfies AlgorithmFactory;
