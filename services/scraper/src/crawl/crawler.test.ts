import { PageErrorKind } from "@trawl/proto";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IncomingMessage, ServerResponse } from "node:http";
import { htmlPages, linkPage, startSite, type Route, type Site } from "../test-support/http-site.js";
import { AddressPolicy } from "./address-policy.js";
import { crawl, type CrawlOptions, type PageResult, type PageSkip } from "./crawler.js";
import { MAX_RESENDS } from "./fetch-page.js";
import { createGuardedAgent } from "./guarded-agent.js";

/** Crawl options without any politeness: no robots.txt, no per-host limits, no retries. */
function unpoliteOptions(dispatcher: Agent): CrawlOptions {
  return {
    startUrls: [],
    depth: 10,
    maxPages: 1000,
    concurrency: 4,
    requestTimeoutMs: 5_000,
    maxBodyBytes: 100_000,
    userAgent: "trawl-test",
    dispatcher,
    signal: new AbortController().signal,
    respectRobots: false,
    perHostConcurrency: 64,
    perHostDelayMs: 0,
    retry: { maxRetries: 0, baseMs: 0, maxMs: 0 },
  };
}

/** Net skip counts by reason (+1 counts, -1 corrections). */
function skipCounts(skips: PageSkip[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const skip of skips) counts[skip.reason] = (counts[skip.reason] ?? 0) + skip.count;
  for (const [reason, count] of Object.entries(counts)) if (count === 0) delete counts[reason];
  return counts;
}

/** A site that also records when each request arrived and how many were in flight at most. */
async function startTimedSite(route: Route, holdMs = 0) {
  const arrivals: { path: string; at: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const site = await startSite((req: IncomingMessage, res: ServerResponse) => {
    arrivals.push({ path: req.url ?? "", at: performance.now() });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    if (holdMs > 0) setTimeout(() => route(req, res), holdMs);
    else route(req, res);
  });
  return { site, arrivals, maxInFlight: () => maxInFlight, times: (path: RegExp) => arrivals.filter((a) => path.test(a.path)).map((a) => a.at) };
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] as number));

/**
 * The generated site (origin A), by depth from "/":
 *   0  /                → /a /b /c /missing  (+ B/x off-origin, a mailto, /a#frag)
 *   1  /a → /a1 /a2 /b /   /b → /b1 /redirect   /c is JSON   /missing is a 404
 *   2  /a1 → /deep   /a2   /b1   /redirect ⇒ 302 /r-final → /r-child
 *   3  /deep → /deeper   /r-child
 *   4  /deeper
 */
