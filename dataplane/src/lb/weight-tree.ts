/**
 * A Fenwick tree of non-negative weights indexed from 1 (server ids): set a weight,
 * read a prefix sum, and find the index a uniform draw in [0, total) lands on, all in O(log n).
 * Used by `random` to draw servers in proportion to their weights without scanning them.
 */
export class WeightTree {
  #tree: Float64Array;
  #values: Float64Array;
  /** Highest usable index. */
  #size: number;
  #total = 0;

  constructor(capacity = 16) {
    this.#size = Math.max(1, capacity);
    this.#tree = new Float64Array(this.#size + 1);
    this.#values = new Float64Array(this.#size + 1);
  }

  get total(): number {
    return this.#total;
  }

  get(index: number): number {
    return index >= 1 && index <= this.#size ? this.#values[index] : 0;
  }

  set(index: number, value: number): void {
    if (index < 1) throw new RangeError(`index ${index} must be at least 1`);
    if (index > this.#size) {
      if (value === 0) return;
      this.#grow(index);
    }
    const delta = value - this.#values[index];
    if (delta === 0) return;
    this.#values[index] = value;
    this.#total += delta;
    const tree = this.#tree;
    const n = this.#size;
    for (let i = index; i <= n; i += i & -i) tree[i] += delta;
  }

  /** Sum of the weights at indices 1..index. */
  prefix(index: number): number {
    const tree = this.#tree;
    let sum = 0;
    for (let i = Math.min(index, this.#size); i > 0; i -= i & -i) sum += tree[i];
    return sum;
  }

  /**
   * The smallest index whose prefix sum exceeds `u`, for 0 <= u < total (the index a point drawn
   * in [0, total) falls on); 0 when total is 0. A u at or past the total, as rounding may give
   * with fractional weights, lands on the last index that has weight.
   */
  find(u: number): number {
    const tree = this.#tree;
    const n = this.#size;
    let pos = 0;
    let rest = u;
    let step = 1;
    while (step * 2 <= n) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && tree[next] <= rest) {
        pos = next;
        rest -= tree[next];
      }
    }
    if (pos < n) return pos + 1;
    // Past the end: the last index with weight, if any.
    for (let i = n; i > 0; i--) if (this.#values[i] > 0) return i;
    return 0;
  }

  #grow(index: number): void {
    const size = Math.max(index, this.#size * 2);
    const values = new Float64Array(size + 1);
    values.set(this.#values);
    const tree = Float64Array.from(values);
    for (let i = 1; i <= size; i++) {
      const j = i + (i & -i);
      if (j <= size) tree[j] += tree[i];
    }
    this.#values = values;
    this.#tree = tree;
    this.#size = size;
  }
}
