/**
 * Endpoint resolution: a Service and its EndpointSlices -> the ready endpoints a Backend's
 * `serviceRef` resolves to, as the translator takes them (`Endpoint`).
 */
import type { Endpoint } from '../../translator/types.ts';
import type { ServiceView, SliceView } from './projection.ts';

const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** IPv4 first in numeric order (10.0.0.2 before 10.0.0.10), then IPv6 and anything else by text. */
export function compareAddresses(a: string, b: string): number {
  const v4a = IPV4_RE.test(a);
  const v4b = IPV4_RE.test(b);
  if (v4a !== v4b) return v4a ? -1 : 1;
  if (v4a) {
    const x = a.split('.');
    const y = b.split('.');
    for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return Number(x[i]) - Number(y[i]);
    return 0;
  }
  return compareText(a, b);
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  return compareAddresses(a.address, b.address) || a.port - b.port || compareText(a.name ?? '', b.name ?? '');
}

/**
 * The ready endpoints of `service` from `slices` (those labelled with its name, any address family:
 * a dual-stack Service has an IPv4 and an IPv6 slice). A slice port is mapped to the Service port of
 * the same name (`servicePort`); a slice port the Service does not have (a stale slice during a
 * port rename) is skipped. Endpoints found in several slices are kept once. Sorted by address,
 * port, then port name.
 */
export function resolveEndpoints(service: ServiceView, slices: Iterable<SliceView>): Endpoint[] {
  const servicePorts = new Map(service.ports.map((p) => [p.name, p.port]));
  const unique = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.namespace !== service.namespace || slice.service !== service.name) continue;
    for (const port of slice.ports) {
      const servicePort = servicePorts.get(port.name);
      if (servicePort === undefined) continue;
      for (const address of slice.addresses) {
        const id = `${address}|${port.port}|${port.name}`;
        if (unique.has(id)) continue;
        const endpoint: Endpoint = port.name === '' ? { address, port: port.port, servicePort } : { address, port: port.port, name: port.name, servicePort };
        unique.set(id, endpoint);
      }
    }
  }
  return [...unique.values()].sort(compareEndpoints);
}

/** Same endpoints in the same order. */
export function sameEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.address !== y.address || x.port !== y.port || x.name !== y.name || x.servicePort !== y.servicePort) return false;
  }
  return true;
}