describe("crawl", () => {
  let a: Site;
  let b: Site;
  let inFlight = 0;
  let maxInFlight = 0;
  const dispatcher = new Agent({ connections: 16 });

  beforeAll(async () => {
    b = await startSite(htmlPages({ "/": linkPage("B home", ["/x"]), "/x": linkPage("B x", []) }));
    const pages = htmlPages({
      "/": linkPage("home", ["/a", "/b", "/c", "/missing", `${b.origin}/x`, "mailto:x@example.com", "/a#frag"]),
      "/a": linkPage("a", ["/a1", "/a2", "/b", "/"]),
      "/b": linkPage("b", ["/b1", "/redirect"]),
      "/a1": linkPage("a1", ["/deep"]),
      "/a2": linkPage("a2", []),
      "/b1": linkPage("b1", ["/b1"]),
      "/r-final": linkPage("r-final", ["/r-child"]),
      "/deep": linkPage("deep", ["/deeper"]),
      "/r-child": linkPage("r-child", []),
      "/deeper": linkPage("deeper", []),
    });
    a = await startSite((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on("finish", () => inFlight--);
      // A short pause keeps several requests in flight at once, so the concurrency bound is exercised.
      setTimeout(() => {
        if (req.url === "/c") return void res.writeHead(200, { "content-type": "application/json" }).end("[]");
        if (req.url === "/redirect") return void res.writeHead(302, { location: "/r-final" }).end();
        pages(req, res);
      }, 5);
    });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await dispatcher.close();
  });

  async function run(extra: Partial<CrawlOptions>, skips: PageSkip[] = []): Promise<PageResult[]> {
    const pages: PageResult[] = [];
    a.requests.length = 0;
    b.requests.length = 0;
    await crawl({ ...unpoliteOptions(dispatcher), startUrls: [`${a.origin}/`], ...extra }, { page: (page) => pages.push(page), skip: (skip) => skips.push(skip) });
    return pages;
  }

  const paths = (pages: PageResult[]) => pages.map((p) => new URL(p.url).pathname).sort();

  it.each([
    [0, ["/"], 1, 0],
    [1, ["/", "/a", "/b", "/c", "/missing"], 3, 2],
    [2, ["/", "/a", "/a1", "/a2", "/b", "/b1", "/c", "/missing", "/redirect"], 7, 2],
    [3, ["/", "/a", "/a1", "/a2", "/b", "/b1", "/c", "/deep", "/missing", "/r-child", "/redirect"], 9, 2],
    [4, ["/", "/a", "/a1", "/a2", "/b", "/b1", "/c", "/deep", "/deeper", "/missing", "/r-child", "/redirect"], 10, 2],
    [10, ["/", "/a", "/a1", "/a2", "/b", "/b1", "/c", "/deep", "/deeper", "/missing", "/r-child", "/redirect"], 10, 2],
  ])("depth %i fetches exactly the pages within reach, each once", async (depth, expected, successes, errors) => {
    const pages = await run({ depth });
    expect(paths(pages)).toEqual(expected);
    expect(pages.filter((p) => p.ok)).toHaveLength(successes);
    expect(pages.filter((p) => !p.ok)).toHaveLength(errors);
    const hops = expected.includes("/redirect") ? ["/r-final"] : [];
    expect([...a.requests].sort()).toEqual([...expected, ...hops].sort());
    expect(b.requests).toEqual([]);
    expect(pages.at(-1)?.accepted).toBe(expected.length);
  });

  it("records each page's depth as its BFS distance from the start URL", async () => {
    const pages = await run({ depth: 3 });
    const depthOf = Object.fromEntries(pages.map((p) => [new URL(p.url).pathname, p.depth]));
    expect(depthOf).toEqual({ "/": 0, "/a": 1, "/b": 1, "/c": 1, "/missing": 1, "/a1": 2, "/a2": 2, "/b1": 2, "/redirect": 2, "/deep": 3, "/r-child": 3 });
  });

  it("classifies failed pages and does not follow their links", async () => {
    const pages = await run({ depth: 1 });
    const failed = pages.filter((p): p is Extract<PageResult, { ok: false }> => !p.ok).map((p) => [new URL(p.url).pathname, p.errorKind, p.status]);
    expect(failed.sort()).toEqual([
      ["/c", PageErrorKind.NOT_HTML, 200],
      ["/missing", PageErrorKind.HTTP, 404],
    ]);
  });

  it("follows redirects, extracting from the final URL", async () => {
    const pages = await run({ depth: 2 });
    const redirected = pages.find((p) => p.url.endsWith("/redirect"));
    expect(redirected).toMatchObject({ ok: true, finalUrl: `${a.origin}/r-final`, depth: 2 });
    expect(redirected?.ok && redirected.extract.title).toBe("r-final");
  });

  it("counts distinct links of any origin on a page", async () => {
    const pages = await run({ depth: 0 });
    expect(pages[0]?.ok && pages[0].extract.links.size).toBe(5);
  });

  it.each([
    [1, ["/"]],
    [3, ["/", "/a", "/b"]],
    [6, ["/", "/a", "/a1", "/b", "/c", "/missing"]],
  ])("stops accepting URLs at max_pages %i", async (maxPages, expected) => {
    const pages = await run({ depth: 5, maxPages, concurrency: 1 });
    expect(paths(pages)).toEqual(expected);
    expect(pages.every((p) => p.accepted <= maxPages)).toBe(true);
  });

  it("never has more fetches in flight than its concurrency", async () => {
    for (const concurrency of [1, 2, 3]) {
      maxInFlight = 0;
      const pages = await run({ depth: 10, concurrency });
      expect(pages).toHaveLength(12);
      expect(maxInFlight).toBeLessThanOrEqual(concurrency);
    }
  });

  it("keeps each task within the origin of its own start URL", async () => {
    const pages = await run({ startUrls: [`${b.origin}/`, `${a.origin}/`], depth: 1 });
    const byTask = (task: number) => pages.filter((p) => p.task === task).map((p) => p.url).sort();
    expect(byTask(0)).toEqual([`${b.origin}/`, `${b.origin}/x`]);
    expect(byTask(1)).toEqual(["/", "/a", "/b", "/c", "/missing"].map((p) => `${a.origin}${p}`));
  });

  it("fetches a URL once even when two start URLs name it", async () => {
    const pages = await run({ startUrls: [`${a.origin}/a2`, `${a.origin}/a2`], depth: 0 });
    expect(pages.map((p) => p.task)).toEqual([0]);
  });

  it("counts off-origin links as scope skips and links past the depth as depth skips, each URL once", async () => {
    const skips: PageSkip[] = [];
    await run({ depth: 1 }, skips);
    expect(skipCounts(skips)).toEqual({ scope: 1, depth: 4 });
    expect(skips.filter((s) => s.reason === "depth").map((s) => new URL(s.url).pathname).sort()).toEqual(["/a1", "/a2", "/b1", "/redirect"]);
    expect(skips.find((s) => s.reason === "scope")?.url).toBe(`${b.origin}/x`);
  });

  it("counts links refused by the page limit as page_limit skips", async () => {
    const skips: PageSkip[] = [];
    await run({ depth: 5, maxPages: 3, concurrency: 1 }, skips);
    expect(skipCounts(skips)).toEqual({ scope: 1, page_limit: 6 });
  });

  it("counts nothing skipped when every link is fetched", async () => {
    const skips: PageSkip[] = [];
    await run({ depth: 10, startUrls: [`${a.origin}/a1`] }, skips);
    expect(skips).toEqual([]);
  });

  it("on abort, reports nothing in flight and resolves once fetches settle", async () => {
    const hang = await startSite((req, res) => {
      if (req.url === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(linkPage("root", ["/h1", "/h2", "/h3"]));
      // Every other page hangs until the crawl is aborted.
    });
    const controller = new AbortController();
    const pages: PageResult[] = [];
    const done = crawl(
      { ...unpoliteOptions(dispatcher), startUrls: [`${hang.origin}/`], depth: 1, concurrency: 8, requestTimeoutMs: 60_000, signal: controller.signal },
      {
        page: (page) => {
          pages.push(page);
          if (page.depth === 0) setTimeout(() => controller.abort(), 20);
        },
        skip: () => undefined,
      },
    );
    await done;
    expect(pages.map((p) => p.url)).toEqual([`${hang.origin}/`]);
    await hang.close();
  });
});

describe("crawl with politeness", () => {
  const dispatcher = new Agent({ connections: 16 });
  const sites: Site[] = [];
  afterAll(async () => {
    await Promise.all(sites.map((site) => site.close()));
    await dispatcher.close();
  });

  async function crawlAll(extra: Partial<CrawlOptions>, agent: Agent = dispatcher): Promise<{ pages: PageResult[]; skips: PageSkip[] }> {
    const pages: PageResult[] = [];
    const skips: PageSkip[] = [];
    await crawl({ ...unpoliteOptions(agent), ...extra }, { page: (page) => pages.push(page), skip: (skip) => skips.push(skip) });
    return { pages, skips };
  }
  const pathsOf = (pages: PageResult[]) => pages.map((p) => new URL(p.url).pathname).sort();
  async function site(route: Route, holdMs = 0) {
    const timed = await startTimedSite(route, holdMs);
    sites.push(timed.site);
    return timed;
  }
  const robotsAnd = (robots: string, pages: Record<string, string>): Route => {
    const html = htmlPages(pages);
    return (req, res) => (req.url === "/robots.txt" ? void res.writeHead(200, { "content-type": "text/plain" }).end(robots) : html(req, res));
  };

  describe("robots.txt", () => {
    const robots = ["User-agent: *", "Disallow: /", "", "User-agent: trawl-test", "Disallow: /secret", "Allow: /secret/open"].join("\n");
    const pages = {
      "/": linkPage("home", ["/a", "/secret", "/secret/open", "/secret/x"]),
      "/a": linkPage("a", ["/secret", "/b"]),
      "/b": linkPage("b", []),
      "/secret": linkPage("secret", []),
      "/secret/open": linkPage("open", []),
      "/secret/x": linkPage("x", []),
    };

    it("is fetched once per origin, and what it disallows for the job's agent is skipped, never requested", async () => {
      const { site: s } = await site(robotsAnd(robots, pages));
      const { pages: fetched, skips } = await crawlAll({ startUrls: [`${s.origin}/`], respectRobots: true, concurrency: 4 });
      expect(pathsOf(fetched)).toEqual(["/", "/a", "/b", "/secret/open"]);
      expect(s.requests.filter((p) => p === "/robots.txt")).toHaveLength(1);
      expect(s.requests[0]).toBe("/robots.txt");
      expect(s.requests.filter((p) => p.startsWith("/secret"))).toEqual(["/secret/open"]);
      expect(skips.map((k) => [k.reason, new URL(k.url).pathname, k.count, k.detail]).sort()).toEqual([
        ["robots", "/secret", 1, "disallowed by robots.txt"],
        ["robots", "/secret/x", 1, "disallowed by robots.txt"],
      ]);
      expect(Math.max(...fetched.map((p) => p.accepted))).toBe(4);
    });

    it("keeps a disallowed URL out of the page budget", async () => {
      const { site: s } = await site(robotsAnd(robots, pages));
      const { pages: fetched } = await crawlAll({ startUrls: [`${s.origin}/`], respectRobots: true, concurrency: 1, maxPages: 3 });
      expect(pathsOf(fetched)).toEqual(["/", "/a", "/secret/open"]);
    });

    it("skips a disallowed start URL, giving back its place", async () => {
      const { site: s } = await site(robotsAnd(robots, pages));
      const { pages: fetched, skips } = await crawlAll({ startUrls: [`${s.origin}/secret`], respectRobots: true });
      expect(fetched).toEqual([]);
      expect(skips).toEqual([{ url: `${s.origin}/secret`, reason: "robots", count: 1, depth: 0, task: 0, accepted: 0, detail: "disallowed by robots.txt", released: true }]);
      expect(s.requests).toEqual(["/robots.txt"]);
    });

    it("is neither fetched nor obeyed when the job ignores it", async () => {
      const { site: s } = await site(robotsAnd(robots, pages));
      const { pages: fetched, skips } = await crawlAll({ startUrls: [`${s.origin}/`], respectRobots: false });
      expect(pathsOf(fetched)).toEqual(["/", "/a", "/b", "/secret", "/secret/open", "/secret/x"]);
      expect(skips).toEqual([]);
      expect(s.requests).not.toContain("/robots.txt");
    });

    it("is loaded for each origin of a job", async () => {
      const first = await site(robotsAnd(robots, pages));
      const second = await site(robotsAnd("User-agent: *\nDisallow: /b\n", pages));
      const { pages: fetched } = await crawlAll({ startUrls: [`${first.site.origin}/a`, `${second.site.origin}/a`], respectRobots: true, depth: 1 });
      expect(fetched.map((p) => p.url).sort()).toEqual([`${first.site.origin}/a`, `${first.site.origin}/b`, `${second.site.origin}/a`, `${second.site.origin}/secret`].sort());
      for (const s of [first.site, second.site]) expect(s.requests.filter((p) => p === "/robots.txt")).toHaveLength(1);
    });

    it.each<[string, number, boolean]>([
      ["a 404 allows everything", 404, true],
      ["a 403 allows everything", 403, true],
      ["a 500 disallows everything (RFC 9309: unreachable)", 500, false],
      ["a 503 disallows everything", 503, false],
      ["a 429 disallows everything", 429, false],
    ])("%s", async (_name, status, allowed) => {
      const html = htmlPages({ "/": linkPage("home", ["/a"]), "/a": linkPage("a", []) });
      const { site: s } = await site((req, res) => (req.url === "/robots.txt" ? void res.writeHead(status).end() : html(req, res)));
      const { pages: fetched, skips } = await crawlAll({ startUrls: [`${s.origin}/`], respectRobots: true, retry: { maxRetries: 1, baseMs: 1, maxMs: 5 } });
      if (allowed) {
        expect(pathsOf(fetched)).toEqual(["/", "/a"]);
        expect(s.requests.filter((p) => p === "/robots.txt")).toHaveLength(1);
      } else {
        expect(fetched).toEqual([]);
        expect(skips).toMatchObject([{ reason: "robots", depth: 0, detail: expect.stringMatching(new RegExp(`unreachable \\(HTTP ${status}\\)`)) }]);
        // Fetched again once (max_retries 1) before giving up, then never again for this job.
        expect(s.requests).toEqual(["/robots.txt", "/robots.txt"]);
      }
    });

    it("raises the host's delay to its Crawl-delay", async () => {
      const timed = await site(robotsAnd("User-agent: *\nCrawl-delay: 0.15\n", { "/": linkPage("home", ["/1", "/2", "/3"]), "/1": "", "/2": "", "/3": "" }));
      const { pages: fetched } = await crawlAll({ startUrls: [`${timed.site.origin}/`], respectRobots: true, perHostDelayMs: 0, concurrency: 4 });
      expect(fetched).toHaveLength(4);
      const starts = timed.times(/^\/\d?$/);
      expect(starts).toHaveLength(4);
      for (const gap of gaps(starts)) expect(gap).toBeGreaterThanOrEqual(150 - 30);
    });

    it("reports a refused host as BLOCKED_ADDRESS, not as a robots.txt skip", async () => {
      const { site: s } = await site(robotsAnd(robots, pages));
      const guarded = createGuardedAgent({ policy: new AddressPolicy([]), connections: 4, connectTimeoutMs: 1_000 });
      const { pages: fetched, skips } = await crawlAll({ startUrls: [`${s.origin}/`], respectRobots: true }, guarded);
      await guarded.close();
      expect(fetched).toMatchObject([{ ok: false, errorKind: PageErrorKind.BLOCKED_ADDRESS }]);
      expect(skips).toEqual([]);
      expect(s.requests).toEqual([]);
    });
  });

  describe("per host", () => {
    const many = Object.fromEntries([["/", linkPage("home", Array.from({ length: 20 }, (_, i) => `/p${i}`))], ...Array.from({ length: 20 }, (_, i) => [`/p${i}`, linkPage(`p${i}`, [])])]);

    it.each([1, 2, 3])("never has more than %i requests in flight to one host", async (perHost) => {
      const timed = await site(htmlPages(many), 10);
      const { pages: fetched } = await crawlAll({ startUrls: [`${timed.site.origin}/`], concurrency: 8, perHostConcurrency: perHost });
      expect(fetched).toHaveLength(21);
      expect(timed.maxInFlight()).toBeLessThanOrEqual(perHost);
    });

    it("spaces the starts of requests to one host by the per-host delay", async () => {
      const timed = await site(htmlPages({ "/": linkPage("home", ["/1", "/2", "/3"]), "/1": "", "/2": "", "/3": "" }));
      await crawlAll({ startUrls: [`${timed.site.origin}/`], concurrency: 4, perHostDelayMs: 80 });
      const starts = timed.times(/./);
      expect(starts).toHaveLength(4);
      for (const gap of gaps(starts)) expect(gap).toBeGreaterThanOrEqual(80 - 30);
    });

    it("limits each host on its own: a busy host does not hold back another", async () => {
      let release: (() => void) | undefined;
      const other = await site(htmlPages({ "/": linkPage("other", []) }));
      const busy = await site((req, res) => {
        // Answers only once the other host has been asked: with one shared slot this would never happen.
        const answer = () => res.writeHead(200, { "content-type": "text/html" }).end(linkPage("busy", []));
        if (other.site.requests.length > 0) answer();
        else release = answer;
      });
      const poll = setInterval(() => other.site.requests.length > 0 && release?.(), 5);
      const { pages: fetched } = await crawlAll({ startUrls: [`${busy.site.origin}/`, `${other.site.origin}/`], concurrency: 2, perHostConcurrency: 1 });
      clearInterval(poll);
      expect(fetched.map((p) => p.ok)).toEqual([true, true]);
    });
  });

  describe("retries", () => {
    const retry = { maxRetries: 2, baseMs: 1, maxMs: 30_000 };
    const flaky = (failures: number, fail: (res: ServerResponse, req: IncomingMessage) => void): Route => {
      const seen = new Map<string, number>();
      const html = htmlPages({ "/": linkPage("home", []), "/other": linkPage("other", []) });
      return (req, res) => {
        const n = (seen.get(req.url ?? "") ?? 0) + 1;
        seen.set(req.url ?? "", n);
        if (n <= failures) fail(res, req);
        else html(req, res);
      };
    };

    it.each<[string, number, number, (res: ServerResponse) => void]>([
      ["503", 2, 2, (res) => void res.writeHead(503).end()],
      ["500", 1, 1, (res) => void res.writeHead(500).end()],
      ["429", 2, 2, (res) => void res.writeHead(429).end()],
      // A fetch sends its request again itself when the connection closes before the response (MAX_RESENDS times):
      // only after that does the crawl count a retry.
      ["a reset connection", 1 + MAX_RESENDS, 1, (res) => void res.socket?.destroy()],
    ])("fetches a page again after a %s and counts the retries", async (_name, failures, retries, fail) => {
      const { site: s } = await site(flaky(failures, fail));
      const { pages: fetched } = await crawlAll({ startUrls: [`${s.origin}/`], retry });
      expect(fetched).toMatchObject([{ ok: true, retries }]);
      expect(s.requests).toEqual(Array(failures + 1).fill("/"));
    });

    it("fetches a page again after a timeout", async () => {
      const { site: s } = await site(flaky(1, () => undefined));
      const { pages: fetched } = await crawlAll({ startUrls: [`${s.origin}/`], retry, requestTimeoutMs: 150 });
      expect(fetched).toMatchObject([{ ok: true, retries: 1 }]);
    });

    it("gives up after max_retries and reports the last failure once", async () => {
      const { site: s } = await site((_req, res) => void res.writeHead(502).end());
      const { pages: fetched } = await crawlAll({ startUrls: [`${s.origin}/`], retry });
      expect(fetched).toMatchObject([{ ok: false, errorKind: PageErrorKind.HTTP, status: 502, retries: 2 }]);
      expect(s.requests).toHaveLength(3);
    });

    it.each<[string, number]>([
      ["a 404", 404],
      ["a 403", 403],
    ])("does not fetch %s again", async (_name, status) => {
      const { site: s } = await site((_req, res) => void res.writeHead(status).end());
      const { pages: fetched } = await crawlAll({ startUrls: [`${s.origin}/`], retry });
      expect(fetched).toMatchObject([{ ok: false, status, retries: 0 }]);
      expect(s.requests).toHaveLength(1);
    });

    it("does not retry at all with max_retries 0", async () => {
      const { site: s } = await site((_req, res) => void res.writeHead(503).end());
      const { pages: fetched } = await crawlAll({ startUrls: [`${s.origin}/`], retry: { ...retry, maxRetries: 0 } });
      expect(fetched).toMatchObject([{ ok: false, status: 503, retries: 0 }]);
      expect(s.requests).toHaveLength(1);
    });

    it("waits at least the Retry-After the server asked for", async () => {
      const timed = await site(flaky(1, (res) => void res.writeHead(429, { "retry-after": "1" }).end()));
      const { pages: fetched } = await crawlAll({ startUrls: [`${timed.site.origin}/`], retry });
      expect(fetched).toMatchObject([{ ok: true, retries: 1 }]);
      const [first, second] = timed.times(/^\/$/);
      expect((second as number) - (first as number)).toBeGreaterThanOrEqual(1000 - 30);
    });

    it("caps a long Retry-After at the maximum wait", async () => {
      const { site: s } = await site(flaky(1, (res) => void res.writeHead(503, { "retry-after": "3600" }).end()));
      const { pages: fetched } = await crawlAll({ startUrls: [`${s.origin}/`], retry: { ...retry, maxMs: 20 } });
      expect(fetched).toMatchObject([{ ok: true, retries: 1 }]);
    });

    it("holds the whole host off for a Retry-After, not just the page that got it", async () => {
      const timed = await site((req, res) => {
        if (req.url === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(linkPage("home", ["/busy", "/other"]));
        if (req.url === "/busy" && timed.times(/^\/busy$/).length === 1) return void res.writeHead(503, { "retry-after": "1" }).end();
        res.writeHead(200, { "content-type": "text/html" }).end(linkPage(req.url ?? "", []));
      });
      await crawlAll({ startUrls: [`${timed.site.origin}/`], retry, concurrency: 2, perHostConcurrency: 1 });
      const [refusedAt] = timed.times(/^\/busy$/);
      const afterRefusal = timed.arrivals.filter((a) => a.at > (refusedAt as number));
      expect(afterRefusal.map((a) => a.path).sort()).toEqual(["/busy", "/other"]);
      for (const arrival of afterRefusal) expect(arrival.at - (refusedAt as number)).toBeGreaterThanOrEqual(1000 - 30);
    });
  });

  describe("skips", () => {
    it("takes a depth skip back when a shallower page links the same URL later", async () => {
      let releaseSlow: (() => void) | undefined;
      const html = htmlPages({
        "/": linkPage("home", ["/fast", "/slow"]),
        "/fast": linkPage("fast", ["/f2"]),
        "/f2": linkPage("f2", ["/u"]),
        "/slow": linkPage("slow", ["/u"]),
        "/u": linkPage("u", []),
      });
      const { site: s } = await site((req, res) => {
        if (req.url === "/slow") releaseSlow = () => html(req, res);
        else html(req, res);
      });
      const skips: PageSkip[] = [];
      const pages: PageResult[] = [];
      await crawl(
        { ...unpoliteOptions(dispatcher), startUrls: [`${s.origin}/`], depth: 2 },
        {
          page: (page) => {
            pages.push(page);
            // "/slow" answers only once "/f2" (depth 2) has counted "/u" as too deep.
            if (page.url.endsWith("/f2")) releaseSlow?.();
          },
          skip: (skip) => skips.push(skip),
        },
      );
      expect(skips.map((k) => [k.reason, new URL(k.url).pathname, k.count])).toEqual([
        ["depth", "/u", 1],
        ["depth", "/u", -1],
      ]);
      expect(skipCounts(skips)).toEqual({});
      expect(pathsOf(pages)).toEqual(["/", "/f2", "/fast", "/slow", "/u"]);
    });

    it("fails a start URL or redirect with credentials as INVALID_URL, sending nothing for it", async () => {
      const { site: s } = await site((req, res) => {
        if (req.url === "/login") return void res.writeHead(302, { location: `http://admin:pw@${req.headers.host}/panel` }).end();
        res.writeHead(200, { "content-type": "text/html" }).end(linkPage("panel", []));
      });
      const withCredentials = `http://user:pw@${new URL(s.origin).host}/`;
      const { pages: fetched } = await crawlAll({ startUrls: [withCredentials, `${s.origin}/login`] });
      expect(fetched.map((p) => [p.url, p.ok ? "ok" : p.errorKind]).sort()).toEqual([
        [`${s.origin}/login`, PageErrorKind.INVALID_URL],
        [withCredentials, PageErrorKind.INVALID_URL],
      ]);
      expect(s.requests).toEqual(["/login"]);
    });
  });
});
