/**
 * The control-plane benchmark (issue 4): for 1,000 Backends with 10 servers each and 50 connected
 * data planes, the time from a resource change to the last ACK, and the controller's memory.
 * See bench/README.md, "Control-plane benchmark".
 *
 *   npm run bench:control-plane                 full run (30 changes of each kind)
 *   npm run bench:control-plane -- --quick      5 changes of each kind; indicative only
 *   npm run bench:control-plane -- --cpu-prof   the controller runs under --cpu-prof; the report
 *                                               (control-plane-cpu-prof.md) adds its profile
 *
 * Three processes: the Kubernetes API emulator (test/kube-apiserver/main.ts), the controller
 * (controller-main.ts: the `switchyard controller` command's code) and this one, which writes the
 * objects through the API and runs the data planes (dataplanes.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { availableParallelism, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { foreignCpuSeconds, foreignTicks, treeCpuSeconds } from '../procfs.ts';
import {
  applyCrds,
  backendPath,
  clusterName,
  KubeClient,
  populate,
  preflight,
  readKubeconfig,
  serviceBackendIndex,
  sliceEndpoints,
  slicePath,
  type Layout,
} from './cluster.ts';
import { measureComponents, type Components } from './components.ts';
import { Fleet, type Receipt, type SnapshotView } from './dataplanes.ts';
import { renderMarkdown, summarizeKind, type ChangeKind, type ControlPlaneReport, type Machine, type MemoryReading, type Round, type Startup } from './report.ts';
import { metricSum, parsePrometheus, statusFieldKiB, summarizeProfile, type CpuProfile } from './stats.ts';

const REPO = resolve(import.meta.dirname, '..', '..');
const REPO_NODE = join(REPO, 'node_modules', '.bin', 'node');
const MiB = 1024 * 1024;
const TRANSLATE = 'switchyard_controller_translate_duration_seconds';

const USAGE = `usage: npm run bench:control-plane [-- options]

  --quick              5 changes of each kind instead of 30; indicative only
  --rounds N           changes of each kind (default 30, quick 5)
  --backends N         Backends (default 1000; the last one's servers come from an EndpointSlice)
  --servers N          servers per Backend (default 10)
  --frontends N        Frontends, each the default of one Backend (default 100)
  --dataplanes N       connected data planes (default 50)
  --no-health          data planes send no health report after their ACKs (the real one does);
                       writes control-plane-no-health.md and .json instead
  --cpu-prof           run the controller under node --cpu-prof and summarize the profile;
                       writes control-plane-cpu-prof.md, .json and .cpuprofile instead
  --out DIR            where control-plane.md and .json go (default bench/results)
  --keep-temp          keep the temp folder (logs, kubeconfig, profile)
  -h, --help           this text
`;

function fail(message: string): never {
  console.error(`bench:control-plane: ${message}`);
  process.exit(1);
}

const { values: args } = (() => {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        rounds: { type: 'string' },
        backends: { type: 'string' },
        servers: { type: 'string' },
        frontends: { type: 'string' },
        dataplanes: { type: 'string' },
        'no-health': { type: 'boolean', default: false },
        'cpu-prof': { type: 'boolean', default: false },
        out: { type: 'string' },
        'keep-temp': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`bench:control-plane: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
})();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

function intArg(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}`);
  return n;
}

const quick = args.quick;
const layout: Layout = {
  backends: intArg('backends', args.backends, 1000, 2),
  servers: intArg('servers', args.servers, 10, 1),
  frontends: intArg('frontends', args.frontends, 100, 0),
};
const roundsPerKind = intArg('rounds', args.rounds, quick ? 5 : 30, 1);
const dataplaneCount = intArg('dataplanes', args.dataplanes, 50, 1);
const health = !args['no-health'];
const cpuProf = args['cpu-prof'];
const outDir = resolve(args.out ?? join(REPO, 'bench', 'results'));
const outBase = `control-plane${health ? '' : '-no-health'}${cpuProf ? '-cpu-prof' : ''}`;

if (Number(process.versions.node.split('.')[0]) < 24) fail(`needs Node 24 (this is ${process.version}); use \`npm run bench:control-plane\` or \`make bench-control-plane\`.`);
if (!existsSync(REPO_NODE)) fail(`${REPO_NODE} is missing; run \`npm ci\` first.`);

// ---------- processes ----------

interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  log: WriteStream;
  exited: Promise<void>;
  exitInfo: { code: number | null; signal: string | null } | null;
}

const children = new Set<Child>();

/** Spawns `node ARGS`, its stdout and stderr into `logFile`, every stdout line also to `onLine`. */
function startNode(name: string, nodeArgs: string[], logFile: string, onLine: (line: string) => void, ipc = false): Child {
  const proc = spawn(REPO_NODE, nodeArgs, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])], env: { ...process.env, LOG_LEVEL: undefined } });
  if (proc.pid === undefined) fail(`cannot start ${name}`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child: Child = {
    name,
    proc,
    pid: proc.pid,
    log,
    exitInfo: null,
    exited: new Promise((resolveExit) =>
      proc.once('exit', (code, signal) => {
        child.exitInfo = { code, signal };
        children.delete(child);
        resolveExit();
      }),
    ),
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    log.write(`${line}\n`);
    onLine(line);
  });
  proc.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  children.add(child);
  return child;
}

