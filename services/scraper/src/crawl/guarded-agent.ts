/**
 * The SSRF guard: an undici Agent whose connector resolves the host itself,
 * checks the resolved address against the AddressPolicy and connects to
 * exactly that address. Because the check and the connection use the same
 * resolved address there is no window for DNS rebinding between them
 * (time-of-check to time-of-use), and because every new connection passes
 * through the connector, every request and every redirect hop to another
 * host is checked. An IP-literal host (`http://127.0.0.1/`, which the WHATWG
 * URL parser also produces from `http://2130706433/`, `http://0x7f000001/`
 * or `http://0177.0.0.1/`) is checked the same way, without a lookup.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { Agent, buildConnector } from "undici";
import type { AddressPolicy } from "./address-policy.js";

/** A resolved address, as `dns.lookup(host, { all: true })` returns them. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to its addresses; rejects with the resolver's error (ENOTFOUND, EAI_AGAIN…). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver (getaddrinfo, /etc/hosts included), every address in the resolver's order. */
export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Thrown by the connector when the host's address is not allowed; classified as BLOCKED_ADDRESS. */
export class BlockedAddressError extends Error {
  readonly code = "ERR_TRAWL_BLOCKED_ADDRESS";
  override name = "BlockedAddressError";
}

export interface GuardedAgentOptions {
  policy: AddressPolicy;
  /** Connections per origin. */
  connections: number;
  /** TCP (and TLS) connect timeout. */
  connectTimeoutMs: number;
  keepAliveTimeoutMs?: number;
  resolver?: Resolver;
}

/**
 * The address to connect to for `hostname`: the host itself when it is an
 * IP literal, else the first resolved address the policy allows. Rejects
 * with BlockedAddressError when no address is allowed, or with the
 * resolver's error.
 */
export async function pinAddress(hostname: string, policy: AddressPolicy, resolver: Resolver = systemResolver): Promise<string> {
  if (isIP(hostname) !== 0) {
    if (policy.allows(hostname)) return hostname;
    throw new BlockedAddressError(`address ${hostname} is private, loopback, link-local or reserved and not in CRAWL_ALLOW_ADDRESSES`);
  }
  const addresses = await resolver(hostname);
  const allowed = addresses.find((a) => policy.allows(a.address));
  if (allowed !== undefined) return allowed.address;
  const listed = addresses.map((a) => a.address).join(", ") || "no address";
  throw new BlockedAddressError(`${hostname} resolves to ${listed}: private, loopback, link-local or reserved and not in CRAWL_ALLOW_ADDRESSES`);
}

/** An undici Agent that only ever connects to addresses `policy` allows. */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const { policy, resolver = systemResolver } = options;
  const connect = buildConnector({ timeout: options.connectTimeoutMs });
  const guarded: buildConnector.connector = (connectOptions, callback) => {
    pinAddress(connectOptions.hostname, policy, resolver).then(
      // `host` keeps the original name, so TLS still sends it as SNI and checks the certificate against it.
      (address) => connect({ ...connectOptions, hostname: address }, callback),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
    );
  };
  return new Agent({ connections: options.connections, keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000, connect: guarded });
}
