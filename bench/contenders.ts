/**
 * The contenders: the backends themselves (direct), HAProxy, nginx, Switchyard and a plain Node
 * proxy on node-http-proxy, each with the same three servers, round robin, keep-alive to clients
 * and pooled keep-alive connections to the servers. Their configuration text is generated here
 * and written into the run's temp folder.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nginxHttpCommon, nginxMain, type NginxBase } from './backends.ts';
import type { Managed, Processes } from './processes.ts';

export type Product = 'direct' | 'haproxy' | 'nginx' | 'switchyard' | 'node-http-proxy' | 'switchyard-cluster';
export type ProxyMode = 'http' | 'tcp';

export interface Contender {
  id: string;
  label: string;
  product: Product;
  mode: ProxyMode;
  port: number;
}

export interface Ports {
  backends: number[];
  haproxyHttp: number;
  haproxyTcp: number;
  nginxHttp: number;
  switchyardHttp: number;
  switchyardTcp: number;
  nodeHttpProxy: number;
  switchyardClusterRr: number;
  switchyardClusterNone: number;
  /** The rules benchmark's second HAProxy and Switchyard (`--rules`). */
  haproxyRules: number;
  switchyardRules: number;
}

/** How many ports `layoutPorts` uses from `base`. */
export const PORT_SPAN = 40;

export function layoutPorts(base: number): Ports {
  return {
    backends: [base + 1, base + 2, base + 3],
    haproxyHttp: base + 10,
    haproxyTcp: base + 11,
    haproxyRules: base + 12,
    nginxHttp: base + 20,
    switchyardHttp: base + 30,
    switchyardTcp: base + 31,
    switchyardRules: base + 32,
    nodeHttpProxy: base + 35,
    switchyardClusterRr: base + 36,
    switchyardClusterNone: base + 37,
  };
}

export function allPorts(p: Ports): number[] {
  return [
    ...p.backends, p.haproxyHttp, p.haproxyTcp, p.haproxyRules, p.nginxHttp, p.switchyardHttp, p.switchyardTcp, p.switchyardRules, p.nodeHttpProxy,
    p.switchyardClusterRr, p.switchyardClusterNone,
  ];
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/**
 * A block of PORT_SPAN free loopback ports: from `explicitBase` (--port-base; fails if they are not
 * all free), or the first free block from 24000 (or below the ephemeral range, so no client socket,
 * and there are many, ever holds one of them).
 */
export async function choosePorts(explicitBase: number | null): Promise<Ports> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    // default range
  }
  let base = explicitBase ?? Math.min(24_000, low - PORT_SPAN * 20);
  for (let attempt = 0; attempt < 20; attempt++, base += PORT_SPAN) {
    const ports = layoutPorts(base);
    const free = await Promise.all(allPorts(ports).map(portFree));
    if (free.every(Boolean)) return ports;
    if (explicitBase !== null) throw new Error(`ports ${base}-${base + PORT_SPAN - 1} are not all free on 127.0.0.1`);
  }
  throw new Error('found no free block of loopback ports; pass --port-base');
}

export function contenders(p: Ports, withCluster = false): Contender[] {
  const cluster: Contender[] = [
    { id: 'switchyard-cluster-rr', label: 'Switchyard cluster rr', product: 'switchyard-cluster', mode: 'http', port: p.switchyardClusterRr },
    { id: 'switchyard-cluster-none', label: 'Switchyard cluster none', product: 'switchyard-cluster', mode: 'http', port: p.switchyardClusterNone },
  ];
  return [
    ...(withCluster ? cluster : []),
    { id: 'direct', label: 'direct (no proxy)', product: 'direct', mode: 'http', port: p.backends[0]! },
    { id: 'haproxy-http', label: 'HAProxy http', product: 'haproxy', mode: 'http', port: p.haproxyHttp },
    { id: 'nginx-http', label: 'nginx http', product: 'nginx', mode: 'http', port: p.nginxHttp },
    { id: 'switchyard-http', label: 'Switchyard http', product: 'switchyard', mode: 'http', port: p.switchyardHttp },
    { id: 'node-http-proxy', label: 'node-http-proxy', product: 'node-http-proxy', mode: 'http', port: p.nodeHttpProxy },
    { id: 'haproxy-tcp', label: 'HAProxy tcp', product: 'haproxy', mode: 'tcp', port: p.haproxyTcp },
    { id: 'switchyard-tcp', label: 'Switchyard tcp', product: 'switchyard', mode: 'tcp', port: p.switchyardTcp },
  ];
}