async function stopChild(child: Child, graceMs = 10_000): Promise<void> {
  if (child.exitInfo !== null) return;
  child.proc.kill('SIGTERM');
  const timedOut = await Promise.race([child.exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut) {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
}

let cleaning = false;
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  await Promise.all([...children].map((c) => stopChild(c, 3000)));
}
process.on('exit', () => {
  for (const c of children) c.proc.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nbench:control-plane: ${signal}, stopping`);
    void cleanup().then(() => process.exit(130));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function log(message: string): void {
  console.log(`[control-plane] ${message}`);
}

// ---------- measuring helpers ----------

function procStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

/** Waits until `pid` used less than `share` of a CPU over two windows in a row; the time waited. */
async function waitQuiet(pid: number, maxMs: number, share = 0.05, windowMs = 250): Promise<number> {
  const start = performance.now();
  let quietWindows = 0;
  let before = treeCpuSeconds(pid);
  while (performance.now() - start < maxMs) {
    await sleep(windowMs);
    const now = treeCpuSeconds(pid);
    quietWindows = (now - before) / (windowMs / 1000) < share ? quietWindows + 1 : 0;
    before = now;
    if (quietWindows >= 2) break;
  }
  return performance.now() - start;
}

/** Waits (up to maxMs) until the machine's other processes use under 10% of a CPU over 500 ms. */
async function waitOthersQuiet(maxMs: number): Promise<void> {
  const start = performance.now();
  while (performance.now() - start < maxMs) {
    const before = foreignTicks(process.pid);
    await sleep(500);
    if (foreignCpuSeconds(before, foreignTicks(process.pid)) / 0.5 < 0.1) return;
  }
}

function loadavg(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

function machineInfo(loadStart: number[]): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const rev = spawnSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['-C', REPO, 'status', '--porcelain', '--', 'api', 'controller', 'cli', 'package-lock.json'], { encoding: 'utf8' });
  return {
    nproc: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    kernel: release(),
    node: spawnSync(REPO_NODE, ['-v'], { encoding: 'utf8' }).stdout.trim(),
    memTotalMiB: Math.round(totalmem() / MiB),
    switchyard: rev.status === 0 ? `${rev.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted changes' : ''}` : 'unknown revision',
    loadStart,
    loadEnd: loadavg(),
  };
}

// ---------- the run ----------

const problems: string[] = [];
const temp = mkdtempSync(join(tmpdir(), 'switchyard-bench-cp-'));
let keepTemp = args['keep-temp'];

async function main(): Promise<ControlPlaneReport> {
  const loadStart = loadavg();
  const date = new Date().toISOString();
  log(`temp folder ${temp}`);

  // --- API server
  const kubeconfig = join(temp, 'kubeconfig');
  let apiUrl = '';
  const apiReady = new Promise<void>((resolveReady) => {
    const api = startNode('kube-apiserver', [join(REPO, 'test/kube-apiserver/main.ts'), '--port', '0', '--kubeconfig', kubeconfig], join(temp, 'kube-apiserver.log'), (line) => {
      const m = /kube-apiserver listening on (\S+)/.exec(line);
      if (m) {
        apiUrl = m[1]!;
        resolveReady();
      }
    });
    apiChild = api;
  });
  await withTimeout(apiReady, 30_000, 'the API server');
  log(`API server ${apiUrl}`);
  const kube = new KubeClient(readKubeconfig(kubeconfig));

  // --- objects
  const populateStart = performance.now();
  await applyCrds(kube, join(REPO, 'crds'));
  await populate(kube, layout);
  await preflight(kube, layout);
  const populateMs = performance.now() - populateStart;
  log(`created ${layout.backends} Backends x ${layout.servers} servers, ${layout.frontends} Frontends, a Service and its slice in ${(populateMs / 1000).toFixed(1)} s`);

  // --- controller
  const token = 'bench-control-plane-token';
  const tokenFile = join(temp, 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const profDir = join(temp, 'cpu-prof');
  const published = new Map<string, number>();
  let publishedFirst: number | null = null;
  let listening: { channel: string; admin: { host: string; port: number } } | null = null;
  const controllerWarnings: string[] = [];
  let onListening: () => void = () => {};
  const listeningPromise = new Promise<void>((r) => (onListening = r));
  const spawnEpoch = Date.now();
  const spawnAt = performance.now();
  const controller = startNode(
    'controller',
    [
      '--expose-gc',
      ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
      join(REPO, 'bench/control-plane/controller-main.ts'),
      '--kubeconfig',
      kubeconfig,
      '--listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      '--token-file',
      tokenFile,
      '--name',
      'bench-controller',
      '--namespace',
      'default',
      '--log-level',
      'info',
    ],
    join(temp, 'controller.log'),
    (line) => {
      let entry: { msg?: string; time?: number; level?: number; version?: string; channel?: string; admin?: { host: string; port: number } };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'controller listening' && entry.channel && entry.admin) {
        listening = { channel: entry.channel, admin: entry.admin };
        onListening();
      } else if (entry.msg === 'snapshot published' && entry.version && entry.time) {
        published.set(entry.version, entry.time);
        publishedFirst ??= entry.time;
      }
      if ((entry.level ?? 0) >= 40 && controllerWarnings.length < 50) controllerWarnings.push(line.slice(0, 400));
    },
    true,
  );
  void controller.exited.then(() => {
    if (!stopping) problems.push(`the controller exited during the run: ${JSON.stringify(controller.exitInfo)} (see ${join(temp, 'controller.log')})`);
  });
  await withTimeout(listeningPromise, 60_000, 'the controller to listen');
  const listeningMs = performance.now() - spawnAt;
  const { channel, admin } = listening!;
  const adminUrl = `http://${admin.host}:${admin.port}`;
  log(`controller pid ${controller.pid} listening: channel ${channel}, admin ${adminUrl}`);

  const scrape = async (): Promise<Map<string, number>> => parsePrometheus(await (await fetch(`${adminUrl}/metrics`)).text());
  const memoryUsage = (gc: boolean): Promise<NodeJS.MemoryUsage | null> =>
    withTimeout(
      new Promise<NodeJS.MemoryUsage>((resolveMem) => {
        const onMessage = (m: { type?: string; usage?: NodeJS.MemoryUsage }): void => {
          if (m.type !== 'memory') return;
          controller.proc.off('message', onMessage);
          resolveMem(m.usage!);
        };
        controller.proc.on('message', onMessage);
        controller.proc.send({ type: 'memory', gc });
      }),
      10_000,
      'the controller memory reading',
    ).catch((err: unknown) => {
      problems.push((err as Error).message);
      return null;
    });
  const readMemory = async (label: string, gc = false): Promise<MemoryReading> => {
    const usage = await memoryUsage(gc);
    const status = procStatus(controller.pid);
    const kib = (f: string): number | null => {
      const v = statusFieldKiB(status, f);
      return v === null ? null : v / 1024;
    };
    return {
      label,
      rssMiB: kib('VmRSS'),
      hwmMiB: kib('VmHWM'),
      heapUsedMiB: usage ? usage.heapUsed / MiB : null,
      heapTotalMiB: usage ? usage.heapTotal / MiB : null,
      externalMiB: usage ? usage.external / MiB : null,
      afterGc: gc,
    };
  };

  // --- startup: data planes connect at once and wait for the complete snapshot
  const fleet = new Fleet({ url: `ws://${channel}`, token, count: dataplaneCount, health });
  const svcCluster = clusterName(serviceBackendIndex(layout));
  const clusterOf = (s: SnapshotView, name: string): SnapshotView['clusters'][number] | undefined => s.clusters.find((c) => c.name === name);
  const complete = (s: SnapshotView): boolean => s.clusters.length === layout.backends && clusterOf(s, svcCluster)?.servers.length === layout.servers;
  const startupWait = fleet.waitFor(complete);
  await withTimeout(fleet.connect(), 60_000, 'the data planes to connect');
  log(`${dataplaneCount} data planes connected`);
  const startupReceipts = await withTimeout(startupWait, 300_000, 'every data plane to ACK the first complete snapshot');
  const firstPushMs = Math.min(...startupReceipts.map((r) => r.receivedAt)) - spawnAt;
  const lastAckMs = Math.max(...startupReceipts.map((r) => r.ackedAt)) - spawnAt;
  log(`startup: all ${dataplaneCount} data planes ACKed the complete snapshot ${(lastAckMs / 1000).toFixed(2)} s after the controller was spawned`);
  await waitQuiet(controller.pid, 180_000);
  const quietMs = performance.now() - spawnAt;
  const startupMetrics = await scrape();
  const startup: Startup = {
    populateMs,
    listeningMs,
    publishedMs: publishedFirst === null ? null : publishedFirst - spawnEpoch,
    firstPushMs,
    lastAckMs,
    pushesMax: Math.max(...startupReceipts.map((r) => r.pushes)),
    quietMs,
    controllerCpuMs: treeCpuSeconds(controller.pid) * 1000,
    translateSumMs: metricSum(startupMetrics, `${TRANSLATE}_sum`) * 1000,
    translateCount: metricSum(startupMetrics, `${TRANSLATE}_count`),
    snapshotBytes: startupReceipts[0]!.bytes,
  };
  log(`controller quiet ${(quietMs / 1000).toFixed(1)} s after spawn; snapshot ${(startup.snapshotBytes / MiB).toFixed(2)} MiB`);
  const memory: MemoryReading[] = [await readMemory('after startup'), await readMemory('after startup', true)];

  // --- the changes
  const rounds: Round[] = [];
  const roundsStartUs = Number(process.hrtime.bigint() / 1000n);
  const roundsStart = performance.now();
  const benchCpuStart = process.cpuUsage();
  let sliceCount = layout.servers;
  const staticBackends = layout.backends - 1;
  for (let n = 0; n < roundsPerKind * 2; n++) {
    const kind: ChangeKind = n % 2 === 0 ? 'backend' : 'endpoints';
    const index = Math.floor(n / 2);
    await waitOthersQuiet(quick ? 2000 : 5000);
    const settleMs = await waitQuiet(controller.pid, 15_000);
    await sleep(100);
    let change: string;
    let predicate: (s: SnapshotView) => boolean;
    let write: () => Promise<unknown>;
    if (kind === 'backend') {
      const i = (index * 37) % staticBackends;
      const j = index % layout.servers;
      const weight = 2 + (index % 200);
      const name = clusterName(i);
      change = `${name} server s${j} weight ${weight}`;
      predicate = (s) => clusterOf(s, name)?.servers[j]?.weight === weight;
      write = () => kube.jsonPatch(backendPath(i), [{ op: 'replace', path: `/spec/servers/${j}/weight`, value: weight }]);
    } else {
      const count = (sliceCount = sliceCount === layout.servers ? layout.servers + 1 : layout.servers);
      change = `slice scaled to ${count} ready endpoints`;
      predicate = (s) => clusterOf(s, svcCluster)?.servers.length === count;
      write = () => kube.mergePatch(slicePath, { endpoints: sliceEndpoints(count) });
    }
    const before = await scrape();
    const cpu0 = { controller: treeCpuSeconds(controller.pid), api: treeCpuSeconds(apiChild!.pid), bench: process.cpuUsage(), foreign: foreignTicks(process.pid) };
    const waiting = fleet.waitFor(predicate);
    const t0 = performance.now();
    let round: Round;
    try {
      await write();
      const written = performance.now();
      const writtenEpoch = Date.now();
      const receipts: Receipt[] = await withTimeout(waiting, 60_000, `every data plane to ACK ${change}`);
      const lastAck = Math.max(...receipts.map((r) => r.ackedAt));
      const cpu1 = { controller: treeCpuSeconds(controller.pid), api: treeCpuSeconds(apiChild!.pid), bench: process.cpuUsage(cpu0.bench), foreign: foreignTicks(process.pid) };
      const elapsedS = (performance.now() - t0) / 1000;
      const after = await scrape();
      const version = receipts[0]!.version;
      const publishedAt = published.get(version);
      round = {
        kind,
        index,
        change,
        writeMs: written - t0,
        publishedMs: publishedAt === undefined ? null : publishedAt - writtenEpoch,
        firstPushMs: Math.min(...receipts.map((r) => r.receivedAt)) - written,
        lastAckMs: lastAck - written,
        parseSumMs: receipts.reduce((s, r) => s + r.parseMs, 0),
        parseMaxMs: Math.max(...receipts.map((r) => r.parseMs)),
        pushesMax: Math.max(...receipts.map((r) => r.pushes)),
        version,
        pushBytes: receipts[0]!.bytes,
        translateMs: (metricSum(after, `${TRANSLATE}_sum`) - metricSum(before, `${TRANSLATE}_sum`)) * 1000,
        reconciles: metricSum(after, `${TRANSLATE}_count`) - metricSum(before, `${TRANSLATE}_count`),
        controllerCpuMs: (cpu1.controller - cpu0.controller) * 1000,
        apiserverCpuMs: (cpu1.api - cpu0.api) * 1000,
        benchCpuMs: (cpu1.bench.user + cpu1.bench.system) / 1000,
        foreignLoadPct: (foreignCpuSeconds(cpu0.foreign, cpu1.foreign) / elapsedS) * 100,
        settleMs,
        error: null,
      };
      if (new Set(receipts.map((r) => r.version)).size > 1) problems.push(`${kind} #${index}: the data planes ACKed different versions with the change`);
    } catch (err) {
      const { missing } = fleet.abandon();
      round = {
        kind,
        index,
        change,
        writeMs: performance.now() - t0,
        publishedMs: null,
        firstPushMs: NaN,
        lastAckMs: NaN,
        parseSumMs: 0,
        parseMaxMs: 0,
        pushesMax: 0,
        version: '',
        pushBytes: 0,
        translateMs: 0,
        reconciles: 0,
        controllerCpuMs: 0,
        benchCpuMs: 0,
        apiserverCpuMs: 0,
        foreignLoadPct: 0,
        settleMs,
        error: `${(err as Error).message}${missing.length ? ` (data planes without it: ${missing.length})` : ''}`,
      };
      problems.push(`${kind} #${index} (${change}): ${round.error}`);
    }
    rounds.push(round);
    if (round.error === null) {
      log(
        `${kind.padEnd(9)} #${String(index).padStart(2)}: last ACK ${round.lastAckMs.toFixed(0).padStart(5)} ms ` +
          `(published ${round.publishedMs ?? '?'} ms, first push ${round.firstPushMs.toFixed(0)} ms, translate metric ${round.translateMs.toFixed(1)} ms, ` +
          `controller CPU ${round.controllerCpuMs.toFixed(0)} ms, bench CPU ${round.benchCpuMs.toFixed(0)} ms, others ${round.foreignLoadPct.toFixed(0)}%)`,
      );
    }
  }
  const roundsMs = performance.now() - roundsStart;
  const benchCpu = process.cpuUsage(benchCpuStart);
  const roundsEndUs = Number(process.hrtime.bigint() / 1000n);

  await waitQuiet(controller.pid, 30_000);
  memory.push(await readMemory('after the changes'));
  memory.push(await readMemory('after the changes', true));
  const benchRssMiB = process.memoryUsage().rss / MiB;
  problems.push(...fleet.errors);

  // --- stop the controller (writes its profile), then time the steps on the same objects
  await fleet.close();
  stopping = true;
  await stopChild(controller);
  if (controller.exitInfo && controller.exitInfo.code !== 0) problems.push(`the controller exited with ${JSON.stringify(controller.exitInfo)}`);
  for (const w of controllerWarnings) problems.push(`controller log: ${w}`);

  let components: Components | null = null;
  try {
    log('timing the controller steps on the same objects...');
    components = await measureComponents(kube, layout, quick ? 5 : 15);
  } catch (err) {
    problems.push(`component timings failed: ${(err as Error).message}`);
  }
  await stopChild(apiChild!);

  let profile: ControlPlaneReport['profile'] = null;
  if (cpuProf) {
    const files = existsSync(profDir) ? readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
    if (files.length === 0) problems.push('--cpu-prof: the controller wrote no profile');
    else {
      const file = join(profDir, files[0]!);
      const data = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
      const changes = summarizeProfile(data, 20, { fromUs: roundsStartUs, toUs: roundsEndUs });
      const startupProfile = summarizeProfile(data, 20, { fromUs: data.startTime, toUs: roundsStartUs });
      if (changes.busyMs + changes.idleMs === 0) problems.push('--cpu-prof: no samples in the change window (clock mismatch?)');
      mkdirSync(outDir, { recursive: true });
      const kept = join(outDir, `${outBase}.cpuprofile`);
      writeFileSync(kept, readFileSync(file));
      profile = { changes, startup: startupProfile, file: kept.startsWith(REPO) ? kept.slice(REPO.length + 1) : kept };
    }
  }

  return {
    date,
    machine: machineInfo(loadStart),
    settings: {
      backends: layout.backends,
      serversPerBackend: layout.servers,
      frontends: layout.frontends,
      dataplanes: dataplaneCount,
      roundsPerKind,
      healthReports: health,
      cpuProfile: cpuProf,
      quick,
    },
    startup,
    summaries: [summarizeKind('backend', rounds), summarizeKind('endpoints', rounds)],
    rounds,
    memory,
    bench: { cpuMs: (benchCpu.user + benchCpu.system) / 1000, roundsMs, rssMiB: benchRssMiB },
    components,
    profile,
    problems,
  };
}

let apiChild: Child | null = null;
let stopping = false;

try {
  const report = await main();
  mkdirSync(outDir, { recursive: true });
  const md = renderMarkdown(report);
  writeFileSync(join(outDir, `${outBase}.md`), md);
  writeFileSync(join(outDir, `${outBase}.json`), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${md}`);
  log(`results: ${join(outDir, `${outBase}.md`)} and .json`);
} catch (err) {
  keepTemp = true;
  console.error(`bench:control-plane: ${(err as Error).stack ?? String(err)}`);
  for (const p of problems) console.error(`  ${p}`);
  process.exitCode = 1;
} finally {
  stopping = true;
  await cleanup();
  if (keepTemp) log(`temp folder kept: ${temp}`);
  else rmSync(temp, { recursive: true, force: true });
}
