/**
 * A network namespace joined to the host by a veth pair: a stand-in for a pod with its own IP, so
 * that two data planes can bind the same port as they would on two pods. Needs root and iproute2
 * (`.ci/run` installs it). The host side gets `hostAddress`, the namespace side `address`, both in
 * a /30 of 10.231.0.0/16 chosen from the process id so parallel test files do not collide. The
 * namespace's default route points at the host, so any address of the host is reachable from it.
 */
import { execFileSync } from 'node:child_process';

export interface NetNamespace {
  name: string;
  /** The namespace's own address (what clients connect to). */
  address: string;
  /** The host end of the veth pair (what processes in the namespace use to reach the host). */
  hostAddress: string;
  /** argv prefix that runs a command inside the namespace: `[...ns.exec, 'node', 'x.js']`. */
  exec: string[];
  destroy(): void;
}

let counter = 0;

/**
 * True when this process can create namespaces (root with iproute2, and a kernel or sandbox that
 * allows it): tried for real with a throwaway namespace, since being root is not always enough.
 */
export function canCreateNetNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `swy-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function createNetNamespace(label: string): NetNamespace {
  const slot = (process.pid * 7 + counter++) % 16_000;
  const name = `swy-${label}-${process.pid}-${counter}`;
  const host = `swyh${slot}`;
  const peer = `swyn${slot}`;
  const base = slot * 4;
  const octet3 = Math.floor(base / 256);
  const octet4 = base % 256;
  const hostAddress = `10.231.${octet3}.${octet4 + 1}`;
  const address = `10.231.${octet3}.${octet4 + 2}`;
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  // A leftover from a killed run would make `link add` fail; remove it first.
  try {
    ip('link', 'del', host);
  } catch {
    /* not there: the usual case */
  }
  ip('netns', 'add', name);
  try {
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
    ip('link', 'set', peer, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', host);
    ip('link', 'set', host, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${address}/30`, 'dev', peer);
    ip('netns', 'exec', name, 'ip', 'link', 'set', peer, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    // Every address of the host (other namespaces' host ends included) is reachable through ours.
    ip('netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', hostAddress);
  } catch (err) {
    ip('netns', 'del', name);
    throw err;
  }
  return {
    name,
    address,
    hostAddress,
    exec: ['ip', 'netns', 'exec', name],
    destroy() {
      try {
        ip('netns', 'del', name); // deleting the namespace deletes the veth pair with it
      } catch {
        /* already gone */
      }
    },
  };
}
