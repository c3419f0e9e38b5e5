/**
 * Hostile pages, through the crawler's real fetch path: a real HTTP server
 * on 127.0.0.1 serves each one, fetchPage fetches it through the SSRF-guarded
 * agent with the default body limit, and the crawler's PageExtractor parses
 * it as it streams. Every case must end in a page outcome — a parsed page
 * or a classified error — never a throw or a hang.
 *
 * PAGE_CORPUS is the data table; its size is in the suite's name (for
 * RELIABILITY.md's "hostile inputs tried").
 */
import type { ServerResponse } from "node:http";
import { brotliCompressSync, constants, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { PageErrorKind } from "@trawl/proto";
import type { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddressPolicy } from "../crawl/address-policy.js";
import { crawl, type PageResult } from "../crawl/crawler.js";
import { fetchPage, type FetchOutcome } from "../crawl/fetch-page.js";
import { createGuardedAgent } from "../crawl/guarded-agent.js";
import { MAX_FIELD_LENGTH, MAX_LINKS, MAX_NESTING, PageExtractor, type PageExtract } from "../extract/page-extractor.js";
import { startSite, type Site } from "../test-support/http-site.js";

/** CRAWL_MAX_BODY_BYTES' default. */
const MAX_BODY = 5_242_880;
const MB = 1024 * 1024;
const TITLE = "<!doctype html><html><head><title>Hostile</title></head><body>";

/** What a hostile page is served as. */
interface Served {
  headers?: Record<string, string>;
  /** The body, or a function that writes it (respecting backpressure) and ends the response. */
  body: Buffer | string | ((res: ServerResponse) => Promise<void>);
}

/** What must come of it. */
type Expected =
  | { ok: true; check?: (page: PageExtract, extractor: PageExtractor) => void }
  | { ok: false; errorKind: PageErrorKind; message: RegExp; check?: (outcome: Extract<FetchOutcome<PageExtract>, { kind: "error" }>) => void };

interface HostilePage {
  name: string;
  served: Served;
  expected: Expected;
}

/** Writes `total` bytes of `chunk` repeated, waiting for drain, stopping when the client goes away. */
const stream = (chunk: Buffer, total: number, headers: Record<string, string> = {}) =>
  async (res: ServerResponse): Promise<void> => {
    res.writeHead(200, { "content-type": "text/html", ...headers });
    for (let sent = 0; sent < total && !res.destroyed; sent += chunk.length) {
      if (!res.write(chunk)) await new Promise<void>((resolve) => {
        const go = (): void => {
          res.off("drain", go).off("close", go);
          resolve();
        };
        res.on("drain", go).on("close", go);
      });
    }
    res.end();
  };

const zeros = (n: number): Buffer => Buffer.alloc(n, 0x20);
const html = (body: string): string => `${TITLE}${body}</body></html>`;
const fast = { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } };

// Bombs. 16 MB of spaces gzips to ~16 KB; 64 gzip members in a row are one valid gzip body of 1 GB.
const gzip16 = gzipSync(zeros(16 * MB), { level: 9 });
const gzipGigabyte = Buffer.concat(Array.from({ length: 64 }, () => gzip16));
const brotli64 = brotliCompressSync(zeros(64 * MB), fast);
const deflate64 = deflateSync(zeros(64 * MB), { level: 9 });
const deflateRaw64 = deflateRawSync(zeros(64 * MB), { level: 9 });
const gzipOfGzip = gzipSync(gzip16, { level: 9 });
const goodPage = html(`<h1>compressed</h1><a href="/next">next</a>`);

const tooLarge = (message: RegExp, maxWire = MAX_BODY + 64 * 1024): Expected => ({
  ok: false,
  errorKind: PageErrorKind.TOO_LARGE,
  message,
  // Stopped reading long before the end of what the server would send.
  check: (outcome) => expect(outcome.bytes).toBeLessThanOrEqual(maxWire),
});
const parsed = (check?: (page: PageExtract, extractor: PageExtractor) => void): Expected => (check === undefined ? { ok: true } : { ok: true, check });
const titled = parsed((page) => expect(page.title).toBe("Hostile"));

