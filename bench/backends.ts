/**
 * The backends every contender forwards to: one nginx serving three ports, each answering
 * `200 "ok"` on / and a 1 MiB file on /1m. Cheap on purpose, so the proxy is what is measured.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Managed, Processes } from './processes.ts';

export const LARGE_PATH = '/1m';
export const LARGE_SIZE = 1024 * 1024;

export interface NginxBase {
  /** Folder for pid, logs and temp files (the -p prefix). */
  prefix: string;
  workers: number;
  workerConnections: number;
  /** worker_rlimit_nofile; the hard limit of open files. */
  fileLimit: number;
  /** Add `user root;` so workers can read the 0700 temp folder when nginx starts as root. */
  runAsRoot: boolean;
}

/**
 * The part of nginx.conf every nginx of the harness shares: foreground, pid, logs and every temp
 * path inside `prefix`, no access log. Client and upstream keep-alive are not limited to 1000
 * requests per connection (nginx's default), as HAProxy does not limit them either.
 */
export function nginxMain(b: NginxBase): string {
  return [
    'daemon off;',
    ...(b.runAsRoot ? ['user root;'] : []),
    `worker_processes ${b.workers};`,
    `worker_rlimit_nofile ${b.fileLimit};`,
    `pid ${join(b.prefix, 'nginx.pid')};`,
    `error_log ${join(b.prefix, 'error.log')} warn;`,
    `events { worker_connections ${b.workerConnections}; }`,
  ].join('\n');
}

export function nginxHttpCommon(prefix: string): string {
  return [
    '  access_log off;',
    `  client_body_temp_path ${join(prefix, 'client_body')};`,
    `  proxy_temp_path ${join(prefix, 'proxy')};`,
    `  fastcgi_temp_path ${join(prefix, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(prefix, 'uwsgi')};`,
    `  scgi_temp_path ${join(prefix, 'scgi')};`,
    '  keepalive_timeout 60s;',
    '  keepalive_requests 1000000;',
  ].join('\n');
}

export interface BackendsConfig extends NginxBase {
  ports: number[];
  largeFile: string;
}

export function backendsConfig(c: BackendsConfig): string {
  const servers = c.ports.map(
    (port) => `  server {
    listen 127.0.0.1:${port};
    location / { return 200 "ok"; }
    location = ${LARGE_PATH} { alias ${c.largeFile}; }
  }`,
  );
  return `${nginxMain(c)}
http {
${nginxHttpCommon(c.prefix)}
  default_type application/octet-stream;
  sendfile on;
${servers.join('\n')}
}
`;
}

/** Writes the config and the 1 MiB file, starts nginx; the caller waits until it answers. */
export function startBackends(procs: Processes, nginx: string, c: BackendsConfig, cpus: string | null): Managed {
  mkdirSync(c.prefix, { recursive: true });
  writeFileSync(c.largeFile, randomBytes(LARGE_SIZE));
  const conf = join(c.prefix, 'nginx.conf');
  writeFileSync(conf, backendsConfig(c));
  return procs.start('backends (nginx)', [nginx, '-p', c.prefix, '-c', conf], { logFile: join(c.prefix, 'stderr.log'), cpus });
}
