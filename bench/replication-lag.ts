/**
 * Stick-table replication lag between two data-plane processes on one host (`npm run
 * bench:replication`): a writer process updates a replicated table at a given rate over a set of
 * keys, plus a probe key whose server_id is its write time; a reader process, its peer, records
 * how long each probe write took to become visible (write -> visible), and the mesh's own lag
 * (sent -> merged). Both use the data plane's real StickTables, StickRelay (10 ms flushes) and
 * PeerMesh over a loopback websocket. Writes bench/results/replication-lag.{md,json}.
 *
 *   npm run bench:replication                 rates 2k, 20k, 100k writes/s, 10 s each
 *   SECONDS=3 npm run bench:replication       shorter runs
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StickTables } from '../dataplane/src/stick/replication.ts';
import { wallClock } from '../dataplane/src/stick/wall-clock.ts';
import { StickRelay } from '../dataplane/src/workers/stick-relay.ts';
import { PeerMesh } from '../dataplane/src/peers/peer-mesh.ts';
import { LagWindow } from '../dataplane/src/peers/lag.ts';
import { createLogger } from '../dataplane/src/logger.ts';

const TABLE = { name: 'frontend:default/web', type: 'ip' as const, keyLength: 32, size: 100_000, expireMs: null, store: [{ type: 'conn_cur' as const }, { type: 'http_req_cnt' as const }, { type: 'http_req_rate' as const, periodMs: 10_000 }, { type: 'server_id' as const }], replicate: true };
const role = process.argv[2];
const log = createLogger({ level: 'warn' });
const rate = Number(process.env.RATE ?? 2000);
const keys = Number(process.env.KEYS ?? 500);
const seconds = Number(process.env.SECONDS ?? 10);

function node(name: string) {
  const tables = new StickTables(`${name}/x${Math.random().toString(16).slice(2, 8)}/w0`, wallClock);
  tables.apply([TABLE]);
  const relay = new StickRelay({ tables, workers: null, logger: log, flushMs: Number(process.env.FLUSH ?? 10) });
  relay.applied([TABLE]);
  return { tables, relay };
}

interface Row {
  rate: number;
  keys: number;
  flushMs: number;
  meshLag: { count: number; p50: number | null; p99: number | null; max: number | null };
  probeWriteToVisible: { count: number; p50: number | null; p99: number | null; max: number | null };
  requestsSeen: number;
  written: number;
}

/** One writer/reader pair at `rate` writes/s over `keyCount` keys. */
async function measure(rateNow: number, keyCount: number): Promise<Row> {
  const env = { ...process.env, RATE: String(rateNow), KEYS: String(keyCount) };
  const reader = fork(new URL(import.meta.url), ['reader'], { execArgv: process.execArgv, env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const url: string = await new Promise((resolve) => reader.once('message', (m) => resolve(m as string)));
  const writer = fork(new URL(import.meta.url), ['writer', url], { execArgv: process.execArgv, env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let writerOut = '';
  writer.stdout!.on('data', (c: Buffer) => (writerOut += c));
  await new Promise((resolve) => writer.once('exit', resolve));
  let readerOut = '';
  reader.stdout!.on('data', (c: Buffer) => (readerOut += c));
  reader.send('report');
  await new Promise((resolve) => reader.once('exit', resolve));
  // The last line is the result; log lines (a peer leaving) may come before it.
  const last = (text: string): string => text.trim().split('\n').at(-1)!;
  return { ...(JSON.parse(last(readerOut)) as Omit<Row, 'written'>), written: (JSON.parse(last(writerOut)) as { written: number }).written };
}

if (role === undefined) {
  const rows: Row[] = [];
  for (const [r, k] of [
    [2000, 5000],
    [20_000, 5000],
    [100_000, 20_000],
  ] as const) {
    const row = await measure(r, k);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  const ms = (v: number | null): string => (v === null ? '-' : `${v}`);
  const md = [
    `# Stick-table replication lag (${new Date().toISOString()}, ${seconds} s per row, two processes on loopback, flush every ${rows[0]!.flushMs} ms)`,
    '',
    '| writes/s | keys | write -> visible p50 / p99 / max (ms) | mesh lag p50 / p99 / max (ms) | writes seen by the peer |',
    '| ---: | ---: | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.rate} | ${r.keys} | ${ms(r.probeWriteToVisible.p50)} / ${ms(r.probeWriteToVisible.p99)} / ${ms(r.probeWriteToVisible.max)} | ${ms(r.meshLag.p50)} / ${ms(r.meshLag.p99)} / ${ms(r.meshLag.max)} | ${r.requestsSeen} of ${r.written} |`,
    ),
    '',
  ].join('\n');
  const out = join(import.meta.dirname, 'results');
  writeFileSync(join(out, 'replication-lag.json'), JSON.stringify({ seconds, rows }, null, 2) + '\n');
  writeFileSync(join(out, 'replication-lag.md'), md);
  console.log(md);
} else if (role === 'reader') {
  const { tables, relay } = node('reader');
  const probe = new LagWindow(100_000);
  const merge = relay.merge.bind(relay);
  let last = -1;
  relay.merge = (u) => {
    merge(u);
    const id = tables.get(TABLE.name)!.lookup('10.255.255.255')?.serverId() ?? -1;
    if (id !== last && id > 0) {
      last = id;
      probe.record((Date.now() % 1e9) - id);
    }
  };
  const mesh = new PeerMesh({ node: 'reader', instance: 'r', replica: relay, token: 't', logger: log, listen: { host: '127.0.0.1', port: 0 } });
  await mesh.start();
  process.send!(mesh.url);
  process.on('message', () => {
    const s = mesh.stats();
    const total = tables.get(TABLE.name)!;
    let sum = 0;
    for (let i = 0; i < keys; i++) sum += total.lookup(`10.0.${i >> 8}.${i & 255}`)?.read('http_req_cnt') ?? 0;
    console.log(JSON.stringify({ rate, keys, flushMs: Number(process.env.FLUSH ?? 10), meshLag: s.lag, probeWriteToVisible: probe.summary(), requestsSeen: sum }));
    process.exit(0);
  });
} else {
  const { tables, relay } = node('writer');
  const mesh = new PeerMesh({ node: 'writer', instance: 'w', replica: relay, token: 't', logger: log, staticPeers: [process.argv[3]!] });
  await mesh.start();
  while (mesh.stats().peers[0]?.state !== 'live') await new Promise((r) => setTimeout(r, 10));
  const table = tables.get(TABLE.name)!;
  const end = Date.now() + seconds * 1000;
  let written = 0;
  let k = 0;
  let nextProbe = 0;
  const tick = 1; // ms
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - (end - seconds * 1000)) / 1000) * rate);
    while (written < due) {
      const i = k++ % keys;
      table.track(`10.0.${i >> 8}.${i & 255}`)!.httpRequest();
      written++;
    }
    if (Date.now() >= nextProbe) {
      table.track('10.255.255.255')!.setServerId(Date.now() % 1e9);
      nextProbe = Date.now() + 20 + Math.random() * 30;
    }
    await new Promise((r) => setTimeout(r, tick));
  }
  await new Promise((r) => setTimeout(r, 500));
  console.log(JSON.stringify({ written }));
  await mesh.close();
  process.exit(0);
}