export const PAGE_CORPUS: readonly HostilePage[] = [
  // Compression bombs: bounded by what the decoder produces, whatever Content-Length says.
  { name: "a gzip bomb (1 GB of spaces in 1 MB)", served: { headers: { "content-encoding": "gzip" }, body: gzipGigabyte }, expected: tooLarge(/decoded body exceeds 5242880 bytes/) },
  { name: "a gzip bomb with an honest, small Content-Length", served: { headers: { "content-encoding": "gzip", "content-length": String(gzip16.length) }, body: gzip16 }, expected: tooLarge(/decoded body exceeds/) },
  { name: "a brotli bomb (64 MB)", served: { headers: { "content-encoding": "br" }, body: brotli64 }, expected: tooLarge(/decoded body exceeds/) },
  { name: "a zlib deflate bomb (64 MB)", served: { headers: { "content-encoding": "deflate" }, body: deflate64 }, expected: tooLarge(/decoded body exceeds/) },
  { name: "a raw deflate bomb (64 MB)", served: { headers: { "content-encoding": "deflate" }, body: deflateRaw64 }, expected: tooLarge(/decoded body exceeds/) },
  { name: "a gzip bomb inside gzip (two codings)", served: { headers: { "content-encoding": "gzip, gzip" }, body: gzipOfGzip }, expected: tooLarge(/decoded body exceeds/) },
  { name: "an endless gzip stream", served: { headers: {}, body: stream(gzip16, Number.MAX_SAFE_INTEGER, { "content-encoding": "gzip" }) }, expected: tooLarge(/body exceeds/) },
  { name: "three stacked codings", served: { headers: { "content-encoding": "gzip, gzip, gzip" }, body: gzipSync(gzipSync(gzipSync(goodPage))) }, expected: { ok: false, errorKind: PageErrorKind.NOT_HTML, message: /more than 2 content-encodings/ } },
  { name: "an unsupported coding (zstd)", served: { headers: { "content-encoding": "zstd" }, body: "(zstd)" }, expected: { ok: false, errorKind: PageErrorKind.NOT_HTML, message: /content-encoding zstd is not supported/ } },
  { name: "a made-up coding", served: { headers: { "content-encoding": "x-evil".repeat(100) }, body: "?" }, expected: { ok: false, errorKind: PageErrorKind.NOT_HTML, message: /is not supported/ } },
  { name: "garbage declared as gzip", served: { headers: { "content-encoding": "gzip" }, body: "<p>not gzip at all</p>" }, expected: { ok: false, errorKind: PageErrorKind.NETWORK, message: /content-encoding gzip: incorrect header check/ } },
  { name: "garbage declared as brotli", served: { headers: { "content-encoding": "br" }, body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01]) }, expected: { ok: false, errorKind: PageErrorKind.NETWORK, message: /content-encoding br/ } },
  { name: "a truncated gzip page (decoded as far as it goes)", served: { headers: { "content-encoding": "gzip" }, body: gzipSync(goodPage).subarray(0, 40) }, expected: parsed() },
  // Honest compressed pages still parse.
  { name: "a gzip page", served: { headers: { "content-encoding": "gzip" }, body: gzipSync(goodPage) }, expected: parsed((page) => expect([...page.links]).toEqual([expect.stringMatching(/\/next$/)])) },
  { name: "an x-gzip page", served: { headers: { "content-encoding": "x-gzip" }, body: gzipSync(goodPage) }, expected: titled },
  { name: "a brotli page", served: { headers: { "content-encoding": "br" }, body: brotliCompressSync(goodPage) }, expected: titled },
  { name: "a zlib deflate page", served: { headers: { "content-encoding": "deflate" }, body: deflateSync(goodPage) }, expected: titled },
  { name: "a raw deflate page", served: { headers: { "content-encoding": "deflate" }, body: deflateRawSync(goodPage) }, expected: titled },
  { name: "an identity coding", served: { headers: { "content-encoding": "identity" }, body: goodPage }, expected: titled },
  // Huge bodies.
  { name: "a 50 MB body without Content-Length", served: { body: stream(zeros(64 * 1024), 50 * MB) }, expected: tooLarge(/^body exceeds 5242880 bytes$/) },
  { name: "a 50 MB body with its Content-Length", served: { body: stream(zeros(64 * 1024), 50 * MB, { "content-length": String(50 * MB) }) }, expected: tooLarge(/body of 52428800 bytes exceeds 5242880/, 0) },
  { name: "a Content-Length that lies low", served: { body: stream(zeros(64 * 1024), 6 * MB, { "content-length": "100" }) }, expected: parsed() },
  { name: "100 KB of response headers", served: { headers: { "x-junk": "j".repeat(100 * 1024) }, body: goodPage }, expected: { ok: false, errorKind: PageErrorKind.NETWORK, message: /UND_ERR_HEADERS_OVERFLOW|[Hh]eaders/ } },
  { name: "a 1 MB content type", served: { headers: { "content-type": `text/html; x=${"y".repeat(MB)}` }, body: goodPage }, expected: { ok: false, errorKind: PageErrorKind.NETWORK, message: /UND_ERR_HEADERS_OVERFLOW|[Hh]eaders/ } },
  // Nesting.
  { name: "10,000 nested divs", served: { body: html(`${"<div>".repeat(10_000)}deep${"</div>".repeat(10_000)}`) }, expected: parsed((page, extractor) => {
    expect(page.title).toBe("Hostile");
    expect(extractor.truncated).toBe(true);
  }) },
  { name: "200,000 nested divs (2 MB)", served: { body: html(`${"<div>".repeat(200_000)}x${"</div>".repeat(200_000)}`) }, expected: parsed((_page, extractor) => expect(extractor.truncated).toBe(true)) },
  { name: "nesting just under the limit keeps its links", served: { body: html(`${"<div>".repeat(MAX_NESTING - 4)}<a href="/deep">deep</a>${"</div>".repeat(MAX_NESTING - 4)}`) }, expected: parsed((page, extractor) => {
    expect(extractor.truncated).toBe(false);
    expect([...page.links]).toEqual([expect.stringMatching(/\/deep$/)]);
  }) },
  { name: "a million unmatched end tags under a deep stack", served: { body: html(`${"<div>".repeat(500)}${"</x>".repeat(1_000_000)}`) }, expected: titled },
  { name: "100,000 nested inline tags", served: { body: html("<b><i>".repeat(50_000)) }, expected: titled },
  { name: "100,000 nested svg elements", served: { body: html("<svg>".repeat(100_000)) }, expected: titled },
  { name: "nested JSON-LD 10,000 deep", served: { body: html(`<script type="application/ld+json">${'{"mainEntity":'.repeat(10_000)}{}${"}".repeat(10_000)}</script>`) }, expected: titled },
  { name: "JSON-LD arrays 100,000 deep", served: { body: html(`<script type="application/ld+json">${"[".repeat(100_000)}${"]".repeat(100_000)}</script>`) }, expected: titled },
  { name: "a JSON-LD array of two million numbers", served: { body: html(`<script type="application/ld+json">[${"1,".repeat(2_000_000)}1]</script>`) }, expected: titled },
  { name: "10,000 nested microdata items", served: { body: html('<div itemscope itemprop="author">'.repeat(10_000)) }, expected: titled },
  // Sheer size inside the limit.
  { name: "a 4 MB attribute", served: { body: html(`<div class="${"x".repeat(4 * MB)}">y</div>`) }, expected: titled },
  { name: "a 4 MB unclosed comment", served: { body: `${TITLE}<!--${"x".repeat(4 * MB)}` }, expected: titled },
  { name: "a 4 MB unclosed script", served: { body: `${TITLE}<script>${"x".repeat(4 * MB)}` }, expected: titled },
  { name: "a 4 MB unclosed title", served: { body: `<title>${"t".repeat(4 * MB)}` }, expected: parsed((page) => expect(page.title).toBe("t".repeat(MAX_FIELD_LENGTH))) },
  { name: "a 2 MB meta description and a 1 MB author", served: { body: `<meta name="description" content="${"d".repeat(2 * MB)}"><meta name="author" content="${"a ".repeat(MB / 2)}">` }, expected: parsed((page) => {
    expect(page.description.length).toBe(MAX_FIELD_LENGTH);
    expect(page.author?.length).toBeLessThanOrEqual(MAX_FIELD_LENGTH);
  }) },
  { name: "100,000 distinct links (the first MAX_LINKS kept)", served: { body: html(Array.from({ length: 100_000 }, (_, i) => `<a href="/p${i}">.</a>`).join("")) }, expected: parsed((page) => {
    expect(page.links.size).toBe(MAX_LINKS);
    expect([...page.links].at(-1)).toMatch(new RegExp(`/p${MAX_LINKS - 1}$`));
  }) },
  { name: "a 10 KB link", served: { body: html(`<a href="/${"a".repeat(10_240)}">long</a><a href="/short">short</a>`) }, expected: parsed((page) => expect([...page.links]).toEqual([expect.stringMatching(/\/short$/)])) },
  { name: "a 1 MB link", served: { body: html(`<a href="/${"a".repeat(MB)}">long</a>`) }, expected: parsed((page) => expect(page.links.size).toBe(0)) },
  { name: "links to file:, javascript:, data: and gopher:", served: { body: html(["file:///etc/passwd", "javascript:alert(1)", "data:text/html,<p>x</p>", "gopher://127.0.0.1/", "http://u:p@127.0.0.1/"].map((h) => `<a href="${h}">x</a>`).join("")) }, expected: parsed((page) => expect([...page.links]).toEqual(["http://u:p@127.0.0.1/"])) },
  { name: "binary noise served as HTML", served: { body: Buffer.from(Array.from({ length: 1 * MB }, (_, i) => (i * 2654435761) >>> 24)) }, expected: parsed() },
  { name: "NUL bytes everywhere", served: { body: `${TITLE}\0<a\0 href="/x\0y">\0</a\0>`.repeat(1000) }, expected: titled },
  // Wrong and unknown charsets decode without throwing.
  ...[
    ["an unknown charset", "text/html; charset=x-no-such-charset"],
    ["an empty charset", "text/html; charset="],
    ["a quoted, unterminated charset", 'text/html; charset="utf-8'],
    ["a 500-character charset", `text/html; charset=${"u".repeat(500)}`],
    ["a replacement-encoding charset (iso-2022-kr)", "text/html; charset=iso-2022-kr"],
    ["x-user-defined", "text/html; charset=x-user-defined"],
    ["UTF-16 declared for UTF-8 bytes", "text/html; charset=utf-16"],
    ["UTF-16BE declared for UTF-8 bytes", "text/html; charset=utf-16be"],
    ["Shift_JIS declared for UTF-8 bytes", "text/html; charset=shift_jis"],
    ["two charsets", "text/html; charset=utf-8; charset=koi8-r"],
    ["a charset parameter without a value", "text/html; charset"],
    ["a content type with 1,000 parameters", `text/html${"; a=b".repeat(1000)}`],
  ].map(([name, type]): HostilePage => ({
    name: `${name as string}`,
    served: { headers: { "content-type": type as string }, body: `${TITLE}caf\u00e9 \ud83d\udc1f<a href="/n">n</a></body></html>` },
    expected: parsed((page) => expect(page.wordCount).toBeGreaterThan(0)),
  })),
  { name: "invalid UTF-8 (lone continuation bytes, overlong forms, surrogates)", served: { headers: { "content-type": "text/html; charset=utf-8" }, body: Buffer.concat([Buffer.from(TITLE), Buffer.from([0x80, 0xbf, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80, 0xff]), Buffer.from("ok")]) }, expected: parsed((page) => expect(page.text).toContain("\ufffd")) },
  { name: "a UTF-16LE BOM under a UTF-8 label", served: { headers: { "content-type": "text/html; charset=utf-8" }, body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TITLE, "utf16le")]) }, expected: parsed() },
  { name: "a multi-byte character split across every chunk", served: { body: async (res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    const bytes = Buffer.from(`${TITLE}${"\ud83d\udc1f".repeat(2000)}`);
    for (const byte of bytes) res.write(Buffer.from([byte]));
    res.end();
  } }, expected: parsed((page) => expect(page.text).toContain("\ud83d\udc1f")) },
];

