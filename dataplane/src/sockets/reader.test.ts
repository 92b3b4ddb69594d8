import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { READ_SIZE, Reader } from './reader.ts';

/** A connected pair: `reading` reads through a Reader whose chunks go to `onChunk`. */
async function pair(onChunk: (chunk: Buffer, reader: Reader) => void): Promise<{ writer: net.Socket; reading: net.Socket; reader: Reader; close(): void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const reader: Reader = new Reader((chunk) => onChunk(chunk, reader));
  const reading = net.connect({ host: '127.0.0.1', port, onread: reader.onread });
  const [writer] = (await once(server, 'connection')) as [net.Socket];
  await once(reading, 'connect');
  return {
    writer,
    reading,
    reader,
    close: () => {
      writer.destroy();
      reading.destroy();
      server.close();
    },
  };
}

test('small reads are borrowed from the shared buffer: owned() copies them, and the copy survives the next read', async () => {
  const kept: Buffer[] = [];
  const seen: boolean[] = [];
  let got = 0;
  const done = Promise.withResolvers<void>();
  const p = await pair((chunk, reader) => {
    seen.push(reader.borrows(chunk));
    kept.push(reader.owned(chunk));
    got += chunk.length;
    if (got === 6) done.resolve();
  });
  p.writer.write('abc');
  await new Promise((r) => setTimeout(r, 20));
  p.writer.write('xyz');
  await done.promise;
  p.close();
  assert.deepEqual(seen, [true, true]);
  assert.equal(Buffer.concat(kept).toString(), 'abcxyz');
  assert.equal(kept[0]!.buffer === kept[1]!.buffer && kept[0]!.byteOffset === kept[1]!.byteOffset, false);
});

