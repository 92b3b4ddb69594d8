import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LbServer } from './algorithm.ts';
import { leastconn } from './leastconn.ts';
import { drop, sequence, server, servers, setWeight, take, tally, upAll } from './testkit.ts';

function lc(weights: number[], maxConnections = 0) {
  const alg = leastconn.create();
  const list = servers(weights, maxConnections);
  upAll(alg, list);
  return { alg, list };
}

describe('leastconn', () => {
  it('declares no input and no hashing', () => {
    assert.equal(leastconn.name, 'leastconn');
    assert.equal(leastconn.needs, 'none');
    assert.equal(leastconn.hashed, false);
  });

  it('picks the server with the fewest requests in flight', () => {
    const { alg, list } = lc([1, 1, 1]);
    take(alg, list[0]);
    take(alg, list[0]);
    take(alg, list[2]);
    assert.equal(alg.pick({})?.name, 's2');
    take(alg, list[1]);
    take(alg, list[1]);
    assert.equal(alg.pick({})?.name, 's3');
  });

  it('compares (active + 1) / weight', () => {
    const { alg, list } = lc([2, 1]);
    // Idle: 1/2 < 1/1, the heavier server first.
    assert.equal(alg.pick({})?.name, 's1');
    take(alg, list[0]);
    take(alg, list[0]);
    take(alg, list[1]);
    // 3/2 < 2/1
    assert.equal(alg.pick({})?.name, 's1');
    take(alg, list[0]);
    // 4/2 = 2/1: a tie.
    assert.equal(alg.pick({})?.name, 's2');
    assert.equal(alg.pick({})?.name, 's1');
    take(alg, list[0]);
    // 5/2 > 2/1
    assert.equal(alg.pick({})?.name, 's2');
    assert.equal(alg.pick({})?.name, 's2');
  });

  it('rotates among equally loaded servers with take and drop', () => {
    const { alg } = lc([1, 1, 1]);
    const names: string[] = [];
    for (let i = 0; i < 9; i++) {
      const s = alg.pick({}) as LbServer;
      names.push(s.name);
      take(alg, s);
      drop(alg, s);
    }
    assert.deepEqual(names, ['s1', 's2', 's3', 's1', 's2', 's3', 's1', 's2', 's3']);
  });

  it('rotates among ties even when picks are not followed by a take', () => {
    const { alg } = lc([1, 1, 1]);
    assert.deepEqual(sequence(alg, 6), ['s1', 's2', 's3', 's1', 's2', 's3']);
  });

  it('spreads concurrent requests evenly', () => {
    const { alg, list } = lc([1, 1, 1, 1]);
    for (let i = 0; i < 40; i++) take(alg, alg.pick({}) as LbServer);
    assert.deepEqual(
      list.map((s) => s.active),
      [10, 10, 10, 10],
    );
  });

  it('spreads concurrent requests in proportion to weight', () => {
    const { alg, list } = lc([1, 2, 3]);
    for (let i = 0; i < 60; i++) take(alg, alg.pick({}) as LbServer);
    assert.deepEqual(
      list.map((s) => s.active),
      [10, 20, 30],
    );
  });

  it('sends new requests away from a slow server that holds its connections', () => {
    const { alg, list } = lc([1, 1, 1]);
    const [slow] = list;
    // Requests that land on s1 never finish; the others finish before the next request.
    const got: string[] = [];
    for (let i = 0; i < 300; i++) {
      const s = alg.pick({}) as LbServer;
      got.push(s.name);
      take(alg, s);
      if (s !== slow) drop(alg, s);
    }
    assert.equal(slow.active, 1);
    const counts = tally(got);
    assert.equal(counts.s1, 1);
    assert.ok(Math.abs(counts.s2 - counts.s3) <= 1, JSON.stringify(counts));
  });

  it('favours the fast server in a request-completion simulation', () => {
    const { alg, list } = lc([1, 1]);
    // s1 answers in 10 ticks, s2 in 1 tick; one request arrives per tick.
    const latency = [10, 1];
    const finishing: LbServer[][] = Array.from({ length: 2000 }, () => []);
    const served = [0, 0];
    for (let tick = 0; tick < 1000; tick++) {
      for (const s of finishing[tick]) drop(alg, s);
      const s = alg.pick({}) as LbServer;
      take(alg, s);
      served[s.id - 1]++;
      finishing[tick + latency[s.id - 1]].push(s);
    }
    assert.ok(served[1] > served[0] * 3, `served ${served}`);
    assert.ok(list[0].active <= 2, `slow server holds ${list[0].active}`);
  });

  it('skips full servers and returns null when all are full', () => {
    const { alg, list } = lc([1, 1], 1);
    take(alg, alg.pick({}) as LbServer);
    take(alg, alg.pick({}) as LbServer);
    assert.equal(alg.pick({}), null);
    drop(alg, list[1]);
    assert.equal(alg.pick({}), list[1]);
  });

  it('never picks a weight 0 server and follows weight changes', () => {
    const { alg, list } = lc([1, 0]);
    for (let i = 0; i < 5; i++) take(alg, alg.pick({}) as LbServer);
    assert.deepEqual(
      list.map((s) => s.active),
      [5, 0],
    );
    setWeight(alg, list[1], 1);
    assert.equal(alg.pick({}), list[1]);
    setWeight(alg, list[1], 0);
    assert.equal(alg.pick({}), list[0]);
  });

  it('forgets a server that goes down and takes it back up with its current load', () => {
    const { alg, list } = lc([1, 1]);
    alg.onServerDown(list[0]);
    assert.equal(alg.pick({}), list[1]);
    take(alg, list[1]);
    // Connections ending on a down server are ignored.
    list[0].active = 3;
    alg.onDropConn(list[0]);
    alg.onServerUp(list[0]);
    assert.equal(alg.pick({}), list[1]);
  });

  it('avoids the given server unless it is the only candidate', () => {
    const { alg, list } = lc([1, 1, 1]);
    take(alg, list[1]);
    take(alg, list[2]);
    assert.equal(alg.pick({ avoid: list[0] }), list[1]);
    const single = leastconn.create();
    const only = server(9);
    single.onServerUp(only);
    assert.equal(single.pick({ avoid: only }), only);
    assert.equal(leastconn.create().pick({}), null);
  });
});