/**
 * The rules benchmark (`--rules`): HAProxy and Switchyard with the plain HTTP frontend (the same
 * ids and configurations as above) and each with bench/rules/config.ts's ACLs and rules, run as
 * separate processes, in this order (A B C D).
 */
export function rulesContenders(p: Ports): Contender[] {
  return [
    { id: 'haproxy-http', label: 'HAProxy, no rules', product: 'haproxy', mode: 'http', port: p.haproxyHttp },
    { id: 'haproxy-rules', label: 'HAProxy, 20 ACLs + 10 rules', product: 'haproxy', mode: 'http', port: p.haproxyRules },
    { id: 'switchyard-http', label: 'Switchyard, no rules', product: 'switchyard', mode: 'http', port: p.switchyardHttp },
    { id: 'switchyard-rules', label: 'Switchyard, 20 ACLs + 10 rules', product: 'switchyard', mode: 'http', port: p.switchyardRules },
  ];
}

/** Timeouts shared by every proxy (HAProxy names). */
export const TIMEOUTS = { connect: '5s', client: '60s', server: '30s', httpRequest: '10s', httpKeepAlive: '60s' };

export interface HaproxyOptions {
  threads: number;
  /** Above the idle-connection count, so the memory test is not capped by HAProxy. */
  maxconn: number;
  ports: Ports;
  /**
   * The rules benchmark's variant: the HTTP frontend on `port` with these extra lines (acl,
   * http-request, use_backend, http-response), these extra backends (the same servers as be_http),
   * and no tcp frontend. Absent: the plain configuration.
   */
  rules?: { port: number; frontendLines: string[]; backends: string[] };
}

export function haproxyConfig(o: HaproxyOptions): string {
  const servers = o.ports.backends.map((port, i) => `  server s${i + 1} 127.0.0.1:${port}`).join('\n');
  const httpBackend = (name: string): string => `backend ${name}
  mode http
  balance roundrobin
  option http-keep-alive
  http-reuse safe
${servers}
`;
  const rules = o.rules;
  const tcp = rules ? '' : `
frontend fe_tcp
  mode tcp
  bind 127.0.0.1:${o.ports.haproxyTcp}
  default_backend be_tcp

backend be_tcp
  mode tcp
  balance roundrobin
${servers}
`;
  return `# HAProxy under test (generated by bench/contenders.ts${rules ? ', rules from bench/rules/config.ts' : ''}).
global
  nbthread ${o.threads}
  maxconn ${o.maxconn}
  # HAProxy wants 2 x maxconn descriptors and fails when the hard limit is lower; one descriptor
  # per idle client connection is all the memory test needs.
  no strict-limits

defaults
  maxconn ${o.maxconn}
  timeout connect ${TIMEOUTS.connect}
  timeout client ${TIMEOUTS.client}
  timeout server ${TIMEOUTS.server}

frontend fe_http
  mode http
  bind 127.0.0.1:${rules?.port ?? o.ports.haproxyHttp}
  option http-keep-alive
  timeout http-request ${TIMEOUTS.httpRequest}
  timeout http-keep-alive ${TIMEOUTS.httpKeepAlive}
${rules ? rules.frontendLines.map((l) => `  ${l}\n`).join('') : ''}  default_backend be_http

${[httpBackend('be_http'), ...(rules?.backends ?? []).map(httpBackend)].join('\n')}${tcp}`;
}

export interface NginxProxyOptions extends NginxBase {
  ports: Ports;
}

export function nginxProxyConfig(o: NginxProxyOptions): string {
  const servers = o.ports.backends.map((port) => `    server 127.0.0.1:${port};`).join('\n');
  return `# nginx under test as a reverse proxy (generated by bench/contenders.ts).
${nginxMain(o)}
http {
${nginxHttpCommon(o.prefix)}
  upstream be_http {
${servers}
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${o.ports.nginxHttp};
    location / {
      proxy_pass http://be_http;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout ${TIMEOUTS.connect};
      proxy_read_timeout ${TIMEOUTS.server};
      # Stream large responses instead of spooling them to temp files.
      proxy_max_temp_file_size 0;
    }
  }
}
`;
}

