/**
 * Test support for health checks (used only by the *.test.ts files here): a fake Clock driven by
 * hand and throwaway TCP servers on 127.0.0.1 port 0.
 */
import net from 'node:net';
import type { Clock, TimerHandle } from '../clock.ts';

interface FakeTimer extends TimerHandle {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** A Clock whose time only moves through advance(); records every delay it was asked for. */
export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: FakeTimer[] = [];
  /** Every delay passed to setTimeout, in order. */
  readonly delays: number[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: ++this.#seq, at: this.#now + ms, fn, unref: () => timer };
    this.delays.push(ms);
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t !== handle);
  }

  get pending(): number {
    return this.#timers.length;
  }

  /** Due time of the earliest pending timer, relative to now. */
  get nextDelay(): number | null {
    if (this.#timers.length === 0) return null;
    return Math.min(...this.#timers.map((t) => t.at)) - this.#now;
  }

  /** Moves time forward by ms, firing due timers in order (including ones they schedule). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.fn();
    }
    this.#now = target;
  }
}

/** Lets pending promise callbacks and I/O callbacks run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface FakeServer {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1:0 handing each connection to onConnection. */
export async function startServer(onConnection: (socket: net.Socket) => void): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function refusedPort(): Promise<number> {
  const server = await startServer(() => {});
  const { port } = server;
  await server.close();
  return port;
}

/** Collects everything a connection sends until `done(buffer)` says enough, then calls reply. */
export function onRequest(socket: net.Socket, done: (buf: Buffer) => boolean, reply: (buf: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  let replied = false;
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (!replied && done(buf)) {
      replied = true;
      reply(buf);
    }
  });
}

/**
 * A port on 127.0.0.1 whose connection attempts hang in SYN-SENT, for L4TOUT: a listener with
 * backlog 1 in a worker thread whose event loop is blocked, so it never accepts; its accept queue
 * is filled up first, after which the kernel drops new SYNs.
 */
export async function startBlackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const { Worker } = await import('node:worker_threads');
  const flag = new SharedArrayBuffer(4);
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const net = require('node:net');
    const server = net.createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(server.address().port);
      const flag = new Int32Array(workerData);
      while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 1000);
      server.close();
    });
  `;
  const worker = new Worker(code, { eval: true, workerData: flag });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Fill the accept queue: connect until an attempt no longer completes.
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 16; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) break;
  }
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      const view = new Int32Array(flag);
      Atomics.store(view, 0, 1);
      Atomics.notify(view, 0);
      await worker.terminate();
    },
  };
}

/** Polls cond every few milliseconds until it holds or limitMs passes; returns whether it held. */
export async function eventually(cond: () => boolean, limitMs = 5000): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    if (cond()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return cond();
}
