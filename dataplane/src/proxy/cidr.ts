import net from 'node:net';

/** Matches addresses against one CIDR (IPv4 or IPv6; IPv4-mapped IPv6 addresses match IPv4 networks). */
export interface CidrMatcher {
  matches(address: string): boolean;
}

export function parseCidr(cidr: string): CidrMatcher {
  const [address, bits] = cidr.split('/');
  const family = net.isIPv6(address!) ? 'ipv6' : 'ipv4';
  const prefix = bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits);
  const list = new net.BlockList();
  list.addSubnet(address!, prefix, family);
  return {
    matches(candidate: string): boolean {
      if (candidate.startsWith('::ffff:') && family === 'ipv4') candidate = candidate.slice(7);
      const candidateFamily = net.isIPv6(candidate) ? 'ipv6' : 'ipv4';
      return list.check(candidate, candidateFamily);
    },
  };
}
