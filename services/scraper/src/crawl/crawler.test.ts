import { PageErrorKind } from "@trawl/proto";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { htmlPages, linkPage, startSite, type Site } from "../test-support/http-site.js";
import { crawl, type CrawlOptions, type PageResult } from "./crawler.js";

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

  async function run(extra: Partial<CrawlOptions>): Promise<PageResult[]> {
    const pages: PageResult[] = [];
    a.requests.length = 0;
    b.requests.length = 0;
    await crawl(
      {
        startUrls: [`${a.origin}/`],
        depth: 10,
        maxPages: 1000,
        concurrency: 4,
        requestTimeoutMs: 5_000,
        maxBodyBytes: 100_000,
        userAgent: "trawl-test",
        dispatcher,
        signal: new AbortController().signal,
        ...extra,
      },
      (page) => pages.push(page),
    );
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

  it("on abort, reports nothing in flight and resolves once fetches settle", async () => {
    const hang = await startSite((req, res) => {
      if (req.url === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(linkPage("root", ["/h1", "/h2", "/h3"]));
      // Every other page hangs until the crawl is aborted.
    });
    const controller = new AbortController();
    const pages: PageResult[] = [];
    const done = crawl(
      { startUrls: [`${hang.origin}/`], depth: 1, maxPages: 100, concurrency: 8, requestTimeoutMs: 60_000, maxBodyBytes: 100_000, userAgent: "t", dispatcher, signal: controller.signal },
      (page) => {
        pages.push(page);
        if (page.depth === 0) setTimeout(() => controller.abort(), 20);
      },
    );
    await done;
    expect(pages.map((p) => p.url)).toEqual([`${hang.origin}/`]);
    await hang.close();
  });
});
