/**
 * The control-plane benchmark's results: the records run.ts collects, reduced to distributions,
 * and the Markdown report. Pure (no I/O), unit-tested in report.test.ts.
 */
import type { Components, StepTimes } from './components.ts';
import { distribution, type Distribution, type ProfileSummary } from './stats.ts';

export type ChangeKind = 'backend' | 'endpoints';

export interface Machine {
  nproc: number;
  cpuModel: string;
  kernel: string;
  node: string;
  memTotalMiB: number;
  switchyard: string;
  /** /proc/loadavg's three figures when the run started and when it ended. */
  loadStart: number[];
  loadEnd: number[];
}

export interface Settings {
  backends: number;
  serversPerBackend: number;
  frontends: number;
  dataplanes: number;
  roundsPerKind: number;
  /** Data planes send a full health report after each ACK (the real data plane does). */
  healthReports: boolean;
  cpuProfile: boolean;
  quick: boolean;
}

export interface MemoryReading {
  /** When, relative to what (e.g. `after startup`). */
  label: string;
  rssMiB: number | null;
  hwmMiB: number | null;
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
  externalMiB: number | null;
  /** True when the heap figures were read right after a full GC. */
  afterGc: boolean;
}

export interface Startup {
  /** Creating the objects through the API (not part of the controller's time). */
  populateMs: number;
  /** Controller process spawned -> it logged `controller listening`. */
  listeningMs: number;
  /** Spawned -> the controller logged `snapshot published` for the first time (its log clock). */
  publishedMs: number | null;
  /** Spawned -> the first data plane received the complete snapshot. */
  firstPushMs: number;
  /** Spawned -> the last of the data planes ACKed it. */
  lastAckMs: number;
  /** Pushes a data plane received before it had the complete snapshot (max over data planes). */
  pushesMax: number;
  /** Spawned -> the controller was quiet again (status writes for every object done). */
  quietMs: number;
  /** CPU the controller used from spawn until quiet. */
  controllerCpuMs: number;
  /** The controller's translate-duration metric at that point (sum and count). */
  translateSumMs: number;
  translateCount: number;
  snapshotBytes: number;
}

/** One change and its propagation to every data plane. Times in ms, from the API write's response. */
export interface Round {
  kind: ChangeKind;
  index: number;
  /** What changed, e.g. `default/be-0037 server s3 weight 2` or `slice 11 endpoints`. */
  change: string;
  /** Request -> response of the API write. */
  writeMs: number;
  /** To the controller's `snapshot published` log line for the version (its log clock, ms resolution). */
  publishedMs: number | null;
  /** To the first data plane receiving the push with the change. */
  firstPushMs: number;
  /** To the last of the data planes' ACKs (the figure of the issue). */
  lastAckMs: number;
  /** Bench-process decode+parse time of the pushes with the change, summed over data planes. */
  parseSumMs: number;
  parseMaxMs: number;
  /** Pushes a data plane got until the one with the change (max over data planes; 1 = no intermediate version). */
  pushesMax: number;
  version: string;
  pushBytes: number;
  /** The controller's translate-duration metric over the round: sum (ms) and count. */
  translateMs: number;
  reconciles: number;
  /** CPU over the round (write -> last ACK), ms. */
  controllerCpuMs: number;
  benchCpuMs: number;
  apiserverCpuMs: number;
  /** CPU other processes on the machine used during the round, in % of one CPU. */
  foreignLoadPct: number;
  /** Waiting before the round for the controller to be quiet (the previous round's status work). */
  settleMs: number;
  error: string | null;
}

export interface KindSummary {
  kind: ChangeKind;
  rounds: number;
  failed: number;
  lastAck: Distribution | null;
  /** lastAck over the changes during which other processes used under QUIET_LOAD_PCT % of a CPU. */
  lastAckQuiet: Distribution | null;
  firstPush: Distribution | null;
  published: Distribution | null;
  translate: Distribution | null;
  /** lastAck - firstPush: the fan-out over the data planes (controller sends + bench parses). */
  fanout: Distribution | null;
  parseSum: Distribution | null;
  controllerCpu: Distribution | null;
  benchCpu: Distribution | null;
  foreignLoad: Distribution | null;
  write: Distribution | null;
  /** Rounds in which some data plane saw more than one push before the one with the change. */
  extraPushRounds: number;
}

