/**
 * Hostile URLs, through the crawler's real fetch path: fetchPage over the
 * SSRF-guarded undici agent, against a real HTTP site on 127.0.0.1 and a
 * real DNS server on 127.0.0.1 (a few lines of UDP answering A queries for
 * made-up names, so "a name that resolves to loopback" goes through an
 * actual DNS exchange). Each URL is given to fetchPage directly (as a start
 * URL or a stored frontier entry would be), or as the Location of a
 * redirect from the site (every hop must be checked again).
 *
 * URL_CORPUS is the data table; its size is in the suite's name (for
 * RELIABILITY.md's "hostile inputs tried").
 */
import { createSocket, type Socket } from "node:dgram";
import { Resolver as DnsResolver } from "node:dns/promises";
import type { AddressInfo } from "node:net";
import { PageErrorKind } from "@trawl/proto";
import type { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddressPolicy } from "../crawl/address-policy.js";
import { fetchPage, type BodySink } from "../crawl/fetch-page.js";
import { createGuardedAgent, systemResolver, type Resolver } from "../crawl/guarded-agent.js";
import { startSite, type Site } from "../test-support/http-site.js";

/** The A records the test DNS server answers; any other name is NXDOMAIN. */
const ZONE: Record<string, string[]> = {
  "loopback.test": ["127.0.0.1"],
  "metadata.test": ["169.254.169.254"],
  "private.test": ["10.0.0.5"],
  "mixed.test": ["10.0.0.5", "192.168.0.1", "172.16.0.9"],
  "zero.test": ["0.0.0.0"],
};

