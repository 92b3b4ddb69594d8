/**
 * The benchmark harness: Switchyard against HAProxy, nginx, a node-http-proxy proxy and the
 * backends themselves, on the same loopback backends, with the same wrk settings for every
 * contender. See bench/README.md.
 *
 *   npm run bench                   full run (3 rounds x 10 s, ~12 minutes)
 *   npm run bench -- --quick        quick run (~2 minutes, indicative only)
 *   npm run bench -- --two-workers  HAProxy nbthread 2, nginx 2 workers, nothing pinned
 *   npm run bench -- --rules        the per-request cost of 20 ACLs and 10 rules, HAProxy and Switchyard
 *
 * It installs nothing: haproxy, nginx and wrk must be there (apt-get install haproxy nginx wrk).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { LARGE_PATH, startBackends } from './backends.ts';
import {
  choosePorts,
  contenders as allContenders,
  httpProbe,
  PORT_SPAN,
  rulesContenders,
  startHaproxy,
  startNginxProxy,
  startNodeHttpProxy,
  startSwitchyard,
  startSwitchyardCluster,
  waitUntilAnswers,
  type Contender,
  type Product,
  type StartContext,
  type Started,
} from './contenders.ts';
import { inclusiveTimes, summarizeProfile, type CpuProfile, type InclusiveEntry, type ProfileSummary } from './control-plane/stats.ts';
import { measureIdleConnections } from './memory.ts';
import { findTool, hardFileLimit, machineInfo, Processes, type Managed } from './processes.ts';
import { foreignCpuSeconds, foreignTicks, treeCpuSeconds } from './procfs.ts';
import { computeRatios, renderMarkdown, summarize, type BenchReport, type RunRecord, type RunsReport, type Scenario, type Settings } from './report.ts';
import { BENCH_REQUEST, extraBackends, haproxyBackendName, haproxyRuleLines, probeProblem, PROBES, switchyardBackendName, switchyardRuleYaml, traceBenchRequest, ACLS } from './rules/config.ts';
import { computeCosts, computeRulesRatios, renderRulesMarkdown, RULES_PAIRS, type ProbeResult, type RulesProfile, type RulesReport } from './rules/report.ts';
import { runWrk } from './wrk.ts';

const REPO = resolve(import.meta.dirname, '..');
const REPO_NODE = join(REPO, 'node_modules', '.bin', 'node');
const MiB = 1024 * 1024;

const USAGE = `usage: npm run bench [-- options]

  --quick                 fewer, shorter rounds (about two minutes); indicative only
  --two-workers           two workers each, nothing pinned: HAProxy nbthread 2, nginx 2 workers,
                          Switchyard --workers 2, node-http-proxy 2 processes (node:cluster)
  --with-cluster          with --two-workers, also Switchyard scaled with node:cluster (2
                          single-threaded processes, scheduling rr and none): an experiment
                          comparing processes with worker threads (docs/architecture.md)
  --rules                 the per-request cost of rules: HAProxy and Switchyard each with the plain
                          HTTP frontend and with 20 ACLs + 10 rules (bench/rules/config.ts), one
                          pinned worker, keep-alive 50 connections; writes rules.md and rules.json
  --cpu-prof              with --rules: both Switchyards under node --cpu-prof, profiles summarized
                          (slows them down); writes rules-cpu-prof.md, .json and .cpuprofile files
  --rounds N              rounds per contender and scenario (default 3, quick 2; --rules 5)
  --duration S            seconds per wrk run (default 10, quick 2)
  --warmup S              seconds of warm-up per contender and scenario (default 2, quick 0);
                          every contender also gets one warm-up at the start (3 s, quick 2 s)
  --noise-retries N       measure a run again (up to N times) when other processes took more
                          than 20% of a CPU during it (default 2, quick 1)
  --only IDS              measure only these contenders (comma-separated ids, e.g.
                          switchyard-http,switchyard-cluster-rr); for focused comparisons
  --scenarios IDS         run only these scenarios (keepalive-50, keepalive-200, close-50,
                          large-1mib, tcp-50; with --rules: rules-keepalive-50)
  --idle-connections N    connections for the memory test (default 10000, --rules 0; 0 skips it)
  --quiet-wait S          before each measured run, wait up to S seconds while other processes
                          use more than 10% of a CPU (default 20, quick 5; 0: never wait)
  --port-base P           first of ${PORT_SPAN} loopback ports to use (default: 24000, or below the ephemeral range)
  --out DIR               where latest.md and latest.json go (default bench/results;
                          --two-workers writes latest-two-workers.md and .json)
  --keep-temp             keep the temp folder with configs and logs
  -h, --help              this text
`;

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(1);
}

// ---------- arguments ----------

const { values: args } = (() => {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        'two-workers': { type: 'boolean', default: false },
        'with-cluster': { type: 'boolean', default: false },
        rules: { type: 'boolean', default: false },
        'cpu-prof': { type: 'boolean', default: false },
        only: { type: 'string' },
        scenarios: { type: 'string' },
        rounds: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        'idle-connections': { type: 'string' },
        'quiet-wait': { type: 'string' },
        'noise-retries': { type: 'string' },
        'port-base': { type: 'string' },
        out: { type: 'string' },
        'keep-temp': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n\n${USAGE}`);
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
const twoWorkers = args['two-workers'];
const withCluster = args['with-cluster'];
if (withCluster && !twoWorkers) {
  console.error('bench: --with-cluster needs --two-workers');
  process.exit(2);
}
const rulesMode = args.rules;
const cpuProf = args['cpu-prof'];
if (rulesMode && twoWorkers) {
  console.error('bench: --rules measures one pinned worker per proxy; it does not combine with --two-workers');
  process.exit(2);
}
if (cpuProf && !rulesMode) {
  console.error('bench: --cpu-prof needs --rules (the control-plane benchmark has its own: npm run bench:control-plane -- --cpu-prof)');
  process.exit(2);
}
const rounds = intArg('rounds', args.rounds, quick ? 2 : rulesMode ? 5 : 3, 1);
const durationSeconds = intArg('duration', args.duration, quick ? 2 : 10, 1);
const warmupSeconds = intArg('warmup', args.warmup, quick ? 0 : 2, 0);
const startWarmupSeconds = quick ? 2 : 3;
const noiseRetries = intArg('noise-retries', args['noise-retries'], quick ? 1 : 2, 0);
const idleCount = intArg('idle-connections', args['idle-connections'], rulesMode ? 0 : 10_000, 0);
const outDir = resolve(args.out ?? join(REPO, 'bench', 'results'));
const quietWaitSeconds = intArg('quiet-wait', args['quiet-wait'], quick ? 5 : 20, 0);
const QUIET_THRESHOLD = 0.1;
/** A run during which other processes took more than this share of a CPU is measured again. */
const NOISY_RUN = 0.2;
const pauseMs = quick ? 250 : 500;
const WRK_THREADS = 1;
const WRK_TIMEOUT_SECONDS = 5;

