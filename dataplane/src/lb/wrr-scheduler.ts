/**
 * The smooth weighted round-robin engine behind `roundrobin`, `static-rr` and the round-robin
 * fallback of the hashing algorithms. O(log n) per pick, no allocation.
 *
 * A virtual-clock scheduler in the family of HAProxy's fwrr (lb_fwrr.c) and of WF2Q: the clock V
 * advances by 1/W per pick (W = total weight of the up servers), and a server of weight w owns one
 * turn in every 1/w of V, so its n-th turn is a window [release, deadline) of length 1/w. Among the
 * servers whose window has opened, the one whose window closes first wins (earliest deadline
 * first, ties by id). Shares add up to exactly one turn per pick, so every turn lands in its
 * window: with weights unchanged, after t picks a server of weight w has been picked within one
 * of t*w/W times, the sequence interleaves (weights 5,1,1 give s1 s2 s1 s1 s3 s1 s1, never five
 * s1 in a row), and equal weights give a strict rotation in id order.
 *
 * Because windows are measured in V, a change of the total weight changes only how fast V moves,
 * never anybody's window, so nothing has to be recomputed when other servers come and go:
 * - a server that comes up (or back from weight 0) opens its window at V (rounded up to its own
 *   unit, so its first turn comes within its normal interval, never as an extra one);
 * - a weight change keeps the server's open window start and recomputes its end;
 * - a full server leaves the schedule and returns with its window clamped to V, so it loses the
 *   turns it could not take instead of receiving a burst afterwards (fwrr likewise moves
 *   saturated servers forward);
 * - when no window is open (servers full or gone), V jumps to the next opening, so the servers
 *   left keep their proportions and a returning server finds them in step.
 *
 * Arithmetic is exact, like fwrr's npos/rweight: a time is an integer plus a remainder counted in
 * 1/w (a server's times) or 1/W (V), compared by cross-multiplication, so ties are real ties and
 * nothing drifts. The integers are shifted down now and then to stay small.
 */
import type { LbServer } from './algorithm.ts';
import { isFull } from './capacity.ts';
import { IndexedHeap } from './heap.ts';

const NOWHERE = 0;
const READY = 1;
const WAITING = 2;

/** Integer parts are shifted down by this much once V reaches it. */
const EPOCH = 2 ** 20;

/**
 * Weights are scheduled in 1/16ths (HAProxy's BE_WEIGHT_SCALE), so that a fractional effective
 * weight, as slow start produces, still counts; scaling every weight alike changes no sequence.
 */
const WEIGHT_SCALE = 16;

/** The integer scheduling weight for an effective weight (any positive weight counts). */
function units(weight: number): number {
  return weight > 0 ? Math.max(1, Math.round(weight * WEIGHT_SCALE)) : 0;
}

class WrrNode {
  heapIndex = -1;
  server: LbServer;
  up = false;
  /** Effective weight as given. */
  given = 0;
  /** Weight used for scheduling (units()), and the unit of the remainders below; 0 keeps the server out. */
  weight = 0;
  full = false;
  /** Which heap holds the node. */
  queue = NOWHERE;
  /** Window start: rPos + rRem / weight. */
  rPos = 0;
  rRem = 0;
  /** Window end: dPos + dRem / weight. */
  dPos = 0;
  dRem = 0;

  constructor(server: LbServer) {
    this.server = server;
  }
}

function byDeadline(a: WrrNode, b: WrrNode): boolean {
  if (a.dPos !== b.dPos) return a.dPos < b.dPos;
  const c = a.dRem * b.weight - b.dRem * a.weight;
  return c < 0 || (c === 0 && a.server.id < b.server.id);
}

function byRelease(a: WrrNode, b: WrrNode): boolean {
  if (a.rPos !== b.rPos) return a.rPos < b.rPos;
  const c = a.rRem * b.weight - b.rRem * a.weight;
  return c < 0 || (c === 0 && byDeadline(a, b));
}

