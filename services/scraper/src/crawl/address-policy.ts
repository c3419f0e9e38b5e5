/**
 * Which IP addresses the crawler may connect to: the SSRF guard's rule.
 * Private, loopback, link-local, unspecified, multicast and reserved
 * addresses are refused unless the allow-list (CRAWL_ALLOW_ADDRESSES) names
 * them. IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) are judged as the
 * IPv4 address they carry — node's BlockList applies IPv4 rules to them —
 * and so are NAT64 addresses of the well-known prefix (`64:ff9b::7f00:1`,
 * RFC 6052), which a NAT64 gateway turns into the IPv4 address they embed.
 */
import { BlockList, isIP } from "node:net";

type Family = "ipv4" | "ipv6";

/** One allow-list entry: an exact address or a CIDR range. */
export interface AddressRule {
  address: string;
  family: Family;
  /** Prefix length; absent for an exact address. */
  prefix?: number;
}

/** The ranges refused by default, as [network, prefix, family]. */
const SPECIAL_RANGES: readonly [string, number, Family][] = [
  ["0.0.0.0", 8, "ipv4"], // "this network", including the unspecified 0.0.0.0
  ["10.0.0.0", 8, "ipv4"], // private
  ["100.64.0.0", 10, "ipv4"], // carrier-grade NAT
  ["127.0.0.0", 8, "ipv4"], // loopback
  ["169.254.0.0", 16, "ipv4"], // link-local, including the cloud metadata address 169.254.169.254
  ["172.16.0.0", 12, "ipv4"], // private
  ["192.0.0.0", 24, "ipv4"], // IETF protocol assignments
  ["192.168.0.0", 16, "ipv4"], // private
  ["198.18.0.0", 15, "ipv4"], // benchmarking
  ["224.0.0.0", 4, "ipv4"], // multicast
  ["240.0.0.0", 4, "ipv4"], // reserved, including broadcast 255.255.255.255
  ["::", 96, "ipv6"], // unspecified ::, loopback ::1 and the deprecated IPv4-compatible ::a.b.c.d
  ["fc00::", 7, "ipv6"], // unique local
  ["fe80::", 10, "ipv6"], // link-local
  ["fec0::", 10, "ipv6"], // deprecated site-local
  ["ff00::", 8, "ipv6"], // multicast
];

/** The NAT64 well-known prefix 64:ff9b::/96. */
const NAT64 = new BlockList();
NAT64.addSubnet("64:ff9b::", 96, "ipv6");

/**
 * The IPv4 address a NAT64 address stands for (its last 32 bits), or
 * undefined when `address` is not one. The URL parser gives the canonical
 * compressed form, so only `::` needs expanding.
 */
export function nat64Target(address: string): string | undefined {
  if (isIP(address) !== 6 || !NAT64.check(address, "ipv6")) return undefined;
  // A zone (`%eth0`) names an interface, not part of the address; the URL parser refuses it.
  const canonical = new URL(`http://[${address.split("%")[0] ?? ""}]/`).hostname.slice(1, -1);
  const [head = "", tail] = canonical.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const hextets = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right].map((h) => Number.parseInt(h, 16));
  const [high = 0, low = 0] = hextets.slice(6);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

function familyOf(address: string): Family | undefined {
  const version = isIP(address);
  return version === 4 ? "ipv4" : version === 6 ? "ipv6" : undefined;
}

/** Parses "10.0.0.0/8", "::1" or "127.0.0.1"; undefined when it is neither an address nor a CIDR. */
export function parseAddressRule(entry: string): AddressRule | undefined {
  const [address = "", prefixText, extra] = entry.trim().split("/");
  const family = familyOf(address);
  if (family === undefined || extra !== undefined) return undefined;
  if (prefixText === undefined) return { address, family };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (family === "ipv4" ? 32 : 128)) return undefined;
  return { address, family, prefix };
}

export class AddressPolicy {
  private readonly special = new BlockList();
  private readonly allowed = new BlockList();

  /** `allow`: exact addresses or CIDRs that may be connected to even though they are special. */
  constructor(allow: readonly string[] = []) {
    for (const [network, prefix, family] of SPECIAL_RANGES) this.special.addSubnet(network, prefix, family);
    for (const entry of allow) {
      const rule = parseAddressRule(entry);
      if (rule === undefined) throw new RangeError(`not an IP address or CIDR range: ${entry}`);
      if (rule.prefix === undefined) this.allowed.addAddress(rule.address, rule.family);
      else this.allowed.addSubnet(rule.address, rule.prefix, rule.family);
    }
  }

  /** True when `address` (an IP literal) is special: private, loopback, link-local, … */
  isSpecial(address: string): boolean {
    const family = familyOf(address);
    if (family === undefined) return true;
    const embedded = nat64Target(address);
    if (embedded !== undefined) return this.isSpecial(embedded);
    return this.special.check(address, family);
  }

  /** True when the crawler may connect to `address`. Anything that is not an IP literal is refused. */
  allows(address: string): boolean {
    const family = familyOf(address);
    if (family === undefined) return false;
    const embedded = nat64Target(address);
    if (embedded !== undefined) return this.allows(embedded);
    return !this.special.check(address, family) || this.allowed.check(address, family);
  }
}
