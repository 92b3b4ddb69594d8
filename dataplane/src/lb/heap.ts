/**
 * A binary min-heap whose items remember their own position, so that an item can be removed or
 * re-sorted in O(log n) without a search (what HAProxy gets from its ebtrees). The ordering is a
 * `less(a, b)` given once; no allocation happens after the backing array has grown.
 *
 * An item may belong to one heap at a time: `heapIndex` is -1 when it is in none.
 */
export interface HeapItem {
  heapIndex: number;
}

export class IndexedHeap<T extends HeapItem> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The smallest item, or undefined when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Item at array position `i` (0 is the top; 1 and 2 are its children). */
  at(i: number): T | undefined {
    return this.#items[i];
  }

  /** The second smallest item: the smaller child of the top. O(1). */
  second(): T | undefined {
    const items = this.#items;
    const a = items[1];
    const b = items[2];
    if (a === undefined) return b;
    if (b === undefined) return a;
    return this.#less(b, a) ? b : a;
  }

  has(item: T): boolean {
    const i = item.heapIndex;
    return i >= 0 && this.#items[i] === item;
  }

  push(item: T): void {
    const items = this.#items;
    item.heapIndex = items.length;
    items.push(item);
    this.#up(item.heapIndex);
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    this.#removeAt(0);
    return top;
  }

  /** Removes `item` if it is in this heap; returns whether it was. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    this.#removeAt(item.heapIndex);
    return true;
  }

  /** Restores the order after `item`'s key changed. */
  update(item: T): void {
    if (!this.has(item)) return;
    if (!this.#up(item.heapIndex)) this.#down(item.heapIndex);
  }

  clear(): void {
    for (const item of this.#items) item.heapIndex = -1;
    this.#items.length = 0;
  }

  #removeAt(i: number): void {
    const items = this.#items;
    const gone = items[i];
    const last = items.pop() as T;
    gone.heapIndex = -1;
    if (last === gone) return;
    items[i] = last;
    last.heapIndex = i;
    if (!this.#up(i)) this.#down(i);
  }

  /** Sifts up; returns whether the item moved. */
  #up(i: number): boolean {
    const items = this.#items;
    const item = items[i];
    const start = i;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p];
      if (!this.#less(item, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = item;
    item.heapIndex = i;
    return i !== start;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#less(items[r], items[l]) ? r : l;
      const child = items[c];
      if (!this.#less(child, item)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
