import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionList, type Listed } from './session-list.ts';

const session = (): Listed => ({ listIndex: -1 });

describe('SessionList', () => {
  it('counts, removes in any order and keeps every index pointing at its own session', () => {
    const list = new SessionList<Listed>();
    const s = [session(), session(), session(), session()];
    for (const x of s) list.add(x);
    assert.equal(list.size, 4);
    assert.equal(list.delete(s[1]!), true);
    assert.equal(s[1]!.listIndex, -1);
    assert.deepEqual(new Set(list.snapshot()), new Set([s[0], s[2], s[3]]));
    for (const x of list.snapshot()) assert.equal(list.snapshot()[x.listIndex], x);
    assert.equal(list.delete(s[3]!), true);
    assert.equal(list.delete(s[0]!), true);
    assert.deepEqual(list.snapshot(), [s[2]]);
    assert.equal(s[2]!.listIndex, 0);
  });

  it('says false for a session it does not hold, also one with a stale index', () => {
    const a = new SessionList<Listed>();
    const b = new SessionList<Listed>();
    const x = session();
    const y = session();
    a.add(x);
    b.add(y);
    assert.equal(b.delete(x), false, 'x has index 0, but b holds y there');
    assert.equal(a.delete(x), true);
    assert.equal(a.delete(x), false);
    assert.equal(b.size, 1);
  });

  it('refuses a session that is already listed', () => {
    const list = new SessionList<Listed>();
    const x = session();
    list.add(x);
    assert.throws(() => list.add(x), /already in a list/);
  });

  it('hands out a copy, so sessions may leave while a caller goes through it', () => {
    const list = new SessionList<Listed>();
    const s = [session(), session(), session()];
    for (const x of s) list.add(x);
    let seen = 0;
    for (const x of list.snapshot()) {
      list.delete(x);
      seen++;
    }
    assert.equal(seen, 3);
    assert.equal(list.size, 0);
  });
});
