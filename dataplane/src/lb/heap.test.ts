import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexedHeap } from './heap.ts';
import { seeded } from './testkit.ts';

interface Item {
  heapIndex: number;
  key: number;
  id: number;
}

describe('IndexedHeap', () => {
  it('keeps the order of a sorted list through push, pop, remove and update', () => {
    const rand = seeded(5);
    const less = (a: Item, b: Item) => a.key < b.key || (a.key === b.key && a.id < b.id);
    const heap = new IndexedHeap<Item>(less);
    const items: Item[] = Array.from({ length: 50 }, (_, id) => ({ heapIndex: -1, key: 0, id }));
    const inside = new Set<Item>();
    const sorted = () => [...inside].sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
    for (let step = 0; step < 5000; step++) {
      const item = items[Math.floor(rand() * items.length)];
      const op = rand();
      if (op < 0.35) {
        if (!inside.has(item)) {
          item.key = Math.floor(rand() * 20);
          heap.push(item);
          inside.add(item);
        }
      } else if (op < 0.5) {
        const top = heap.pop();
        assert.equal(top, sorted()[0]);
        if (top) inside.delete(top);
      } else if (op < 0.7) {
        assert.equal(heap.remove(item), inside.has(item));
        inside.delete(item);
      } else {
        item.key = Math.floor(rand() * 20);
        heap.update(item);
      }
      const order = sorted();
      assert.equal(heap.size, order.length);
      assert.equal(heap.peek(), order[0]);
      assert.equal(heap.second(), order[1]);
      for (const x of items) assert.equal(heap.has(x), inside.has(x));
    }
  });
});