describe(`hostile pages (${PAGE_CORPUS.length} inputs)`, () => {
  let site: Site;
  let agent: Agent;

  beforeAll(async () => {
    site = await startSite((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(html(PAGE_CORPUS.map((_, i) => `<a href="/${i}">${i}</a>`).join("")));
      const index = Number(path.slice(1));
      const served = (PAGE_CORPUS[index] as HostilePage).served;
      res.on("error", () => undefined);
      const { body } = served;
      if (typeof body === "function") return void body(res).catch(() => res.destroy());
      res.writeHead(200, { "content-type": "text/html", ...served.headers }).end(body);
    });
    agent = createGuardedAgent({ policy: new AddressPolicy(["127.0.0.1"]), connections: 4, connectTimeoutMs: 2_000 });
  });
  afterAll(async () => {
    await agent.close();
    await site.close();
  });

  it.each(PAGE_CORPUS.map((page, index) => ({ ...page, index })))("survives $name", async ({ index, expected }) => {
    const extractor = new PageExtractor({ embeddings: true });
    const outcome = await fetchPage(
      `${site.origin}/${index}`,
      { dispatcher: agent, userAgent: "trawl-hostile", timeoutMs: 20_000, maxBodyBytes: MAX_BODY, signal: new AbortController().signal },
      { start: (url) => extractor.reset(url), write: (chunk) => extractor.write(chunk), end: () => extractor.end() },
    );
    if (expected.ok) {
      expect(outcome, outcome.kind === "error" ? outcome.message : "").toMatchObject({ kind: "ok", status: 200 });
      if (outcome.kind === "ok") expected.check?.(outcome.result, extractor);
    } else {
      expect(outcome).toMatchObject({ kind: "error", errorKind: expected.errorKind, message: expect.stringMatching(expected.message) });
      if (outcome.kind === "error") expected.check?.(outcome);
    }
  }, 60_000);

  it("crawls a site linking to every hostile page: each is reported once, as the table says, and the crawl ends", async () => {
    const pages: PageResult[] = [];
    await crawl(
      {
        startUrls: [`${site.origin}/`],
        depth: 1,
        maxPages: 1_000,
        concurrency: 4,
        requestTimeoutMs: 20_000,
        maxBodyBytes: MAX_BODY,
        userAgent: "trawl-hostile",
        dispatcher: agent,
        signal: new AbortController().signal,
        respectRobots: false,
        perHostConcurrency: 4,
        perHostDelayMs: 0,
        retry: { maxRetries: 0, baseMs: 0, maxMs: 0 },
      },
      { page: (page) => pages.push(page), skip: () => undefined },
    );
    expect(pages).toHaveLength(PAGE_CORPUS.length + 1);
    const outcomes = PAGE_CORPUS.map((_, i) => pages.find((page) => page.url === `${site.origin}/${i}`));
    expect(outcomes.map((page) => (page === undefined ? "missing" : page.ok ? "ok" : page.errorKind))).toEqual(
      PAGE_CORPUS.map(({ expected }) => (expected.ok ? "ok" : expected.errorKind)),
    );
  }, 120_000);

  it("cuts a gzip bomb at the limit when truncating (robots.txt), decoding no further", async () => {
    const index = PAGE_CORPUS.findIndex((page) => page.name.startsWith("a gzip bomb (1 GB"));
    let body = "";
    const outcome = await fetchPage(
      `${site.origin}/${index}`,
      { dispatcher: agent, userAgent: "trawl-hostile", timeoutMs: 20_000, maxBodyBytes: 500_000, truncate: true, contentTypes: undefined, signal: new AbortController().signal },
      { start: () => void (body = ""), write: (chunk) => void (body += chunk), end: () => body.length },
    );
    expect(outcome).toMatchObject({ kind: "ok", result: 500_000 });
  });
});
