/**
 * IP patterns of ACLs: an IPv4 or IPv6 address, or a network in CIDR form. HAProxy's dotted
 * netmasks (`10.0.0.0/255.0.0.0`) become prefix lengths; host names (which HAProxy resolves once,
 * at startup) are refused, since a snapshot must not depend on DNS at translation time.
 */

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const HEX_GROUP_RE = /^[0-9A-Fa-f]{1,4}$/;

export function isIPv4(text: string): boolean {
  return IPV4_RE.test(text);
}

/** RFC 4291 text forms: eight groups, `::` once for a run of zero groups, an IPv4 tail. No zone. */
export function isIPv6(text: string): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  const all = groups.flat();
  let count = all.length;
  const last = groups.at(-1)!.at(-1);
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last)) return false;
    all.pop();
    count++; // an IPv4 tail is two groups
  }
  if (!all.every((g) => HEX_GROUP_RE.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** The prefix length of a contiguous dotted netmask (`255.255.0.0` is 16), or null. */
function maskBits(mask: string): number | null {
  const n = mask.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  const inverted = 0xffffffff - n;
  // Contiguous masks are ones then zeros: the inverted mask plus one is a power of two.
  if ((inverted & (inverted + 1)) !== 0) return null;
  return 32 - Math.log2(inverted + 1);
}

function prefix(text: string, max: number): number | null {
  if (!/^\d{1,3}$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

/** The canonical form of an IP pattern (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`), or null when invalid. */
export function normalizeIpPattern(text: string): string | null {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const mask = slash < 0 ? null : text.slice(slash + 1);
  if (isIPv4(address)) {
    if (mask === null) return address;
    const bits = isIPv4(mask) ? maskBits(mask) : prefix(mask, 32);
    return bits === null ? null : `${address}/${bits}`;
  }
  if (isIPv6(address)) {
    const lower = address.toLowerCase();
    if (mask === null) return lower;
    const bits = prefix(mask, 128);
    return bits === null ? null : `${lower}/${bits}`;
  }
  return null;
}
