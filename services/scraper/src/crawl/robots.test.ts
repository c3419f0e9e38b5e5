import { PageErrorKind } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import type { FetchOutcome } from "./fetch-page.js";
import { MAX_CRAWL_DELAY_MS, MAX_WILDCARD_CHARS, productToken, RobotsCache, robotsRules, wildcardChars, type RobotsRules } from "./robots.js";

const ROBOTS_URL = "http://e.com/robots.txt";
const measured = { finalUrl: ROBOTS_URL, redirects: [], bytes: 0, elapsedMs: 1 };
const ok = (text: string): FetchOutcome<string> => ({ kind: "ok", status: 200, result: text, ...measured });
const failed = (errorKind: PageErrorKind, status = 0, message = "failed"): FetchOutcome<string> => ({ kind: "error", errorKind, status, message, ...measured });
const rules = (outcome: FetchOutcome<string>, userAgent = "Trawl/0.1 (+https://github.com/trawl)") =>
  robotsRules(ROBOTS_URL, outcome as Exclude<FetchOutcome<string>, { kind: "aborted" }>, userAgent);

describe("productToken", () => {
  it.each([
    ["Trawl/0.1 (+https://github.com/trawl)", "Trawl"],
    ["trawl-test", "trawl-test"],
    ["Mozilla/5.0 (compatible; Trawl)", "Mozilla"],
    ["  spaced agent ", "spaced"],
  ])("%j → %j", (userAgent, expected) => {
    expect(productToken(userAgent)).toBe(expected);
  });
});

describe("robotsRules", () => {
  const file = [
    "User-agent: *",
    "Disallow: /private",
    "Crawl-delay: 2",
    "",
    "User-agent: trawl",
    "Disallow: /no-trawl",
    "Allow: /no-trawl/but-this",
    "Crawl-delay: 0.5",
  ].join("\n");

  it("applies the group of the job's product token, not the * group", () => {
    const r = rules(ok(file));
    expect(r.allows("http://e.com/private")).toBe(true);
    expect(r.allows("http://e.com/no-trawl/page")).toBe(false);
    expect(r.allows("http://e.com/no-trawl/but-this")).toBe(true);
    expect(r.allows("http://e.com/")).toBe(true);
    expect(r.crawlDelayMs).toBe(500);
    expect(r.refusal).toBe("disallowed by robots.txt");
  });

  it("falls back to the * group for another agent", () => {
    const r = rules(ok(file), "OtherBot/2");
    expect(r.allows("http://e.com/private/x")).toBe(false);
    expect(r.allows("http://e.com/no-trawl")).toBe(true);
    expect(r.crawlDelayMs).toBe(2000);
  });

  it("caps a huge Crawl-delay and ignores a nonsense one", () => {
    expect(rules(ok("User-agent: *\nCrawl-delay: 86400\n")).crawlDelayMs).toBe(MAX_CRAWL_DELAY_MS);
    expect(rules(ok("User-agent: *\nCrawl-delay: soon\n")).crawlDelayMs).toBeUndefined();
    expect(rules(ok("User-agent: *\nDisallow:\n")).crawlDelayMs).toBeUndefined();
  });

  it("allows everything for an empty file", () => {
    expect(rules(ok("")).allows("http://e.com/anything")).toBe(true);
  });

  it.each<[string, FetchOutcome<string>, boolean]>([
    ["404 (unavailable: allow all)", failed(PageErrorKind.HTTP, 404), true],
    ["403 (unavailable: allow all)", failed(PageErrorKind.HTTP, 403), true],
    ["410 (unavailable: allow all)", failed(PageErrorKind.HTTP, 410), true],
    ["429 (unreachable: disallow all)", failed(PageErrorKind.HTTP, 429), false],
    ["500 (unreachable: disallow all)", failed(PageErrorKind.HTTP, 500), false],
    ["503 (unreachable: disallow all)", failed(PageErrorKind.HTTP, 503), false],
    ["a timeout (unreachable: disallow all)", failed(PageErrorKind.TIMEOUT), false],
    ["a network error (unreachable: disallow all)", failed(PageErrorKind.NETWORK, 0, "ECONNRESET"), false],
    ["too many redirects (unavailable: allow all)", failed(PageErrorKind.TOO_MANY_REDIRECTS, 302), true],
    ["a DNS failure (the page fails DNS itself)", failed(PageErrorKind.DNS), true],
    ["a blocked address (the page is refused itself)", failed(PageErrorKind.BLOCKED_ADDRESS), true],
    ["an invalid URL", failed(PageErrorKind.INVALID_URL), true],
  ])("reads %s as RFC 9309 says", (_name, outcome, allowed) => {
    const r = rules(outcome);
    expect(r.allows("http://e.com/page")).toBe(allowed);
    if (!allowed) expect(r.refusal).toMatch(/unreachable.*RFC 9309/);
  });
});

describe("RobotsCache", () => {
  it("loads each origin once, however many pages ask at the same time", async () => {
    const loads: string[] = [];
    const allowAll: RobotsRules = { allows: () => true, crawlDelayMs: undefined, refusal: "" };
    const cache = new RobotsCache(async (origin) => {
      loads.push(origin);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return allowAll;
    });
    expect(cache.peek("http://a")).toBeUndefined();
    const answers = await Promise.all([cache.get("http://a"), cache.get("http://a"), cache.get("http://b"), cache.get("http://a")]);
    expect(answers.every((a) => a === allowAll)).toBe(true);
    expect(await cache.get("http://a")).toBe(allowAll);
    expect(cache.peek("http://a")).toBe(allowAll);
    expect(loads).toEqual(["http://a", "http://b"]);
  });

  it("remembers nothing for an origin whose load was aborted", async () => {
    let calls = 0;
    const cache = new RobotsCache(async () => (++calls === 1 ? undefined : { allows: () => false, crawlDelayMs: undefined, refusal: "x" }));
    expect(await cache.get("http://a")).toBeUndefined();
    expect(cache.peek("http://a")).toBeUndefined();
    expect((await cache.get("http://a"))?.allows("http://a/")).toBe(false);
  });
});

describe("hostile robots.txt", () => {
  const hostile = "User-agent: *\n" + "Disallow: /*a*a*a*a*a*a*a*a*a*a*b\n".repeat(15_000);

  it("weighs only what follows each rule's first `*`, comments excluded", () => {
    expect(wildcardChars("Disallow: /*?sort= # a comment *\nAllow: /plain\nallow:/a*b*\n")).toBe(7 + 3);
  });

  it("disallows everything when matching its wildcards would cost too much, saying why", () => {
    const verdict = rules(ok(hostile));
    expect(verdict.allows("http://e.com/")).toBe(false);
    expect(verdict.allows(`http://e.com/${"a".repeat(8_000)}`)).toBe(false);
    expect(verdict.refusal).toMatch(new RegExp(`too costly to match \\(\\d+ characters of wildcard patterns, more than ${MAX_WILDCARD_CHARS}\\)`));
  });

  it("keeps a large but ordinary file of wildcard rules", () => {
    const ordinary = "User-agent: *\n" + Array.from({ length: 400 }, (_, i) => `Disallow: /*?p${i}=`).join("\n");
    const verdict = rules(ok(ordinary));
    expect(verdict.allows("http://e.com/page")).toBe(true);
    expect(verdict.allows("http://e.com/page?p7=1")).toBe(false);
  });
});