export interface ControlPlaneReport {
  date: string;
  machine: Machine;
  settings: Settings;
  startup: Startup;
  summaries: KindSummary[];
  rounds: Round[];
  memory: MemoryReading[];
  /** The bench process (the 50 data planes) over the change rounds. */
  bench: { cpuMs: number; roundsMs: number; rssMiB: number };
  components: Components | null;
  /** CPU profile of the controller, over the change rounds and over startup (with --cpu-prof). */
  profile: { changes: ProfileSummary; startup: ProfileSummary; file: string } | null;
  problems: string[];
}

/** A change during which the machine's other processes used less than this (% of one CPU) counts as quiet. */
export const QUIET_LOAD_PCT = 20;

export function summarizeKind(kind: ChangeKind, rounds: readonly Round[]): KindSummary {
  const ok = rounds.filter((r) => r.kind === kind && r.error === null);
  const pick = (f: (r: Round) => number | null): Distribution | null => distribution(ok.map(f).filter((v): v is number => v !== null));
  return {
    kind,
    rounds: ok.length,
    failed: rounds.filter((r) => r.kind === kind && r.error !== null).length,
    lastAck: pick((r) => r.lastAckMs),
    lastAckQuiet: pick((r) => (r.foreignLoadPct < QUIET_LOAD_PCT ? r.lastAckMs : null)),
    firstPush: pick((r) => r.firstPushMs),
    published: pick((r) => r.publishedMs),
    translate: pick((r) => r.translateMs),
    fanout: pick((r) => r.lastAckMs - r.firstPushMs),
    parseSum: pick((r) => r.parseSumMs),
    controllerCpu: pick((r) => r.controllerCpuMs),
    benchCpu: pick((r) => r.benchCpuMs),
    foreignLoad: pick((r) => r.foreignLoadPct),
    write: pick((r) => r.writeMs),
    extraPushRounds: ok.filter((r) => r.pushesMax > 1).length,
  };
}

// ---------- Markdown ----------

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const mib = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toFixed(1));
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

function distRow(label: string, d: Distribution | null, note = ''): string {
  if (d === null) return `| ${label} | – | – | – | – | – |${note ? ` ${note} |` : ''}`;
  return `| ${label} | ${ms(d.median)} | ${ms(d.p90)} | ${ms(d.p99)} | ${ms(d.max)} | ${d.n} |${note ? ` ${note} |` : ''}`;
}

const KIND_TITLE: Record<ChangeKind, string> = {
  backend: 'Backend edit (JSON patch of one server weight: full translation)',
  endpoints: 'EndpointSlice scaled (10 <-> 11 ready endpoints: endpoint fast path)',
};

function stepRows(label: string, s: StepTimes): string[] {
  return [
    `| ${label}: world (Store.upsert + build) | ${ms(s.world?.median)} | ${ms(s.world?.max)} |`,
    `| ${label}: retranslate | ${ms(s.retranslate?.median)} | ${ms(s.retranslate?.max)} |`,
    `| ${label}: SnapshotCache.publish (hash, clone, freeze) | ${ms(s.publish?.median)} | ${ms(s.publish?.max)} |`,
    `| ${label}: encodePush (JSON.stringify) | ${ms(s.encode?.median)} | ${ms(s.encode?.max)} |`,
  ];
}

