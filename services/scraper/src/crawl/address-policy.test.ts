import { describe, expect, it } from "vitest";
import { AddressPolicy, parseAddressRule } from "./address-policy.js";

describe("AddressPolicy", () => {
  const closed = new AddressPolicy();

  it.each([
    ["8.8.8.8"],
    ["1.1.1.1"],
    ["93.184.216.34"],
    ["172.15.255.255"],
    ["172.32.0.1"],
    ["100.63.255.255"],
    ["100.128.0.1"],
    ["169.253.255.255"],
    ["2606:4700:4700::1111"],
    ["::ffff:8.8.8.8"],
    ["64:ff9b::808:808"],
    ["64:ff9b::8.8.8.8"],
  ])("allows the public address %s", (address) => {
    expect(closed.allows(address)).toBe(true);
  });

  it.each([
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.169.254", "link-local (cloud metadata)"],
    ["169.254.0.1", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "this network"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["::1", "IPv6 loopback"],
    ["::", "IPv6 unspecified"],
    ["fc00::1", "unique local"],
    ["fd12:3456::1", "unique local"],
    ["fe80::1", "IPv6 link-local"],
    ["fe80::1%eth0", "IPv6 link-local with a zone"],
    ["ff02::1", "IPv6 multicast"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
    ["::ffff:7f00:1", "IPv4-mapped loopback, hex form"],
    ["::ffff:10.0.0.1", "IPv4-mapped private"],
    ["::ffff:169.254.169.254", "IPv4-mapped metadata address"],
    ["::127.0.0.1", "IPv4-compatible loopback"],
    ["64:ff9b::7f00:1", "NAT64 of loopback"],
    ["64:ff9b::169.254.169.254", "NAT64 of the metadata address"],
    ["64:ff9b:0:0:0:0:a00:1", "NAT64 of a private address, uncompressed"],
    ["64:ff9b::7f00:1%eth0", "NAT64 of loopback with a zone"],
    ["localhost", "not an IP literal"],
    ["", "empty"],
  ])("refuses %s (%s)", (address) => {
    expect(closed.allows(address)).toBe(false);
  });

  it("allows what the allow-list names, exactly or by range, and nothing else special", () => {
    const policy = new AddressPolicy(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);
    expect(policy.allows("127.0.0.1")).toBe(true);
    expect(policy.allows("::ffff:127.0.0.1")).toBe(true);
    expect(policy.allows("64:ff9b::7f00:1")).toBe(true);
    expect(policy.allows("127.0.0.2")).toBe(false);
    expect(policy.allows("10.9.9.9")).toBe(true);
    expect(policy.allows("fd00::1")).toBe(true);
    expect(policy.allows("fc00::1")).toBe(false);
    expect(policy.allows("192.168.0.1")).toBe(false);
    expect(policy.allows("8.8.8.8")).toBe(true);
  });

  it("tells special addresses from public ones whatever the allow-list says", () => {
    const policy = new AddressPolicy(["127.0.0.1"]);
    expect(policy.isSpecial("127.0.0.1")).toBe(true);
    expect(policy.isSpecial("8.8.8.8")).toBe(false);
  });

  it("rejects an allow-list entry that is not an address or a range", () => {
    expect(() => new AddressPolicy(["localhost"])).toThrow(/localhost/);
  });
});

describe("parseAddressRule", () => {
  it.each([
    ["127.0.0.1", { address: "127.0.0.1", family: "ipv4" }],
    [" 10.0.0.0/8 ", { address: "10.0.0.0", family: "ipv4", prefix: 8 }],
    ["::1", { address: "::1", family: "ipv6" }],
    ["fd00::/8", { address: "fd00::", family: "ipv6", prefix: 8 }],
    ["0.0.0.0/0", { address: "0.0.0.0", family: "ipv4", prefix: 0 }],
  ])("parses %j", (entry, expected) => {
    expect(parseAddressRule(entry)).toEqual(expected);
  });

  it.each([["localhost"], ["10.0.0.0/33"], ["::/129"], ["10.0.0.0/8/8"], ["10.0.0.0/x"], ["1.2.3"], [""]])("rejects %j", (entry) => {
    expect(parseAddressRule(entry)).toBeUndefined();
  });
});