// ---------- prerequisites ----------

const [major, minor] = process.versions.node.split('.').map(Number);
if (major! < 23 || (major === 23 && minor! < 6)) {
  fail(`needs Node 24 (this is ${process.version}); run it with \`make bench\` or \`npm run bench\`, which use the repository's Node.`);
}
if (!existsSync(REPO_NODE)) fail(`${REPO_NODE} is missing; run \`npm ci\` first.`);

const tools = { haproxy: findTool('haproxy'), nginx: findTool('nginx'), wrk: findTool('wrk'), taskset: findTool('taskset') };
const missing = Object.entries(tools)
  .filter(([name, path]) => path === null && (name !== 'taskset' || !twoWorkers))
  .map(([name]) => name);
if (missing.length > 0) {
  const pkgs = missing.map((m) => (m === 'taskset' ? 'util-linux' : m));
  console.error(`bench: missing ${missing.join(', ')}. The harness installs nothing itself; on Debian or Ubuntu:\n\n  sudo apt-get install ${pkgs.join(' ')}\n`);
  process.exit(1);
}
const HAPROXY = tools.haproxy!;
const NGINX = tools.nginx!;
const WRK = tools.wrk!;

const cpuCount = availableParallelism();
if (!twoWorkers && cpuCount < 2) fail(`the pinned mode needs two CPUs (proxy on 0, load on 1); this machine offers ${cpuCount}.`);
const PROXY_CPUS = twoWorkers ? null : '0';
const LOAD_CPUS = twoWorkers ? null : '1';
const proxyWorkers = { haproxy: twoWorkers ? 2 : 1, nginx: twoWorkers ? 2 : 1, switchyard: twoWorkers ? 2 : 1, nodeHttpProxy: twoWorkers ? 2 : 1 };

