/**
 * Addresses for `-m ip` matching and the `ipmask` converter. IPv4 is parsed by hand into a 32-bit
 * integer because an allow-list is checked on every request; IPv6 networks go to one
 * net.BlockList per criterion, which also matches IPv4-mapped addresses against IPv4 networks and
 * back, as HAProxy's pat_match_ip does.
 */
import net from 'node:net';

/** A dotted-quad IPv4 address as an unsigned 32-bit integer, or -1 when `text` is not one. */
export function parseIPv4(text: string): number {
  const length = text.length;
  if (length < 7 || length > 15) return -1;
  let result = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      result = result * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      continue;
    }
    const d = c - 0x30;
    if (d < 0 || d > 9) return -1;
    // No leading zeros: 010 is ambiguous (octal in inet_aton) and net.isIPv4 rejects it too.
    if (digits === 1 && octet === 0) return -1;
    octet = octet * 10 + d;
    if (octet > 255) return -1;
    digits++;
  }
  if (digits === 0 || dots !== 3) return -1;
  return result * 256 + octet;
}

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The network mask of a prefix length (0-32) as an unsigned integer. */
export function maskOf(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

/** Matches sample addresses against a list of addresses and CIDRs, compiled once. */
export function compileIpList(patterns: readonly string[]): (address: string) => boolean {
  const networks: number[] = [];
  const masks: number[] = [];
  let v6: net.BlockList | null = null;
  for (const pattern of patterns) {
    const slash = pattern.indexOf('/');
    const address = slash < 0 ? pattern : pattern.slice(0, slash);
    const bitsText = slash < 0 ? null : pattern.slice(slash + 1);
    const v4 = parseIPv4(address);
    if (v4 >= 0) {
      // HAProxy also takes a dotted mask: 10.0.0.0/255.0.0.0.
      const dotted = bitsText === null ? -1 : parseIPv4(bitsText);
      const mask = dotted >= 0 ? dotted : maskOf(bitsText === null ? 32 : parsePrefix(bitsText, 32, pattern));
      networks.push((v4 & mask) >>> 0);
      masks.push(mask);
    } else if (net.isIPv6(address)) {
      v6 ??= new net.BlockList();
      v6.addSubnet(address, bitsText === null ? 128 : parsePrefix(bitsText, 128, pattern), 'ipv6');
    } else {
      throw new Error(`'${pattern}' is not an IP address or CIDR`);
    }
  }
  const count = networks.length;
  const v6List = v6;
  return (address: string): boolean => {
    const text = address.startsWith('::ffff:') ? address.slice(7) : address;
    const v4 = parseIPv4(text);
    if (v4 >= 0) {
      for (let i = 0; i < count; i++) if (((v4 & masks[i]) >>> 0) === networks[i]) return true;
      return v6List !== null && v6List.check(text, 'ipv4');
    }
    return v6List !== null && address.indexOf(':') >= 0 && v6List.check(address, 'ipv6');
  };
}

function parsePrefix(text: string, max: number, pattern: string): number {
  const bits = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(bits >= 0 && bits <= max)) throw new Error(`'${pattern}' has an invalid prefix length`);
  return bits;
}
