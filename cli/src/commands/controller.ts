/**
 * `switchyard controller`: one controller replica in a cluster. Watches Frontends, Backends,
 * HealthPolicies, Services and EndpointSlices, serves data planes over the control channel and,
 * while it holds the leader Lease, writes status and Events. See controller/src/controller.ts.
 */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parseDuration } from '@switchyard/api';
import { startController, type ControllerOptions, type HostPort } from '@switchyard/controller/kubernetes';
import { createLogger } from '@switchyard/dataplane';
import { untilSignal } from '../until-signal.ts';

export interface ControllerCommandOptions {
  kubeconfig: string | undefined;
  listen: string | undefined;
  adminListen: string | undefined;
  tokenFile: string | undefined;
  tokenSecret: string | undefined;
  namespace: string | undefined;
  name: string | undefined;
  leaseDuration: string | undefined;
  renewDeadline: string | undefined;
  retryPeriod: string | undefined;
  logLevel: string;
}

/** Throws an Error naming the flag at fault; main() prints it with the usage. */
export function parseControllerOptions(o: ControllerCommandOptions): Omit<ControllerOptions, 'logger' | 'kubeConfig'> {
  if (!o.listen) throw new Error('controller needs --listen HOST:PORT (the control channel)');
  if (!o.tokenFile === !o.tokenSecret) throw new Error('controller needs exactly one of --token-file FILE or --token-secret NAMESPACE/NAME');
  let token: { file: string } | { secret: { namespace: string; name: string } };
  if (o.tokenFile) token = { file: o.tokenFile };
  else {
    const [namespace, name, extra] = o.tokenSecret!.split('/');
    if (!namespace || !name || extra !== undefined) throw new Error(`--token-secret: expected NAMESPACE/NAME, got "${o.tokenSecret}"`);
    token = { secret: { namespace, name } };
  }
  const election =
    o.leaseDuration || o.renewDeadline || o.retryPeriod
      ? {
          leaseDurationMs: flagDuration('--lease-duration', o.leaseDuration ?? '15s'),
          renewDeadlineMs: flagDuration('--renew-deadline', o.renewDeadline ?? '10s'),
          retryPeriodMs: flagDuration('--retry-period', o.retryPeriod ?? '2s'),
        }
      : undefined;
  return {
    replica: o.name ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
    namespace: o.namespace ?? process.env.POD_NAMESPACE ?? inClusterNamespace() ?? 'default',
    listen: hostPort('--listen', o.listen),
    admin: hostPort('--admin-listen', o.adminListen ?? '0.0.0.0:9180'),
    token,
    election,
  };
}

export async function controller(o: ControllerCommandOptions): Promise<number> {
  const logger = createLogger({ level: o.logLevel });
  let options;
  const kubeConfig = new KubeConfig();
  try {
    options = parseControllerOptions(o);
    // Without --kubeconfig: in-cluster service account, else $KUBECONFIG or ~/.kube/config.
    if (o.kubeconfig) kubeConfig.loadFromFile(o.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (err) {
    process.stderr.write(`switchyard controller: ${(err as Error).message}\n`);
    return 2;
  }
  const running = await startController({ ...options, kubeConfig, logger });
  await untilSignal(logger);
  await running.close();
  return 0;
}

function hostPort(flag: string, text: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) throw new Error(`${flag}: expected HOST:PORT, got "${text}"`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

function flagDuration(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new Error(`${flag}: ${(err as Error).message}`);
  }
}

function inClusterNamespace(): string | null {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || null;
  } catch {
    return null;
  }
}