/** A DNS server on 127.0.0.1 answering A queries from ZONE (RFC 1035 wire format, one question). */
async function startDns(): Promise<{ port: number; queries: string[]; close(): Promise<void> }> {
  const socket: Socket = createSocket("udp4");
  const queries: string[] = [];
  socket.on("message", (query, peer) => {
    const labels: string[] = [];
    let at = 12;
    for (let length = query[at] ?? 0; length > 0; length = query[at] ?? 0) {
      labels.push(query.subarray(at + 1, at + 1 + length).toString("latin1"));
      at += 1 + length;
    }
    const questionEnd = at + 5; // the root label, QTYPE, QCLASS
    const name = labels.join(".").toLowerCase();
    const type = query.readUInt16BE(at + 1);
    queries.push(name);
    const addresses = type === 1 ? (ZONE[name] ?? []) : [];
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the id
    header.writeUInt16BE(ZONE[name] === undefined ? 0x8183 : 0x8180, 2); // a response, recursion available; NXDOMAIN or not
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses.length, 6);
    const answers = addresses.map((address) => {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      record.writeUInt16BE(1, 2); // A
      record.writeUInt16BE(1, 4); // IN
      record.writeUInt32BE(0, 6); // TTL
      record.writeUInt16BE(4, 10);
      address.split(".").forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
      return record;
    });
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { port: (socket.address() as AddressInfo).port, queries, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

type Agents = "closed" | "loopback";
/** An error of `errorKind` (of one of them, where the platform's resolver decides), with `message`. */
type Expected = { kind: "ok" } | { kind: "error"; errorKind: PageErrorKind | readonly PageErrorKind[]; message: RegExp };

interface HostileUrl {
  name: string;
  /** The URL; PORT is the test site's port. */
  url: string;
  /** Given to fetchPage directly, or served as the Location of a redirect from the test site. */
  via: "direct" | "redirect";
  /** closed: no allow-list (production default); loopback: CRAWL_ALLOW_ADDRESSES=127.0.0.1, as tests and `npm start` run. */
  agent: Agents;
  expected: Expected;
}

const ok: Expected = { kind: "ok" };
const invalid = (message: RegExp): Expected => ({ kind: "error", errorKind: PageErrorKind.INVALID_URL, message });
const blocked = (message = /CRAWL_ALLOW_ADDRESSES/): Expected => ({ kind: "error", errorKind: PageErrorKind.BLOCKED_ADDRESS, message });
const notFetched = invalid(/URLs are not fetched/);
const credentials = invalid(/URLs with credentials are refused/);
const notHttpHop = invalid(/redirect to a URL that is not http\(s\)/);
const direct = (name: string, url: string, expected: Expected, agent: Agents = "closed"): HostileUrl => ({ name, url, via: "direct", agent, expected });
const redirect = (name: string, url: string, expected: Expected): HostileUrl => ({ name, url, via: "redirect", agent: "loopback", expected });
const longPath = `/${"a".repeat(10_240)}`;

export const URL_CORPUS: readonly HostileUrl[] = [
  // Schemes other than http(s).
  direct("file:", "file:///etc/passwd", notFetched),
  direct("file: with a host", "file://127.0.0.1/etc/passwd", notFetched),
  direct("javascript:", "javascript:alert(document.cookie)", notFetched),
  direct("data:", "data:text/html;base64,PHA+aGk8L3A+", notFetched),
  direct("gopher: (the classic SSRF smuggler)", "gopher://127.0.0.1:PORT/_GET%20/%20HTTP/1.0", notFetched),
  direct("dict:", "dict://127.0.0.1:11211/stat", notFetched),
  direct("ftp:", "ftp://127.0.0.1/", notFetched),
  direct("ws:", "ws://127.0.0.1:PORT/", notFetched),
  direct("ldap:", "ldap://127.0.0.1/", notFetched),
  direct("mailto:", "mailto:root@127.0.0.1", notFetched),
  direct("blob:", "blob:http://127.0.0.1/0f4b", notFetched),
  direct("about:", "about:blank", notFetched),
  direct("view-source:", "view-source:http://127.0.0.1/", notFetched),
  // Unparseable.
  direct("an empty string", "", invalid(/not a valid URL/)),
  direct("a scheme and nothing", "http://", invalid(/not a valid URL/)),
  direct("an unclosed IPv6 literal", "http://[::1/", invalid(/not a valid URL/)),
  direct("an IPv6 zone", "http://[fe80::1%25eth0]/", invalid(/not a valid URL/)),
  direct("an out-of-range IPv4 octet", "http://999.0.0.1/", invalid(/not a valid URL/)),
  direct("an IPv4 number past 2^32", "http://0x100000000/", invalid(/not a valid URL/)),
  direct("a space in the host", "http://a b/", invalid(/not a valid URL/)),
  // Credentials.
  direct("user and password", "http://user:pass@127.0.0.1:PORT/", credentials, "loopback"),
  direct("a user only", "http://user@127.0.0.1:PORT/", credentials, "loopback"),
  direct("a password only", "http://:pass@127.0.0.1:PORT/", credentials, "loopback"),
  direct("an encoded NUL as the user", "http://%00@127.0.0.1:PORT/", credentials, "loopback"),
  direct("credentials for the metadata address", "http://a:b@169.254.169.254/", credentials),
  // Length.
  direct("a 10 KB path", `http://127.0.0.1:PORT${longPath}`, invalid(/URL of 1\d{4} characters is longer than 8192/), "loopback"),
  direct("a 100 KB query", `http://127.0.0.1:PORT/?q=${"q".repeat(100_000)}`, invalid(/longer than 8192/), "loopback"),
  direct("a 10 KB host name", `http://${"a".repeat(10_000)}.test/`, invalid(/longer than 8192|not a valid URL/)),
  // Loopback in every spelling the URL parser accepts: refused without an allow-list.
  ...[
    ["dotted", "127.0.0.1:PORT"],
    ["decimal", "2130706433:PORT"],
    ["hex", "0x7f000001:PORT"],
    ["octal", "0177.0.0.1:PORT"],
    ["mixed hex octets", "0x7f.0x0.0x0.0x1:PORT"],
    ["two parts", "127.1:PORT"],
    ["three parts", "127.0.1:PORT"],
    ["zero-padded", "127.000.000.001:PORT"],
    ["one octal number", "017700000001:PORT"],
    ["another loopback", "127.255.255.254:PORT"],
    ["circled digits (IDNA maps them)", "\u2460\u2461\u2466.\u24ea.\u24ea.\u2460:PORT"],
    ["ideographic full stops", "127\u30020\u30020\u30021:PORT"],
    ["full-width hex", "\uff10\uff58\uff17\uff46\uff10\uff10\uff10\uff10\uff10\uff11:PORT"],
    ["IPv6 loopback", "[::1]:PORT"],
    ["IPv6 loopback, long form", "[0:0:0:0:0:0:0:1]:PORT"],
    ["IPv4-mapped", "[::ffff:127.0.0.1]:PORT"],
    ["IPv4-mapped, hex", "[::ffff:7f00:1]:PORT"],
    ["IPv4-mapped, long form", "[0:0:0:0:0:ffff:7f00:1]:PORT"],
    ["IPv4-compatible", "[::127.0.0.1]:PORT"],
    ["NAT64", "[64:ff9b::7f00:1]:PORT"],
    ["unspecified 0", "0:PORT"],
    ["unspecified 0.0.0.0", "0.0.0.0:PORT"],
    ["IPv6 unspecified", "[::]:PORT"],
    ["localhost", "localhost:PORT"],
    ["LOCALHOST", "LOCALHOST:PORT"],
  ].map(([name, host]) => direct(`loopback as ${name as string}`, `http://${host as string}/`, blocked())),
  // glibc does not resolve "localhost." from /etc/hosts, systemd-resolved does: refused either way.
  direct("loopback as localhost with a trailing dot", "http://localhost.:PORT/", {
    kind: "error",
    errorKind: [PageErrorKind.BLOCKED_ADDRESS, PageErrorKind.DNS],
    message: /CRAWL_ALLOW_ADDRESSES|ENOTFOUND|EAI_AGAIN/,
  }),
  // Private, link-local, metadata and reserved addresses.
  ...[
    ["the metadata address", "169.254.169.254"],
    ["the metadata address in decimal", "2852039166"],
    ["the metadata address in hex", "0xa9fea9fe"],
    ["the metadata address IPv4-mapped", "[::ffff:169.254.169.254]"],
    ["the metadata address via NAT64", "[64:ff9b::a9fe:a9fe]"],
    ["the AWS IPv6 metadata address", "[fd00:ec2::254]"],
    ["10/8", "10.0.0.1"],
    ["172.16/12", "172.16.0.1"],
    ["192.168/16", "192.168.0.1"],
    ["carrier-grade NAT", "100.64.0.1"],
    ["benchmarking", "198.18.0.1"],
    ["multicast", "224.0.0.1"],
    ["broadcast", "255.255.255.255"],
    ["reserved", "240.0.0.1"],
    ["IPv6 unique local", "[fc00::1]"],
    ["IPv6 link-local", "[fe80::1]"],
    ["IPv6 site-local", "[fec0::1]"],
    ["IPv6 multicast", "[ff02::1]"],
  ].map(([name, host]) => direct(name as string, `http://${host as string}/latest/meta-data/`, blocked())),
  // Names whose DNS answer is special.
  direct("a name resolving to loopback", "http://loopback.test:PORT/", blocked(/^loopback\.test resolves to 127\.0\.0\.1/)),
  direct("a name resolving to the metadata address", "http://metadata.test/", blocked(/resolves to 169\.254\.169\.254/), "loopback"),
  direct("a name resolving to a private address", "http://private.test/", blocked(/resolves to 10\.0\.0\.5/)),
  direct("a name resolving to three private addresses", "http://mixed.test/", blocked(/10\.0\.0\.5, 192\.168\.0\.1, 172\.16\.0\.9/)),
  direct("a name resolving to 0.0.0.0", "http://zero.test:PORT/", blocked(/resolves to 0\.0\.0\.0/), "loopback"),
  direct("a name that does not resolve", "http://nxdomain.test/", { kind: "error", errorKind: PageErrorKind.DNS, message: /ENOTFOUND/ }),
  // With 127.0.0.1 allowed: its spellings reach the site, nothing else special does.
  direct("allowed loopback, dotted", "http://127.0.0.1:PORT/", ok, "loopback"),
  direct("allowed loopback, decimal", "http://2130706433:PORT/", ok, "loopback"),
  direct("allowed loopback, circled digits", "http://\u2460\u2461\u2466.\u24ea.\u24ea.\u2460:PORT/", ok, "loopback"),
  direct("allowed loopback, by DNS", "http://loopback.test:PORT/", ok, "loopback"),
  direct("allowed loopback, CR LF in the path", "http://127.0.0.1:PORT/%0d%0aX-Injected:%201", ok, "loopback"),
  direct("allowed loopback, tab and newline in the URL", "http://127.0.0.1:PORT/a\n\tb", ok, "loopback"),
  direct("another loopback address than the allowed one", "http://127.0.0.2:PORT/", blocked(), "loopback"),
  direct("IPv6 loopback when only 127.0.0.1 is allowed", "http://[::1]:PORT/", blocked(), "loopback"),
  // Redirects: every hop is checked again.
  redirect("a redirect to file:", "file:///etc/passwd", notHttpHop),
  redirect("a redirect to javascript:", "javascript:alert(1)", notHttpHop),
  redirect("a redirect to data:", "data:text/html,<script>alert(1)</script>", notHttpHop),
  redirect("a redirect to gopher:", "gopher://127.0.0.1:PORT/_", notHttpHop),
  redirect("a redirect adding credentials", "http://admin:admin@127.0.0.1:PORT/", credentials),
  redirect("a redirect to a 10 KB URL", `http://127.0.0.1:PORT${longPath}`, invalid(/redirect to a URL longer than 8192 characters/)),
  redirect("a redirect to the metadata address", "http://169.254.169.254/latest/meta-data/iam/", blocked()),
  redirect("a redirect to the metadata address in hex", "http://0xa9fea9fe/", blocked()),
  redirect("a redirect to the metadata address IPv4-mapped", "http://[::ffff:a9fe:a9fe]/", blocked()),
  redirect("a protocol-relative redirect to the metadata address", "//169.254.169.254/", blocked()),
  redirect("a backslashed redirect to the metadata address", "\\\\169.254.169.254\\latest", blocked()),
  redirect("a redirect to a name resolving to the metadata address", "http://metadata.test/", blocked(/resolves to 169\.254\.169\.254/)),
  redirect("a redirect to a private address", "http://10.0.0.1:8080/admin", blocked()),
  redirect("a redirect to 192.168.0.1", "http://192.168.0.1/", blocked()),
  redirect("a redirect to 0.0.0.0 (which reaches this host)", "http://0.0.0.0:PORT/", blocked()),
  redirect("a redirect to IPv6 loopback", "http://[::1]:PORT/", blocked()),
  redirect("three allowed hops, then the metadata address", "/hop/3", blocked()),
  redirect("a redirect to the same site", "/landing", ok),
];

const text = (): BodySink<string> => {
  let body = "";
  return { start: () => void (body = ""), write: (chunk) => void (body += chunk), end: () => body };
};

describe(`hostile URLs (${URL_CORPUS.length} inputs)`, () => {
  let site: Site;
  let dns: Awaited<ReturnType<typeof startDns>>;
  let port: string;
  const agents: Partial<Record<Agents, Agent>> = {};
  const withPort = (url: string): string => url.replaceAll("PORT", port);

  beforeAll(async () => {
    site = await startSite((req, res) => {
      const path = req.url ?? "/";
      const redirectTo = /^\/r\/(\d+)$/.exec(path);
      if (redirectTo !== null) return void res.writeHead(302, { location: withPort((URL_CORPUS[Number(redirectTo[1])] as HostileUrl).url) }).end();
      const hop = /^\/hop\/(\d+)$/.exec(path);
      if (hop !== null) return void res.writeHead(302, { location: Number(hop[1]) > 1 ? `/hop/${Number(hop[1]) - 1}` : "http://169.254.169.254/" }).end();
      res.writeHead(200, { "content-type": "text/html" }).end("<p>reached</p>");
    });
    port = new URL(site.origin).port;
    dns = await startDns();
    const resolver = new DnsResolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dns.port}`]);
    // The made-up .test names go to the test DNS server; anything else (localhost) to the system resolver, as in production.
    const resolve: Resolver = async (hostname) =>
      hostname.endsWith(".test") ? (await resolver.resolve4(hostname)).map((address) => ({ address, family: 4 })) : systemResolver(hostname);
    const guarded = (allow: string[]): Agent => createGuardedAgent({ policy: new AddressPolicy(allow), connections: 4, connectTimeoutMs: 2_000, resolver: resolve });
    agents.closed = guarded([]);
    agents.loopback = guarded(["127.0.0.1"]);
  });
  afterAll(async () => {
    await Promise.all(Object.values(agents).map((agent) => agent.close()));
    await dns.close();
    await site.close();
  });

  it.each(URL_CORPUS.map((entry, index) => ({ ...entry, index })))("$via: $name", async ({ index, url, via, agent, expected }) => {
    const target = via === "direct" ? withPort(url) : `${site.origin}/r/${index}`;
    const before = site.requests.length;
    const outcome = await fetchPage(
      target,
      { dispatcher: agents[agent] as Agent, userAgent: "trawl-hostile", timeoutMs: 5_000, maxBodyBytes: 100_000, signal: new AbortController().signal },
      text(),
    );
    if (expected.kind === "ok") {
      expect(outcome, outcome.kind === "error" ? outcome.message : "").toMatchObject({ kind: "ok", result: "<p>reached</p>" });
      return;
    }
    const kinds = typeof expected.errorKind === "number" ? [expected.errorKind] : expected.errorKind;
    expect(outcome).toMatchObject({ kind: "error", errorKind: expect.toBeOneOf(kinds), message: expect.stringMatching(expected.message) });
    // A refused URL is never requested: only the redirecting hops reached the site.
    const hops = via === "direct" ? 0 : url === "/hop/3" ? 4 : 1;
    expect(site.requests.slice(before)).toHaveLength(hops);
  });

  it("asked the DNS server for the made-up names", () => {
    expect(dns.queries).toEqual(expect.arrayContaining(["loopback.test", "metadata.test", "private.test", "mixed.test", "nxdomain.test"]));
  });
});