export class WrrScheduler {
  /** Nodes by server id (ids are small, dense and unique within a cluster). */
  readonly #nodes: (WrrNode | undefined)[] = [];
  /** Servers whose window is open, by deadline. */
  readonly #ready = new IndexedHeap<WrrNode>(byDeadline);
  /** Servers whose window opens later, by release. */
  readonly #waiting = new IndexedHeap<WrrNode>(byRelease);
  /** Virtual time V = vPos + vRem / total. */
  #vPos = 0;
  #vRem = 0;
  /** Sum of the scheduling weights of the up servers, full ones included. */
  #total = 0;
  readonly #epoch: number;

  /** `epoch`: how far the integer parts may grow before they are shifted down (tests make it tiny). */
  constructor(epoch = EPOCH) {
    this.#epoch = Math.max(1, Math.floor(epoch));
  }

  /** The weight the scheduler was given for `server` (0 when down or unknown). */
  weightOf(server: LbServer): number {
    const n = this.#nodes[server.id];
    return n !== undefined && n.up ? n.given : 0;
  }

  up(server: LbServer, weight: number): void {
    const n = this.#node(server);
    if (n.up) {
      this.setWeight(server, weight);
      this.refreshFull(server);
      return;
    }
    n.up = true;
    n.given = weight;
    n.weight = units(weight);
    n.full = isFull(server);
    this.#setTotal(this.#total + n.weight);
    if (n.weight > 0) {
      this.#place(n);
      this.#enqueue(n);
    }
  }

  down(server: LbServer): void {
    const n = this.#nodes[server.id];
    if (n === undefined || !n.up) return;
    this.#dequeue(n);
    this.#setTotal(this.#total - n.weight);
    n.up = false;
  }

  setWeight(server: LbServer, given: number): void {
    const n = this.#nodes[server.id];
    if (n === undefined || !n.up) return;
    n.given = given;
    const weight = units(given);
    const old = n.weight;
    if (old === weight) return;
    this.#setTotal(this.#total + weight - old);
    this.#dequeue(n);
    n.weight = weight;
    if (weight === 0) return;
    if (old === 0) {
      this.#place(n);
    } else {
      // Same window start in the new unit (rounded up), new length.
      const rem = Math.ceil((n.rRem * weight) / old);
      if (rem >= weight) {
        n.rPos++;
        n.rRem = rem - weight;
      } else {
        n.rRem = rem;
      }
      this.#closeWindow(n);
    }
    this.#enqueue(n);
  }