test('write() of a borrowed small chunk sends the bytes as they were, though the write waits while read memory is reused', async () => {
  // Every chunk read is forwarded to `out`, corked: the writes stay queued in the socket while
  // later reads overwrite the shared buffer they were read into.
  const sink = net.createServer();
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const out = net.connect((sink.address() as net.AddressInfo).port, '127.0.0.1');
  const [drainSide] = (await once(sink, 'connection')) as [net.Socket];
  out.cork();
  let forwarded = 0;
  const total = 200;
  const all = Promise.withResolvers<void>();
  const p = await pair((chunk, reader) => {
    reader.write(out, chunk);
    forwarded += chunk.length;
    if (forwarded === total * 4) all.resolve();
  });
  try {
  for (let i = 0; i < total; i++) {
    p.writer.write(String(i % 10).repeat(4));
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await all.promise;
  assert.ok(out.writableLength > 0, 'the writes were still queued when the reads were done');
  const received: Buffer[] = [];
  drainSide.on('data', (d: Buffer) => received.push(d));
  out.uncork();
  for (let i = 0; i < 400 && Buffer.concat(received).length < total * 4; i++) await new Promise((r) => setTimeout(r, 5));
  const expected = Array.from({ length: total }, (_, i) => String(i % 10).repeat(4)).join('');
  assert.equal(Buffer.concat(received).toString(), expected);
  } finally {
    p.close();
    out.destroy();
    drainSide.destroy();
    sink.close();
  }
});

test('after a large read the socket reads into a buffer of its own, not the shared one', async () => {
  const reads: { length: number; shared: boolean }[] = [];
  let got = 0;
  const payload = Buffer.alloc(READ_SIZE * 4, 0x61);
  const done = Promise.withResolvers<void>();
  let sharedBuffer: ArrayBufferLike | null = null;
  const p = await pair((chunk, reader) => {
    if (reads.length === 0) sharedBuffer = chunk.buffer; // the first read (small, below) lands in the shared buffer
    reads.push({ length: chunk.length, shared: chunk.buffer === sharedBuffer });
    assert.equal(reader.borrows(chunk), true);
    got += chunk.length;
    if (got === 1 + payload.length) done.resolve();
  });
  p.writer.write('x');
  await new Promise((r) => setTimeout(r, 20));
  p.writer.write(payload);
  await done.promise;
  p.close();
  const afterLarge = reads.findIndex((r, i) => i > 0 && r.length >= 16 * 1024);
  assert.ok(afterLarge > 0, 'some read was large');
  assert.ok(afterLarge + 1 < reads.length, 'more reads followed the first large one');
  assert.equal(reads[afterLarge + 1]!.shared, false);
});

/** `total` bytes, each 1 KiB block numbered, so a block overwritten by a later read shows. */
function numbered(total: number): Buffer {
  const out = Buffer.alloc(total);
  for (let i = 0; i < total; i += 1024) out.write(String(i / 1024).padStart(1024, '.'), i, 'latin1');
  return out;
}

/** A socket to write to, and everything it received. */
async function receiver(): Promise<{ out: net.Socket; received(): Buffer; close(): void }> {
  const sink = net.createServer();
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const out = net.connect((sink.address() as net.AddressInfo).port, '127.0.0.1');
  const [side] = (await once(sink, 'connection')) as [net.Socket];
  const chunks: Buffer[] = [];
  side.on('data', (d: Buffer) => chunks.push(d));
  return {
    out,
    received: () => Buffer.concat(chunks),
    close: () => {
      out.destroy();
      side.destroy();
      sink.close();
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

test('bulk reads: bytes a queued write still holds are never read over, however many reads follow', async () => {
  // `out` is corked: every write stays queued while all the reads happen.
  const payload = numbered(READ_SIZE * 16);
  const r = await receiver();
  r.out.cork();
  let forwarded = 0;
  const all = Promise.withResolvers<void>();
  const p = await pair((chunk, reader) => {
    reader.write(r.out, chunk);
    forwarded += chunk.length;
    if (forwarded === payload.length) all.resolve();
  });
  try {
    p.writer.write(payload);
    await all.promise;
    assert.ok(r.out.writableLength > 0, 'the writes were still queued when the reads were done');
    r.out.uncork();
    await until(() => r.received().length >= payload.length);
    assert.equal(r.received().equals(payload), true);
  } finally {
    p.close();
    r.close();
  }
});

test('bulk reads reuse a few buffers: each goes back to the pool once the writes holding it complete', async () => {
  // Eight responses: each a burst of large reads whose writes all stay queued (corked) until the
  // burst is read, then a small read, after which a socket reads into the shared buffer again.
  const bursts = 8;
  const burst = numbered(READ_SIZE * 4);
  const r = await receiver();
  const buffers = new Set<ArrayBufferLike>();
  let bulkReads = 0;
  let readsThisBurst = 0;
  let mostReadsInABurst = 0;
  let forwarded = 0;
  let burstRead = Promise.withResolvers<void>();
  const p = await pair((chunk, reader) => {
    if (chunk.length >= 16 * 1024) {
      bulkReads++;
      buffers.add(chunk.buffer);
      mostReadsInABurst = Math.max(mostReadsInABurst, ++readsThisBurst);
    }
    reader.write(r.out, chunk);
    forwarded += chunk.length;
    if (forwarded % (burst.length + 1) === 0) burstRead.resolve();
  });
  try {
    for (let b = 0; b < bursts; b++) {
      readsThisBurst = 0;
      burstRead = Promise.withResolvers<void>();
      r.out.cork();
      p.writer.write(burst);
      p.writer.write('.');
      await burstRead.promise;
      r.out.uncork();
      await until(() => r.received().length === (b + 1) * (burst.length + 1));
    }
    const expected = Buffer.concat(Array.from({ length: bursts }, () => [burst, Buffer.from('.')]).flat());
    assert.equal(r.received().equals(expected), true);
    assert.ok(bulkReads >= bursts * 2, `${bulkReads} large reads`);
    // Without the pool every large read of a burst after the first took a fresh buffer.
    assert.ok(buffers.size <= mostReadsInABurst + 1, `${buffers.size} buffers for ${bulkReads} large reads, at most ${mostReadsInABurst} in a burst`);
  } finally {
    p.close();
    r.close();
  }
});
