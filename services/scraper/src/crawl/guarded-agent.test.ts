import { PageErrorKind } from "@trawl/proto";
import type { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSite, type Site } from "../test-support/http-site.js";
import { AddressPolicy } from "./address-policy.js";
import { fetchPage, type BodySink, type FetchOutcome } from "./fetch-page.js";
import { BlockedAddressError, createGuardedAgent, pinAddress, type Resolver } from "./guarded-agent.js";

const text = (): BodySink<string> => {
  let body = "";
  return { start: () => (body = ""), write: (chunk) => void (body += chunk), end: () => body };
};

/** A resolver for made-up names (nothing else resolves), standing in for DNS answers the tests choose. */
function resolverOf(answers: Record<string, string[] | (() => string[])>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const answer = answers[hostname];
    if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    const addresses = typeof answer === "function" ? answer() : answer;
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

describe("the SSRF guard", () => {
  let site: Site;
  let port: string;
  const hosts: (string | undefined)[] = [];
  const agents: Agent[] = [];
  const agent = (allow: string[], resolver?: Resolver): Agent => {
    const created = createGuardedAgent({ policy: new AddressPolicy(allow), connections: 4, connectTimeoutMs: 2_000, ...(resolver ? { resolver } : {}) });
    agents.push(created);
    return created;
  };
  const get = (url: string, dispatcher: Agent): Promise<FetchOutcome<string>> =>
    fetchPage(url, { dispatcher, userAgent: "trawl-test", timeoutMs: 5_000, maxBodyBytes: 10_000, signal: new AbortController().signal }, text());

  beforeAll(async () => {
    site = await startSite((req, res) => {
      hosts.push(req.headers.host);
      const html = { "content-type": "text/html" };
      if (req.url === "/to-metadata") return void res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
      if (req.url === "/to-private") return void res.writeHead(302, { location: "http://10.1.2.3/admin" }).end();
      if (req.url === "/to-v6-loopback") return void res.writeHead(301, { location: `http://[::1]:${port}/` }).end();
      if (req.url === "/to-decimal-loopback") return void res.writeHead(307, { location: `http://2130706433:${port}/` }).end();
      if (req.url === "/to-rebound") return void res.writeHead(302, { location: `http://rebound.test:${port}/` }).end();
      if (req.url === "/close") return void res.writeHead(200, { ...html, connection: "close" }).end("<p>closing</p>");
      res.writeHead(200, html).end("<p>inside</p>");
    });
    port = new URL(site.origin).port;
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await site.close();
  });

  it.each([
    ["loopback", "http://127.0.0.1:PORT/"],
    ["a decimal IPv4 host", "http://2130706433:PORT/"],
    ["a hex IPv4 host", "http://0x7f000001:PORT/"],
    ["an octal IPv4 host", "http://0177.0.0.1:PORT/"],
    ["a shortened IPv4 host", "http://127.1:PORT/"],
    ["an IPv4-mapped IPv6 host", "http://[::ffff:127.0.0.1]:PORT/"],
    ["IPv6 loopback", "http://[::1]:PORT/"],
    ["the unspecified address", "http://0.0.0.0:PORT/"],
    ["the cloud metadata address", "http://169.254.169.254/latest/meta-data/"],
    ["a private address", "http://192.168.1.1/"],
  ])("refuses %s without connecting", async (_name, template) => {
    site.requests.length = 0;
    const outcome = await get(template.replace("PORT", port), agent([]));
    expect(outcome).toMatchObject({ kind: "error", errorKind: PageErrorKind.BLOCKED_ADDRESS, message: expect.stringMatching(/CRAWL_ALLOW_ADDRESSES/) });
    expect(site.requests).toEqual([]);
  });

  it.each([
    ["http://2130706433:PORT/"],
    ["http://0x7f000001:PORT/"],
    ["http://0177.0.0.1:PORT/"],
    ["http://127.0.0.1:PORT/"],
  ])("lets %s through when the allow-list names 127.0.0.1", async (template) => {
    expect(await get(template.replace("PORT", port), agent(["127.0.0.1"]))).toMatchObject({ kind: "ok", result: "<p>inside</p>" });
  });

  it("refuses a host name that resolves to a refused address (localhost, from /etc/hosts)", async () => {
    site.requests.length = 0;
    const outcome = await get(`http://localhost:${port}/`, agent([]));
    expect(outcome).toMatchObject({ kind: "error", errorKind: PageErrorKind.BLOCKED_ADDRESS, message: expect.stringMatching(/^localhost resolves to/) });
    expect(site.requests).toEqual([]);
  });

  it("connects to exactly the address it checked, keeping the host name in the Host header", async () => {
    hosts.length = 0;
    const resolver = resolverOf({ "shop.test": ["10.9.9.9", "127.0.0.1"] });
    const outcome = await get(`http://shop.test:${port}/page`, agent(["127.0.0.1"], resolver));
    expect(outcome).toMatchObject({ kind: "ok", result: "<p>inside</p>" });
    expect(hosts).toEqual([`shop.test:${port}`]);
    expect(resolver.calls).toEqual(["shop.test"]);
  });

  it("checks every new connection again, so a name rebinding to a refused address is caught", async () => {
    let answers = 0;
    const resolver = resolverOf({ "rebind.test": () => (++answers === 1 ? ["127.0.0.1"] : ["169.254.169.254"]) });
    const dispatcher = agent(["127.0.0.1"], resolver);
    site.requests.length = 0;
    expect(await get(`http://rebind.test:${port}/close`, dispatcher)).toMatchObject({ kind: "ok" });
    expect(await get(`http://rebind.test:${port}/close`, dispatcher)).toMatchObject({ kind: "error", errorKind: PageErrorKind.BLOCKED_ADDRESS });
    expect(site.requests).toEqual(["/close"]);
  });

  it.each([
    ["the cloud metadata address", "/to-metadata", "http://169.254.169.254/latest/meta-data/"],
    ["a private address", "/to-private", "http://10.1.2.3/admin"],
    ["IPv6 loopback", "/to-v6-loopback", "http://[::1]:PORT/"],
    ["a name resolving to a private address", "/to-rebound", "http://rebound.test:PORT/"],
  ])("refuses a redirect hop to %s", async (_name, path, hop) => {
    const dispatcher = agent(["127.0.0.1"], resolverOf({ "rebound.test": ["192.168.0.10"] }));
    site.requests.length = 0;
    const outcome = await get(`${site.origin}${path}`, dispatcher);
    const target = hop.replace("PORT", port);
    expect(outcome).toMatchObject({ kind: "error", errorKind: PageErrorKind.BLOCKED_ADDRESS, finalUrl: target, redirects: [target] });
    expect(site.requests).toEqual([path]);
  });

  it("follows a redirect hop to an allowed address", async () => {
    expect(await get(`${site.origin}/to-decimal-loopback`, agent(["127.0.0.1"]))).toMatchObject({ kind: "ok", finalUrl: `${site.origin}/` });
  });

  it("classifies a name that does not resolve as DNS", async () => {
    const outcome = await get("http://nowhere.test/", agent([], resolverOf({})));
    expect(outcome).toMatchObject({ kind: "error", errorKind: PageErrorKind.DNS, message: expect.stringMatching(/ENOTFOUND/) });
  });

  it("classifies a name in the reserved .invalid domain as DNS with the system resolver", async () => {
    const outcome = await get("http://trawl-test-host.invalid/", agent([]));
    expect(outcome).toMatchObject({ kind: "error", errorKind: PageErrorKind.DNS });
  });
});

describe("pinAddress", () => {
  const policy = new AddressPolicy(["127.0.0.1"]);
  it("answers an allowed IP literal without resolving", async () => {
    const resolver = resolverOf({});
    expect(await pinAddress("127.0.0.1", policy, resolver)).toBe("127.0.0.1");
    expect(resolver.calls).toEqual([]);
  });

  it("picks the first allowed address in the resolver's order", async () => {
    expect(await pinAddress("x.test", policy, resolverOf({ "x.test": ["10.0.0.1", "127.0.0.1", "8.8.8.8"] }))).toBe("127.0.0.1");
    expect(await pinAddress("y.test", policy, resolverOf({ "y.test": ["8.8.8.8", "127.0.0.1"] }))).toBe("8.8.8.8");
  });

  it("refuses when no address is allowed, naming them", async () => {
    await expect(pinAddress("z.test", policy, resolverOf({ "z.test": ["10.0.0.1", "fe80::1"] }))).rejects.toThrow(BlockedAddressError);
    await expect(pinAddress("z.test", policy, resolverOf({ "z.test": ["10.0.0.1", "fe80::1"] }))).rejects.toThrow(/10\.0\.0\.1, fe80::1/);
    await expect(pinAddress("e.test", policy, resolverOf({ "e.test": [] }))).rejects.toThrow(/no address/);
  });
});