  /** Re-reads whether the server is full; call after its `active` changed. */
  refreshFull(server: LbServer): void {
    const n = this.#nodes[server.id];
    if (n === undefined || !n.up) return;
    const full = isFull(server);
    if (full === n.full) return;
    n.full = full;
    if (full) {
      this.#dequeue(n);
      return;
    }
    if (n.weight === 0) return;
    if (this.#beforeNow(n.rPos, n.rRem, n.weight)) this.#place(n);
    this.#enqueue(n);
  }

  /** The next server, `avoid` only when it is the sole candidate; null when none may take a request. */
  pick(avoid: LbServer | null): LbServer | null {
    const ready = this.#ready;
    const waiting = this.#waiting;
    if (ready.size === 0) {
      const next = waiting.peek();
      if (next === undefined) return null;
      this.#jumpTo(next);
    }
    this.#promote();
    let n = ready.peek() as WrrNode;
    if (avoid !== null && n.server === avoid) {
      const alt = ready.second() ?? waiting.peek();
      if (alt !== undefined) n = alt;
    }
    this.#dequeue(n);
    // Next turn: the window after this one.
    n.rPos = n.dPos;
    n.rRem = n.dRem;
    this.#closeWindow(n);
    if (++this.#vRem >= this.#total) {
      this.#vRem = 0;
      if (++this.#vPos >= this.#epoch) this.#shift();
    }
    this.#enqueue(n);
    return n.server;
  }

  #node(server: LbServer): WrrNode {
    let n = this.#nodes[server.id];
    if (n === undefined) {
      n = new WrrNode(server);
      this.#nodes[server.id] = n;
    } else {
      n.server = server;
    }
    return n;
  }

  /** Changes W, re-expressing V's remainder in the new unit (rounded up: V never goes back). */
  #setTotal(total: number): void {
    const old = this.#total;
    this.#total = total;
    if (this.#vRem === 0) return;
    if (total <= 0 || old <= 0) {
      this.#vPos++;
      this.#vRem = 0;
      return;
    }
    const rem = Math.ceil((this.#vRem * total) / old);
    if (rem >= total) {
      this.#vPos++;
      this.#vRem = 0;
    } else {
      this.#vRem = rem;
    }
  }

  /** Whether pos + rem/w < V. */
  #beforeNow(pos: number, rem: number, w: number): boolean {
    if (pos !== this.#vPos) return pos < this.#vPos;
    return rem * this.#total < this.#vRem * w;
  }

  /** Whether the node's window has opened: release <= V. */
  #released(n: WrrNode): boolean {
    if (n.rPos !== this.#vPos) return n.rPos < this.#vPos;
    return n.rRem * this.#total <= this.#vRem * n.weight;
  }

  /** Moves V forward to the node's release (rounded up to V's unit) if it is ahead. */
  #jumpTo(n: WrrNode): void {
    if (this.#released(n)) return;
    const total = this.#total;
    const rem = Math.ceil((n.rRem * total) / n.weight);
    if (rem >= total) {
      this.#vPos = n.rPos + 1;
      this.#vRem = 0;
    } else {
      this.#vPos = n.rPos;
      this.#vRem = rem;
    }
  }

  /**
   * Opens the node's window at V, rounded up to the node's unit: the first turn comes within the
   * server's normal interval, never as an extra turn squeezed in before the others.
   */
  #place(n: WrrNode): void {
    const rem = this.#total > 0 ? Math.ceil((this.#vRem * n.weight) / this.#total) : 0;
    if (rem >= n.weight) {
      n.rPos = this.#vPos + 1;
      n.rRem = rem - n.weight;
    } else {
      n.rPos = this.#vPos;
      n.rRem = rem;
    }
    this.#closeWindow(n);
  }

  /** deadline = release + 1/weight. */
  #closeWindow(n: WrrNode): void {
    if (n.rRem + 1 >= n.weight) {
      n.dPos = n.rPos + 1;
      n.dRem = n.rRem + 1 - n.weight;
    } else {
      n.dPos = n.rPos;
      n.dRem = n.rRem + 1;
    }
  }

  #promote(): void {
    const waiting = this.#waiting;
    for (let n = waiting.peek(); n !== undefined && this.#released(n); n = waiting.peek()) {
      waiting.pop();
      n.queue = READY;
      this.#ready.push(n);
    }
  }

  #enqueue(n: WrrNode): void {
    if (!n.up || n.weight === 0 || n.full || n.queue !== NOWHERE) return;
    if (this.#released(n)) {
      n.queue = READY;
      this.#ready.push(n);
    } else {
      n.queue = WAITING;
      this.#waiting.push(n);
    }
  }

  #dequeue(n: WrrNode): void {
    if (n.queue === READY) this.#ready.remove(n);
    else if (n.queue === WAITING) this.#waiting.remove(n);
    n.queue = NOWHERE;
  }

  /** Moves the origin of time down by one epoch; every comparison keeps its result. */
  #shift(): void {
    const epoch = this.#epoch;
    this.#vPos -= epoch;
    for (const n of this.#nodes) {
      if (n === undefined) continue;
      n.rPos -= epoch;
      n.dPos -= epoch;
    }
  }
}