// ---------- cleanup ----------

const procs = new Processes();
const tmp = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
let finished = false;

async function cleanup(keepTemp: boolean): Promise<void> {
  await procs.stopAll();
  if (!keepTemp && !args['keep-temp']) rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', () => procs.killAllSync());
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping every process...`);
    void cleanup(false).finally(() => process.exit(130));
  });
}

// ---------- the run ----------

const started = Date.now();
const log = (msg: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}`);
const events: string[] = [];

interface Server {
  product: Product;
  name: string;
  start: () => Started;
  ports: number[];
  current: Started | null;
}

async function startServer(s: Server): Promise<void> {
  s.current = s.start();
  for (const port of s.ports) await waitUntilAnswers(port, s.current.managed);
}

function tail(file: string, n = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-n).join(' | ');
  } catch {
    return '';
  }
}

/**
 * The pause between runs, stretched (up to --quiet-wait) while processes outside the harness use
 * more than QUIET_THRESHOLD of a CPU: this machine may be shared. Returns the extra seconds waited.
 */
async function pauseUntilQuiet(): Promise<number> {
  const t0 = Date.now();
  let before = foreignTicks(process.pid);
  await sleep(pauseMs);
  let load = foreignCpuSeconds(before, foreignTicks(process.pid)) / (pauseMs / 1000);
  let told = false;
  while (load > QUIET_THRESHOLD && Date.now() - t0 < quietWaitSeconds * 1000) {
    if (!told) log(`   other processes use ${Math.round(load * 100)}% of a CPU; waiting up to ${quietWaitSeconds}s for a quieter moment`);
    told = true;
    before = foreignTicks(process.pid);
    await sleep(1000);
    load = foreignCpuSeconds(before, foreignTicks(process.pid));
  }
  return Math.max(0, (Date.now() - t0 - pauseMs) / 1000);
}

