/**
 * The rise/fall hysteresis of HAProxy's check.c (`set_server_check_status()`): a single counter
 * `health` in [0, rise + fall - 1]. The server is UP iff health >= rise.
 *
 * - A failure decrements health (not below 0); if it drops below rise the server is DOWN and
 *   health snaps to 0, so it needs `rise` successes to come back.
 * - A success increments health (not above the max); as soon as health reaches rise the server
 *   is UP and health snaps to rise + fall - 1, so it needs `fall` consecutive failures to go
 *   down. As in HAProxy this snap also applies to a success while already UP: one success after
 *   some failures restores full health ("fall consecutive failures", not "fall failures").
 *
 * Initial state, as HAProxy: UP with health = rise, "up, but will fall down at first failure";
 * or DOWN with health = 0 when `initiallyUp` is false.
 */

export type Transition = 'up' | 'down';

export interface RiseFallOptions {
  rise: number;
  fall: number;
  /** Default true: start UP with health = rise. False: start DOWN with health = 0. */
  initiallyUp?: boolean;
}

export class RiseFall {
  readonly rise: number;
  readonly fall: number;
  /** rise + fall - 1: the health of a server that is fully UP. */
  readonly max: number;
  #health: number;

  constructor(options: RiseFallOptions) {
    const { rise, fall } = options;
    if (!Number.isInteger(rise) || rise < 1) throw new RangeError(`rise must be an integer >= 1, got ${rise}`);
    if (!Number.isInteger(fall) || fall < 1) throw new RangeError(`fall must be an integer >= 1, got ${fall}`);
    this.rise = rise;
    this.fall = fall;
    this.max = rise + fall - 1;
    this.#health = options.initiallyUp === false ? 0 : rise;
  }

  get health(): number {
    return this.#health;
  }

  get up(): boolean {
    return this.#health >= this.rise;
  }

  /** Neither fully UP (health = max) nor fully DOWN (health = 0): the scheduler uses fastInterval. */
  get transitioning(): boolean {
    return this.#health > 0 && this.#health < this.max;
  }

  /** Fully DOWN (health = 0): the scheduler uses downInterval. */
  get fullyDown(): boolean {
    return this.#health === 0;
  }

  /** Fully UP (health = max): the scheduler uses interval. */
  get fullyUp(): boolean {
    return this.#health === this.max;
  }

  /** Feeds one check outcome. Returns the transition it caused, or null if UP/DOWN did not change. */
  record(ok: boolean): Transition | null {
    const wasUp = this.up;
    if (ok) {
      if (this.#health < this.max) {
        this.#health++;
        if (this.#health >= this.rise) this.#health = this.max;
      }
    } else if (this.#health > 0) {
      this.#health--;
      if (this.#health < this.rise) this.#health = 0;
    }
    const isUp = this.up;
    if (isUp === wasUp) return null;
    return isUp ? 'up' : 'down';
  }

  /** HAProxy's "status: 2/3 UP" notation: progress towards the next transition. */
  describe(): string {
    return this.up
      ? `${this.#health - this.rise + 1}/${this.fall} UP`
      : `${this.#health}/${this.rise} DOWN`;
  }
}