/** The rules benchmark's variant of the HTTP frontend: YAML lines for its spec, and the extra http Backends they name. */
export interface SwitchyardRulesOption {
  yaml: string;
  backends: string[];
}

export function switchyardManifests(ports: Ports, httpPort = ports.switchyardHttp, tcp = true, rules?: SwitchyardRulesOption): string {
  const servers = ports.backends.map((port, i) => `    - { name: s${i + 1}, address: 127.0.0.1, port: ${port} }`).join('\n');
  const backend = (name: string, mode: ProxyMode): string => `apiVersion: switchyard.dev/v1alpha1
kind: Backend
metadata:
  name: ${name}
spec:
  mode: ${mode}
  balance: roundrobin
${mode === 'http' ? '  httpReuse: safe\n' : ''}  timeouts:
    connect: ${TIMEOUTS.connect}
    server: ${TIMEOUTS.server}
  servers:
${servers}
`;
  const fe = (name: string, mode: ProxyMode, port: number, timeouts: string, be: string, extra = ''): string => `apiVersion: switchyard.dev/v1alpha1
kind: Frontend
metadata:
  name: ${name}
spec:
  mode: ${mode}
  binds:
    - { address: 127.0.0.1, port: ${port} }
  timeouts:
${timeouts}  defaultBackend:
    name: ${be}
${extra}`;
  const httpTimeouts = `    client: ${TIMEOUTS.client}\n    httpRequest: ${TIMEOUTS.httpRequest}\n    httpKeepAlive: ${TIMEOUTS.httpKeepAlive}\n`;
  const docs = [backend('be-http', 'http'), ...(rules?.backends ?? []).map((name) => backend(name, 'http'))];
  if (tcp) docs.push(backend('be-tcp', 'tcp'));
  docs.push(fe('fe-http', 'http', httpPort, httpTimeouts, 'be-http', rules?.yaml));
  if (tcp) docs.push(fe('fe-tcp', 'tcp', ports.switchyardTcp, `    client: ${TIMEOUTS.client}\n`, 'be-tcp'));
  const origin = rules ? 'bench/contenders.ts, rules from bench/rules/config.ts' : 'bench/contenders.ts';
  return `# Switchyard under test (generated by ${origin}): the HAProxy configuration, as manifests.\n${docs.join('---\n')}`;
}

export interface StartContext {
  procs: Processes;
  dir: string;
  cpus: string | null;
}

export interface Started {
  managed: Managed;
  config: string;
}

/** `dir`: the folder under the run's temp folder (default `haproxy`), so two HAProxys can run side by side. */
export function startHaproxy(ctx: StartContext, haproxy: string, o: HaproxyOptions, name = 'HAProxy', dirName = 'haproxy'): Started {
  const dir = join(ctx.dir, dirName);
  mkdirSync(dir, { recursive: true });
  const config = haproxyConfig(o);
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  // -db: stay in the foreground, one process; the PID is the one to measure.
  const managed = ctx.procs.start(name, [haproxy, '-db', '-f', file], { logFile: join(dir, 'stderr.log'), cpus: ctx.cpus });
  return { managed, config };
}

export function startNginxProxy(ctx: StartContext, nginx: string, o: Omit<NginxProxyOptions, 'prefix'>): Started {
  const prefix = join(ctx.dir, 'nginx-proxy');
  mkdirSync(prefix, { recursive: true });
  const config = nginxProxyConfig({ ...o, prefix });
  const file = join(prefix, 'nginx.conf');
  writeFileSync(file, config);
  const managed = ctx.procs.start('nginx', [nginx, '-p', prefix, '-c', file], { logFile: join(prefix, 'stderr.log'), cpus: ctx.cpus });
  return { managed, config };
}

export interface SwitchyardStartOptions {
  /** Process name in messages (default Switchyard) and folder under the temp folder (default switchyard). */
  name?: string;
  dirName?: string;
  /** The rules benchmark's variant: the HTTP frontend on ports.switchyardRules with these rules, no tcp frontend. */
  rules?: SwitchyardRulesOption;
  /** Flags for node before the script, e.g. --cpu-prof. */
  nodeFlags?: string[];
}