async function main(): Promise<void> {
  const ports = await choosePorts(args['port-base'] !== undefined ? intArg('port-base', args['port-base'], 0, 1024) : null);
  const machine = machineInfo(REPO, { haproxy: HAPROXY, nginx: NGINX, wrk: WRK });
  const fileLimit = hardFileLimit();
  const runAsRoot = process.getuid?.() === 0;
  const ctx = (cpus: string | null): StartContext => ({ procs, dir: tmp, cpus });
  log(
    `${quick ? 'QUICK mode (indicative only): ' : ''}${rulesMode ? `the cost of rules${cpuProf ? ' (Switchyard under --cpu-prof)' : ''}: ` : ''}` +
      `${twoWorkers ? 'two workers, unpinned' : 'one worker, proxy pinned to CPU 0, wrk and backends to CPU 1'}; ` +
      `${rounds} rounds x ${durationSeconds}s, interleaved; ports ${ports.backends[0]! - 1}+; temp ${tmp}`,
  );

  // Backends: one nginx, three ports, on the load CPU.
  const backends = startBackends(
    procs,
    NGINX,
    { prefix: join(tmp, 'backends'), workers: 1, workerConnections: 8192, fileLimit, runAsRoot, ports: ports.backends, largeFile: join(tmp, 'backends', '1m.bin') },
    LOAD_CPUS,
  );
  for (const port of ports.backends) await waitUntilAnswers(port, backends);

  const nginxConnections = Math.max(4096, Math.min(fileLimit - 100, idleCount + 1000));
  const haproxyOptions = { threads: proxyWorkers.haproxy, maxconn: Math.max(idleCount + 100, 4096), ports };
  const haproxy: Server = {
    product: 'haproxy',
    name: 'HAProxy',
    ports: rulesMode ? [ports.haproxyHttp] : [ports.haproxyHttp, ports.haproxyTcp],
    current: null,
    start: () => startHaproxy(ctx(PROXY_CPUS), HAPROXY, haproxyOptions),
  };
  const profileDirs = { none: join(tmp, 'cpu-prof-none'), rules: join(tmp, 'cpu-prof-rules') };
  const profFlags = (dir: string): string[] => (cpuProf ? ['--cpu-prof', '--cpu-prof-dir', dir] : []);
  const switchyard: Server = {
    product: 'switchyard',
    name: 'Switchyard',
    ports: rulesMode ? [ports.switchyardHttp] : [ports.switchyardHttp, ports.switchyardTcp],
    current: null,
    start: () => startSwitchyard(ctx(PROXY_CPUS), REPO, ports, proxyWorkers.switchyard, { nodeFlags: profFlags(profileDirs.none) }),
  };
  const servers: Server[] = rulesMode
    ? [
        haproxy,
        {
          product: 'haproxy',
          name: 'HAProxy with rules',
          ports: [ports.haproxyRules],
          current: null,
          start: () =>
            startHaproxy(
              ctx(PROXY_CPUS),
              HAPROXY,
              { ...haproxyOptions, rules: { port: ports.haproxyRules, frontendLines: haproxyRuleLines(), backends: extraBackends().map(haproxyBackendName) } },
              'HAProxy with rules',
              'haproxy-rules',
            ),
        },
        switchyard,
        {
          product: 'switchyard',
          name: 'Switchyard with rules',
          ports: [ports.switchyardRules],
          current: null,
          start: () =>
            startSwitchyard(ctx(PROXY_CPUS), REPO, ports, proxyWorkers.switchyard, {
              name: 'Switchyard with rules',
              dirName: 'switchyard-rules',
              rules: { yaml: switchyardRuleYaml(), backends: extraBackends().map(switchyardBackendName) },
              nodeFlags: profFlags(profileDirs.rules),
            }),
        },
      ]
    : [
        haproxy,
        {
          product: 'nginx',
          name: 'nginx',
          ports: [ports.nginxHttp],
          current: null,
          start: () => startNginxProxy(ctx(PROXY_CPUS), NGINX, { workers: proxyWorkers.nginx, workerConnections: nginxConnections, fileLimit, runAsRoot, ports }),
        },
        switchyard,
        {
          product: 'node-http-proxy',
          name: 'node-http-proxy',
          ports: [ports.nodeHttpProxy],
          current: null,
          start: () => startNodeHttpProxy(ctx(PROXY_CPUS), REPO, ports, proxyWorkers.nodeHttpProxy),
        },
      ];
  if (withCluster) {
    for (const sched of ['rr', 'none'] as const) {
      servers.push({
        product: 'switchyard-cluster',
        name: `Switchyard cluster ${sched}`,
        ports: [sched === 'rr' ? ports.switchyardClusterRr : ports.switchyardClusterNone],
        current: null,
        start: () => startSwitchyardCluster(ctx(PROXY_CPUS), REPO, ports, 2, sched),
      });
    }
  }
  for (const s of servers) {
    await startServer(s);
    log(`${s.name} answers (pid ${s.current!.managed.pid})`);
  }
  const serverOf = (c: Contender): Server | null => servers.find((s) => s.product === c.product && s.ports.includes(c.port)) ?? servers.find((s) => s.product === c.product) ?? null;
  /** The process whose CPU is charged to a contender: the proxy, or the backends for direct. */
  const processOf = (c: Contender): Managed => serverOf(c)?.current?.managed ?? backends;

  /** Restarts a contender's proxy if it died (a crash is recorded as an event). */
  async function ensureRunning(c: Contender, where: string): Promise<boolean> {
    if (backends.exitInfo !== null) throw new Error(`the backends (nginx) exited: ${tail(backends.logFile)}`);
    const s = serverOf(c);
    if (s === null || s.current === null || s.current.managed.exitInfo === null) return true;
    const info = s.current.managed.exitInfo;
    const msg = `${s.name} exited (${info.signal ?? `code ${info.code}`}) before ${where}; last output: ${tail(s.current.managed.logFile) || '(none)'}`;
    events.push(msg);
    log(`!! ${msg}; restarting it`);
    try {
      await startServer(s);
      events.push(`${s.name} restarted (pid ${s.current.managed.pid})`);
      return true;
    } catch (err) {
      events.push(`${s.name} could not be restarted: ${(err as Error).message}`);
      return false;
    }
  }

  const only = args.only === undefined ? null : new Set(args.only.split(','));
  const list = (rulesMode ? rulesContenders(ports) : allContenders(ports, withCluster)).filter((c) => only === null || only.has(c.id));
  const byId = new Map(list.map((c) => [c.id, c]));
  const http = ['direct', 'haproxy-http', 'nginx-http', 'switchyard-http', 'node-http-proxy', ...(withCluster ? ['switchyard-cluster-rr', 'switchyard-cluster-none'] : [])];
  const allScenarios: Scenario[] = [
    { id: 'keepalive-50', title: 'Keep-alive, 50 connections', path: '/', connections: 50, headers: [], metric: 'rps', contenders: http },
    { id: 'keepalive-200', title: 'Keep-alive, 200 connections', path: '/', connections: 200, headers: [], metric: 'rps', contenders: http },
    { id: 'close-50', title: 'New connection per request, 50 connections', path: '/', connections: 50, headers: ['Connection: close'], metric: 'rps', contenders: http },
    { id: 'large-1mib', title: '1 MiB response, 10 connections', path: LARGE_PATH, connections: 10, headers: [], metric: 'mibps', contenders: http },
    { id: 'tcp-50', title: 'TCP mode, keep-alive HTTP, 50 connections', path: '/', connections: 50, headers: [], metric: 'rps', contenders: ['direct', 'haproxy-tcp', 'switchyard-tcp'] },
  ];
  const rulesScenarios: Scenario[] = [
    {
      id: 'rules-keepalive-50',
      title: 'Keep-alive, 50 connections, a shop page request',
      path: BENCH_REQUEST.path,
      connections: 50,
      headers: [...BENCH_REQUEST.headers],
      metric: 'rps',
      contenders: rulesContenders(ports).map((c) => c.id),
    },
  ];
  const wanted = args.scenarios === undefined ? null : new Set(args.scenarios.split(','));
  const scenarios = (rulesMode ? rulesScenarios : allScenarios)
    .filter((sc) => wanted === null || wanted.has(sc.id))
    .map((sc) => ({ ...sc, contenders: sc.contenders.filter((id) => byId.has(id)) }))
    .filter((sc) => sc.contenders.length > 0);
  if (scenarios.length === 0) throw new Error('--only/--scenarios leave nothing to measure');

  // --rules: every contender answers the probes as its configuration says (rules live, products agree).
  const probes: ProbeResult[] = [];
  if (rulesMode) {
    for (const c of list) {
      const withRules = RULES_PAIRS.some((p) => p.rules === c.id);
      for (const probe of PROBES) {
        const expected = withRules ? probe.status.rules : probe.status.none;
        let result: ProbeResult;
        try {
          const res = await httpProbe(c.port, probe);
          result = { contender: c.id, what: probe.what, expected, status: res.status, problem: probeProblem(probe, withRules, res) };
        } catch (err) {
          result = { contender: c.id, what: probe.what, expected, status: null, problem: (err as Error).message };
        }
        probes.push(result);
      }
    }
    const wrong = probes.filter((p) => p.problem !== null);
    if (wrong.length > 0) throw new Error(`the rules do not behave as configured, nothing measured:\n${wrong.map((p) => `  ${p.contender}, ${p.what}: ${p.problem}`).join('\n')}`);
    log(`probes: all ${probes.length} answers as configured (${PROBES.length} requests per contender)`);
  }

  /** Requests each contender served (warm-ups included), for the profiles' per-request figures. */
  const served = new Map<string, number>();
  const wrkPrefix = LOAD_CPUS === null ? [] : [tools.taskset!, '-c', LOAD_CPUS];
  const wrkRun = async (c: Contender, sc: Scenario, seconds: number) => {
    const w = await runWrk(
      WRK,
      { url: `http://127.0.0.1:${c.port}${sc.path}`, connections: sc.connections, durationSeconds: seconds, threads: WRK_THREADS, headers: sc.headers, timeoutSeconds: WRK_TIMEOUT_SECONDS },
      wrkPrefix,
      (pid, done) => procs.track(pid, done),
    );
    served.set(c.id, (served.get(c.id) ?? 0) + (w.result?.requests ?? 0));
    return w;
  };
  // The profiles are summarized over the load only (V8's timestamps are the monotonic clock in µs, as hrtime).
  const loadStartUs = Number(process.hrtime.bigint() / 1000n);

  // Warm-up: every contender, keep-alive, before anything is measured (JIT, pools, page cache).
  log(`warm-up: ${startWarmupSeconds}s per contender`);
  for (const c of list) {
    if (await ensureRunning(c, 'the warm-up')) await wrkRun(c, scenarios[0]!, startWarmupSeconds);
    await sleep(pauseMs);
  }

  // Memory with idle connections, on processes that are fresh but warmed up.
  const idle = [];
  if (idleCount > 0) {
    for (const id of ['switchyard-http', 'haproxy-http', 'nginx-http'].filter((i) => byId.has(i))) {
      const c = byId.get(id)!;
      await ensureRunning(c, 'the memory test');
      log(`memory: ${c.label} with ${idleCount} idle connections...`);
      const r = await measureIdleConnections({
        contender: id, port: c.port, proxy: processOf(c), count: idleCount, node: REPO_NODE, cpus: LOAD_CPUS, procs, settleMs: quick ? 1000 : 2000,
      });
      idle.push(r);
      log(
        `memory: ${c.label}: held ${r.held}/${r.requested}, RSS ${Math.round(r.rssIdleKiB / 1024)} -> ${Math.round(r.rssHeldKiB / 1024)} MiB, ` +
          `${r.perConnectionKiB === null ? '?' : r.perConnectionKiB.toFixed(1)} KiB/connection${r.error ? ` (${r.error})` : ''}`,
      );
      if (r.failed > 0) events.push(`memory test, ${c.label}: ${r.failed} of ${r.requested} connections failed (${JSON.stringify(r.failures)})`);
      if (r.closedByPeer > 0) events.push(`memory test, ${c.label}: the proxy closed ${r.closedByPeer} idle connections while they were held`);
      if (r.error) events.push(`memory test, ${c.label}: ${r.error}`);
    }
  }

  /** One measured wrk run of `c`, with the CPU of the proxy, of the backends and of everything else. */
  async function measure(c: Contender, sc: Scenario, round: number): Promise<RunRecord> {
    const rec: RunRecord = {
      scenario: sc.id, contender: c.id, round, requests: null, durationSeconds: null, rps: null, mibps: null, p50Ms: null, p99Ms: null,
      cpuSeconds: null, backendCpuSeconds: null, socketErrors: null, non2xx3xx: null, error: null, foreignCpuSeconds: null, quietWaitSeconds: 0, discarded: null,
    };
    rec.quietWaitSeconds = await pauseUntilQuiet();
    if (!(await ensureRunning(c, `${sc.id} round ${round}`))) {
      rec.error = 'not running';
      return rec;
    }
    const proc = processOf(c);
    const cpu0 = treeCpuSeconds(proc.pid);
    const back0 = treeCpuSeconds(backends.pid);
    const foreign0 = foreignTicks(process.pid);
    const w = await wrkRun(c, sc, durationSeconds);
    rec.foreignCpuSeconds = foreignCpuSeconds(foreign0, foreignTicks(process.pid));
    rec.cpuSeconds = treeCpuSeconds(proc.pid) - cpu0;
    rec.backendCpuSeconds = treeCpuSeconds(backends.pid) - back0;
    rec.wrkOutput = w.output;
    if (proc.exitInfo !== null) rec.error = `${proc.name} exited during the run`;
    if (w.result) {
      const r = w.result;
      Object.assign(rec, {
        requests: r.requests,
        durationSeconds: r.durationSeconds,
        rps: r.requestsPerSecond,
        mibps: r.transferBytesPerSecond / MiB,
        p50Ms: r.latency.p50Ms,
        p99Ms: r.latency.p99Ms,
        socketErrors: r.socketErrors,
        non2xx3xx: r.non2xx3xx,
      });
      if (proc.exitInfo !== null) rec.cpuSeconds = null;
    }
    rec.error ??= w.error;
    return rec;
  }

  // Load: per scenario, rounds of A B C D (each after a short warm-up in the full run).
  const runs: RunRecord[] = [];
  for (const sc of scenarios) {
    const cs = sc.contenders.map((id) => byId.get(id)!);
    if (warmupSeconds > 0) {
      log(`${sc.title}: warm-up ${warmupSeconds}s each`);
      for (const c of cs) {
        if (await ensureRunning(c, `the ${sc.id} warm-up`)) await wrkRun(c, sc, warmupSeconds);
        await sleep(pauseMs);
      }
    }
    for (let round = 1; round <= rounds; round++) {
      for (const c of cs) {
        for (let attempt = 0; ; attempt++) {
          const rec = await measure(c, sc, round);
          runs.push(rec);
          const errs = rec.socketErrors ? Object.values(rec.socketErrors).reduce((a, b) => a + b, 0) + (rec.non2xx3xx ?? 0) : 0;
          const noise = rec.foreignCpuSeconds !== null && rec.durationSeconds ? rec.foreignCpuSeconds / rec.durationSeconds : null;
          const retry = noise !== null && noise > NOISY_RUN && attempt < noiseRetries;
          if (retry) rec.discarded = `other processes took ${Math.round(noise * 100)}% of a CPU`;
          const shown = sc.metric === 'mibps' ? `${rec.mibps?.toFixed(0) ?? '–'} MiB/s` : `${rec.rps?.toFixed(0) ?? '–'} req/s`;
          log(
            `${sc.id} round ${round}/${rounds} ${c.id.padEnd(16)} ${shown.padStart(12)}  p99 ${rec.p99Ms?.toFixed(2) ?? '–'} ms  cpu ${rec.cpuSeconds?.toFixed(2) ?? '–'} s` +
              (noise !== null && noise > QUIET_THRESHOLD ? `  noise ${Math.round(noise * 100)}%` : '') +
              (errs > 0 ? `  errors ${errs}` : '') + (rec.error ? `  (${rec.error})` : '') + (retry ? '  -> discarded, measuring again' : ''),
          );
          if (retry) continue;
          if (errs > 0) events.push(`${sc.title}, ${c.label}, round ${round}: ${errs} errors (socket ${JSON.stringify(rec.socketErrors)}, non-2xx/3xx ${rec.non2xx3xx})`);
          if (rec.error) events.push(`${sc.title}, ${c.label}, round ${round}: ${rec.error}`);
          break;
        }
      }
    }
  }

  const loadEndUs = Number(process.hrtime.bigint() / 1000n);

  // Everything Switchyard printed at --log-level warn.
  const switchyardLog = servers
    .filter((s) => s.product === 'switchyard' && s.current !== null && existsSync(s.current.managed.logFile))
    .flatMap((s) => readFileSync(s.current!.managed.logFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => (rulesMode ? `${s.name}: ${l}` : l)));
  const down = servers.filter((s) => s.current?.managed.exitInfo !== null).map((s) => s.name);
  if (down.length > 0) events.push(`not running at the end of the run: ${down.join(', ')}`);

  const settings: Settings = {
    quick, twoWorkers, rounds, durationSeconds, warmupSeconds, startWarmupSeconds, noiseRetries, noisyRunThreshold: NOISY_RUN, wrkThreads: WRK_THREADS, wrkTimeoutSeconds: WRK_TIMEOUT_SECONDS,
    idleConnections: idleCount, quietThreshold: QUIET_THRESHOLD, quietWaitSeconds, proxyCpus: PROXY_CPUS, loadCpus: LOAD_CPUS, proxyWorkers,
  };
  const contenderInfo = list.map((c) => ({ id: c.id, label: c.label, product: c.product, mode: c.mode, config: serverOf(c)?.current?.config }));
  const summaries = summarize(scenarios, runs);
  /** What the main and the rules reports share. */
  const runsReport = (): RunsReport => ({
    schemaVersion: 1,
    date: new Date(started).toISOString(),
    totalSeconds: (Date.now() - started) / 1000,
    settings,
    machine,
    contenders: contenderInfo,
    scenarios,
    runs,
    summaries,
  });
  mkdirSync(outDir, { recursive: true });
  let name: string;
  let markdown: string;
  let json: unknown;
  if (rulesMode) {
    name = cpuProf ? 'rules-cpu-prof' : 'rules';
    const profile = cpuProf ? await collectProfiles(servers.filter((s) => s.product === 'switchyard'), profileDirs, name, { fromUs: loadStartUs, toUs: loadEndUs }, served) : null;
    const costs = computeCosts(scenarios[0]!, runs, summaries);
    const report: RulesReport = {
      ...runsReport(),
      kind: 'rules',
      costs,
      ratios: computeRulesRatios(costs),
      setup: { request: { method: BENCH_REQUEST.method, path: BENCH_REQUEST.path, headers: [...BENCH_REQUEST.headers] }, acls: [...ACLS], haproxyLines: haproxyRuleLines(), trace: traceBenchRequest(),
        probes: PROBES.map((p) => ({ what: p.what, method: p.method, path: p.path, status: p.status, ...(p.rulesHeaders ? { rulesHeaders: p.rulesHeaders } : {}) })),
      },
      probes,
      profile,
      events,
      switchyardLog: switchyardLog.slice(0, 200),
    };
    markdown = renderRulesMarkdown(report);
    json = report;
  } else {
    name = twoWorkers ? 'latest-two-workers' : 'latest';
    const report: BenchReport = {
      ...runsReport(),
      ratios: computeRatios(scenarios, contenderInfo, summaries),
      idle,
      events,
      switchyardLog: switchyardLog.slice(0, 200),
    };
    markdown = renderMarkdown(report);
    json = report;
  }
  writeFileSync(join(outDir, `${name}.md`), markdown);
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\n${markdown}`);
  log(`wrote ${join(outDir, `${name}.md`)} and ${name}.json`);
}

/**
 * --cpu-prof: stops the two Switchyards (node writes its profile when the process exits, which
 * takes a few seconds for a long one), keeps the profiles next to the report and summarizes them
 * over the load window.
 */
async function collectProfiles(
  switchyards: Server[],
  dirs: { none: string; rules: string },
  base: string,
  window: { fromUs: number; toUs: number },
  served: ReadonlyMap<string, number>,
): Promise<RulesProfile | null> {
  for (const s of switchyards) if (s.current !== null) await procs.stop(s.current.managed, 60_000);
  const dataplane = (url: string): boolean => url.includes('/dataplane/src/');
  const read = (which: 'none' | 'rules'): { summary: ProfileSummary; inclusive: InclusiveEntry[]; file: string } | null => {
    const files = existsSync(dirs[which]) ? readdirSync(dirs[which]).filter((f) => f.endsWith('.cpuprofile')) : [];
    if (files.length === 0) {
      events.push(`--cpu-prof: the Switchyard ${which === 'none' ? 'without' : 'with'} rules wrote no profile`);
      return null;
    }
    // A restarted process writes a second profile; the last one is the one that saw the end.
    const file = join(dirs[which], files.sort().at(-1)!);
    const kept = join(outDir, `${base}-${which}.cpuprofile`);
    copyFileSync(file, kept);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const summary = summarizeProfile(profile, 60, window);
    if (summary.busyMs + summary.idleMs === 0) events.push(`--cpu-prof: no samples in the load window of ${kept} (clock mismatch?)`);
    const inclusive = inclusiveTimes(profile, dataplane, 80, window);
    return { summary, inclusive, file: kept.startsWith(`${REPO}/`) ? kept.slice(REPO.length + 1) : kept };
  };
  const none = read('none');
  const rules = read('rules');
  if (none === null || rules === null) return null;
  const pair = RULES_PAIRS.find((p) => p.product === 'switchyard')!;
  return {
    files: { none: none.file, rules: rules.file },
    requests: { none: served.get(pair.none) ?? 0, rules: served.get(pair.rules) ?? 0 },
    none: none.summary,
    rules: rules.summary,
    inclusive: { none: none.inclusive, rules: rules.inclusive },
  };
}

try {
  await main();
  finished = true;
} catch (err) {
  console.error(`bench: ${(err as Error).stack ?? String(err)}`);
  console.error(`bench: configs and logs kept in ${tmp}`);
} finally {
  await cleanup(!finished);
}
process.exit(finished ? 0 : 1);
