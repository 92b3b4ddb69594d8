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