/** `<repo>/node_modules/.bin/node <repo>/cli/bin/switchyard.js run -f <dir> --workers N --log-level warn`; its output goes to `<dir>/output.log`. */
export function startSwitchyard(ctx: StartContext, repo: string, ports: Ports, workers: number, o: SwitchyardStartOptions = {}): Started {
  const dir = join(ctx.dir, o.dirName ?? 'switchyard');
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests, { recursive: true });
  const config = o.rules ? switchyardManifests(ports, ports.switchyardRules, false, o.rules) : switchyardManifests(ports);
  writeFileSync(join(manifests, 'bench.yaml'), config);
  const argv = [
    join(repo, 'node_modules', '.bin', 'node'), ...(o.nodeFlags ?? []), join(repo, 'cli', 'bin', 'switchyard.js'),
    'run', '-f', manifests, '--workers', String(workers), '--log-level', 'warn',
  ];
  const managed = ctx.procs.start(o.name ?? 'Switchyard', argv, { logFile: join(dir, 'output.log'), cwd: repo, cpus: ctx.cpus });
  return { managed, config };
}

/** bench/switchyard-cluster.ts (the --with-cluster experiment): `workers` single-threaded Switchyards under node:cluster. */
export function startSwitchyardCluster(ctx: StartContext, repo: string, ports: Ports, workers: number, sched: 'rr' | 'none'): Started {
  const dir = join(ctx.dir, `switchyard-cluster-${sched}`);
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests, { recursive: true });
  const config = switchyardManifests(ports, sched === 'rr' ? ports.switchyardClusterRr : ports.switchyardClusterNone, false);
  writeFileSync(join(manifests, 'bench.yaml'), config);
  const argv = [join(repo, 'node_modules', '.bin', 'node'), join(repo, 'bench', 'switchyard-cluster.ts'), '-f', manifests, '--workers', String(workers), '--sched', sched];
  const managed = ctx.procs.start(`Switchyard cluster ${sched}`, argv, { logFile: join(dir, 'output.log'), cwd: repo, cpus: ctx.cpus });
  return { managed, config };
}

/** bench/node-http-proxy.ts: node-http-proxy with a keep-alive agent; `workers` > 1 forks through node:cluster. */
export function startNodeHttpProxy(ctx: StartContext, repo: string, ports: Ports, workers: number): Started {
  const dir = join(ctx.dir, 'node-http-proxy');
  mkdirSync(dir, { recursive: true });
  const script = join(repo, 'bench', 'node-http-proxy.ts');
  const argv = [join(repo, 'node_modules', '.bin', 'node'), '--no-deprecation', script, '--port', String(ports.nodeHttpProxy), '--backends', ports.backends.join(','), '--workers', String(workers)];
  const managed = ctx.procs.start('node-http-proxy', argv, { logFile: join(dir, 'output.log'), cwd: repo, cpus: ctx.cpus });
  return { managed, config: argv.slice(2).join(' ') };
}

export interface ProbeRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
}

export interface ProbeResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string | string[] | undefined>;
}

/** One request over a fresh connection; resolves to the status and headers, or rejects. */
export function httpProbe(port: number, r: ProbeRequest, timeoutMs = 2000): Promise<ProbeResponse> {
  return new Promise((resolve, reject) => {
    const headers = { ...r.headers, connection: 'close' };
    const req = request({ host: '127.0.0.1', port, method: r.method ?? 'GET', path: r.path, agent: false, headers, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

/** One GET over a fresh connection; resolves to the status code, or rejects. */
export async function httpGet(port: number, path: string, timeoutMs = 2000): Promise<number> {
  return (await httpProbe(port, { path }, timeoutMs)).status;
}

/** Waits until GET / on `port` answers 200; fails early if `managed` exits. */
export async function waitUntilAnswers(port: number, managed: Managed, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (managed.exitInfo !== null) {
      throw new Error(`${managed.name} exited (${managed.exitInfo.signal ?? `code ${managed.exitInfo.code}`}) before answering on port ${port}; see ${managed.logFile}`);
    }
    try {
      const status = await httpGet(port, '/');
      if (status === 200) return;
      last = `status ${status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${managed.name} did not answer 200 on port ${port} within ${timeoutMs / 1000}s (${last}); see ${managed.logFile}`);
}
