/**
 * `--peer-listen HOST:PORT` and the URL other data planes reach it at. A wildcard listen address
 * (0.0.0.0, ::) is no address to connect to: the advertised URL then uses $POD_IP when set (the
 * downward API), else this host's first non-internal IPv4 address.
 */
import { networkInterfaces } from 'node:os';

export interface HostPort {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[V6]:PORT` or `:PORT` (all interfaces); an error naming what is wrong. */
export function parseHostPort(text: string): HostPort | { error: string } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (match === null) return { error: `"${text}" is not HOST:PORT` };
  const port = Number(match[3]);
  if (port > 65535) return { error: `"${text}": port ${port} is out of range` };
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** The URL to advertise for a server bound to `address:port`. */
export function advertiseUrl(address: string, port: number, env: NodeJS.ProcessEnv = process.env): string {
  let host = address;
  if (address === '0.0.0.0' || address === '::' || address === '') host = env.POD_IP?.trim() || firstExternalAddress() || '127.0.0.1';
  return `ws://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

function firstExternalAddress(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

/** Throws unless `url` is ws:// or wss:// with a host. */
export function checkPeerUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`peer URL "${url}" is not a URL (expected ws://HOST:PORT/)`);
  }
  if ((parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') || parsed.hostname === '') throw new Error(`peer URL "${url}" must start with ws:// or wss://`);
}
