import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seeded } from './testkit.ts';
import { WeightTree } from './weight-tree.ts';

describe('WeightTree', () => {
  it('matches a plain array under random updates, growth included', () => {
    const rand = seeded(3);
    const tree = new WeightTree(2);
    const plain: number[] = [0];
    for (let step = 0; step < 2000; step++) {
      const index = 1 + Math.floor(rand() * 70);
      const value = rand() < 0.3 ? 0 : Math.floor(rand() * 257);
      tree.set(index, value);
      while (plain.length <= index) plain.push(0);
      plain[index] = value;
      const total = plain.reduce((a, b) => a + b, 0);
      assert.equal(tree.total, total);
      assert.equal(tree.get(index), value);
      const probe = 1 + Math.floor(rand() * 70);
      assert.equal(tree.prefix(probe), plain.slice(0, probe + 1).reduce((a, b) => a + b, 0));
      if (total > 0) {
        const u = Math.floor(rand() * total);
        let at = 0;
        let sum = 0;
        while (sum <= u) sum += plain[++at];
        assert.equal(tree.find(u), at);
      }
    }
  });

  it('finds nothing in an empty tree and rejects index 0', () => {
    const tree = new WeightTree();
    assert.equal(tree.find(0), 0);
    assert.throws(() => tree.set(0, 1), RangeError);
  });
});