export function renderMarkdown(r: ControlPlaneReport): string {
  const s = r.settings;
  const m = r.machine;
  const out: string[] = [];
  out.push(`# Control-plane benchmark${s.quick ? ' (quick run: indicative only)' : ''}${s.cpuProfile ? ' (controller under --cpu-prof)' : ''}`);
  out.push('');
  out.push(
    `${r.date}. ${s.backends} Backends x ${s.serversPerBackend} servers (one of them from an EndpointSlice), ${s.frontends} Frontends, ` +
      `${s.dataplanes} data planes (in-process websocket clients: JSON.parse each push, ACK${s.healthReports ? ', then a full health report as the real data plane does' : '; no health reports'}). ` +
      `Emulated API server, controller and clients are three processes on one machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memTotalMiB} MiB, ` +
      `Linux ${m.kernel}, Node ${m.node}, Switchyard ${m.switchyard}. Load average ${m.loadStart.join(' ')} at the start, ${m.loadEnd.join(' ')} at the end.`,
  );
  out.push('');
  out.push('## Headline');
  out.push('');
  out.push('| Figure | Value |');
  out.push('| --- | --- |');
  out.push(`| Startup: controller spawned -> all ${s.dataplanes} data planes ACKed the first complete snapshot | ${ms(r.startup.lastAckMs)} ms |`);
  for (const k of r.summaries) {
    out.push(`| ${k.kind === 'backend' ? 'Backend edit' : 'EndpointSlice scale'} -> last ACK, median / p99 (${k.rounds} changes) | ${ms(k.lastAck?.median)} / ${ms(k.lastAck?.p99)} ms |`);
  }
  const after = r.memory.find((x) => x.label === 'after the changes') ?? r.memory[r.memory.length - 1];
  const startup = r.memory.find((x) => x.label === 'after startup');
  out.push(`| Controller RSS after startup / after the changes / peak (VmHWM) | ${mib(startup?.rssMiB)} / ${mib(after?.rssMiB)} / ${mib(after?.hwmMiB)} MiB |`);
  out.push(`| Snapshot size (push frame) | ${(r.startup.snapshotBytes / 1024 / 1024).toFixed(2)} MiB |`);
  out.push('');
  out.push('## Change -> last ACK');
  out.push('');
  out.push(
    'Each change is one API write; the clock starts when its response arrives and stops when the last data plane has sent its ACK for a version ' +
      'whose snapshot holds the change (each data plane checks the pushed contents). Changes alternate between the two kinds, one at a time, ' +
      'each after the controller went quiet from the previous one. Percentiles are nearest-rank: with fewer than 100 changes p99 is the maximum.',
  );
  for (const k of r.summaries) {
    out.push('');
    out.push(`### ${KIND_TITLE[k.kind]}`);
    out.push('');
    out.push('| ms | median | p90 | p99 | max | n |');
    out.push('| --- | --- | --- | --- | --- | --- |');
    out.push(distRow('**write -> last ACK**', k.lastAck));
    out.push(distRow(`write -> last ACK, only changes with other processes under ${QUIET_LOAD_PCT}% of a CPU`, k.lastAckQuiet));
    out.push(distRow('write -> controller logged `snapshot published`', k.published));
    out.push(distRow('write -> first data plane received the push', k.firstPush));
    out.push(distRow('first push received -> last ACK (fan-out)', k.fanout));
    out.push(distRow('controller translate-duration metric (per change)', k.translate));
    out.push(distRow('bench: decode + JSON.parse, summed over data planes', k.parseSum));
    out.push(distRow('controller CPU during the change', k.controllerCpu));
    out.push(distRow('bench process CPU during the change', k.benchCpu));
    out.push(distRow('the API write itself (request -> response)', k.write));
    out.push(distRow('other processes on the machine, % of a CPU', k.foreignLoad));
    if (k.failed > 0) out.push(`\n${k.failed} change(s) of this kind failed (see problems).`);
    if (k.extraPushRounds > 0) out.push(`\nIn ${k.extraPushRounds} change(s) some data plane got an intermediate version first.`);
  }
  out.push('');
  out.push('## Startup');
  out.push('');
  out.push('| From the controller process spawn to | ms |');
  out.push('| --- | --- |');
  out.push(`| \`controller listening\` logged (Node start, imports, listeners) | ${ms(r.startup.listeningMs)} |`);
  out.push(`| first \`snapshot published\` (informers listed and synced, first translation) | ${ms(r.startup.publishedMs)} |`);
  out.push(`| first data plane received the complete snapshot | ${ms(r.startup.firstPushMs)} |`);
  out.push(`| **last data plane ACKed it** | ${ms(r.startup.lastAckMs)} |`);
  out.push(`| controller quiet again (status of every object written) | ${ms(r.startup.quietMs)} |`);
  out.push('');
  out.push(
    `Controller CPU until quiet: ${ms(r.startup.controllerCpuMs)} ms; translate-duration metric: ${r.startup.translateCount} reconcile(s), ` +
      `${ms(r.startup.translateSumMs)} ms in all. Creating the objects through the API beforehand took ${ms(r.startup.populateMs)} ms (not counted). ` +
      `A data plane got at most ${r.startup.pushesMax} push(es) until the complete snapshot.`,
  );
  out.push('');
  out.push('## Memory of the controller');
  out.push('');
  out.push('| When | VmRSS MiB | VmHWM (peak) MiB | heap used MiB | heap total MiB | external MiB |');
  out.push('| --- | --- | --- | --- | --- | --- |');
  for (const x of r.memory) {
    out.push(`| ${x.label}${x.afterGc ? ' (after a full GC)' : ''} | ${mib(x.rssMiB)} | ${mib(x.hwmMiB)} | ${mib(x.heapUsedMiB)} | ${mib(x.heapTotalMiB)} | ${mib(x.externalMiB)} |`);
  }
  out.push('');
  out.push(
    `The benchmark process (the ${s.dataplanes} data planes) used ${ms(r.bench.cpuMs)} ms of CPU over ${ms(r.bench.roundsMs)} ms of change rounds ` +
      `and ended at ${mib(r.bench.rssMiB)} MiB RSS.`,
  );
  if (r.components) {
    const c = r.components;
    out.push('');
    out.push('## Where the controller time goes (the product modules, timed one by one)');
    out.push('');
    out.push(
      `The same objects, listed from the API server, through the controller's own steps in the benchmark process after the run ` +
        `(${c.iterations} changes of each kind; translation mode: Backend edit \`${c.modes.backend}\`, slice scale \`${c.modes.endpoints}\`). ` +
        `First translation of the whole world: ${ms(c.firstTranslateMs)} ms, its publish ${ms(c.firstPublishMs)} ms, its encode ${ms(c.firstEncodeMs)} ms. ` +
        'Around these the controller adds the coalescer holdoff (50 ms after the last change, at most 1 s), the watch event decoding, ' +
        `one websocket send of ${(c.snapshotBytes / 1024 / 1024).toFixed(2)} MiB per data plane, and after the ACKs the status work.`,
    );
    out.push('');
    out.push('| step | median ms | max ms |');
    out.push('| --- | --- | --- |');
    out.push(...stepRows('Backend edit', c.backend));
    out.push(...stepRows('slice scale', c.endpoints));
    out.push('');
    out.push(
      `Inside SnapshotCache.publish, on the last snapshot: canonicalJson for the version hash ${ms(c.publishParts.canonicalJsonMs)} ms, ` +
        `structuredClone ${ms(c.publishParts.structuredCloneMs)} ms; the rest is the deep freeze and the sha256. They cost the same for every change, ` +
        'however small, and the endpoint fast path does not avoid them.',
    );
    if (c.cacheRetained) {
      out.push('');
      out.push(
        `The SnapshotCache (the controller keeps the last 16 versions) holds ${c.cacheRetained.perVersionMiB.toFixed(2)} MiB of heap per version ` +
          `(its frozen clone of the snapshot and the push JSON cached for it; measured over ${c.cacheRetained.versions} versions between two full GCs).`,
      );
    }
  }
  if (r.profile) {
    const p = r.profile;
    const table = (title: string, sum: ProfileSummary): void => {
      out.push('');
      out.push(`### ${title}: ${ms(sum.busyMs)} ms busy, ${ms(sum.idleMs)} ms idle`);
      out.push('');
      out.push('| self time by area | ms | share |');
      out.push('| --- | --- | --- |');
      for (const a of sum.areas.slice(0, 10)) out.push(`| ${a.name} | ${ms(a.selfMs)} | ${pct(a.share)} |`);
      out.push('');
      out.push('| self time by function | ms | share |');
      out.push('| --- | --- | --- |');
      for (const f of sum.functions.slice(0, 15)) out.push(`| \`${f.name}\` | ${ms(f.selfMs)} | ${pct(f.share)} |`);
    };
    out.push('');
    out.push(`## Controller CPU profile (\`${p.file}\`)`);
    table('During the change rounds', p.changes);
    table('From spawn until the change rounds (startup)', p.startup);
  }
  out.push('');
  out.push('## Problems seen during the run');
  out.push('');
  out.push(r.problems.length === 0 ? 'None.' : r.problems.map((x) => `- ${x}`).join('\n'));
  out.push('');
  return out.join('\n');
}
