import { PageErrorKind } from "@trawl/proto";
import { stat } from "node:fs";
import type { Socket } from "node:net";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, startSite, type Site } from "../test-support/http-site.js";
import { fetchPage, MAX_REDIRECTS, MAX_RESENDS, type BodySink, type FetchOptions } from "./fetch-page.js";

/** Keeps the event loop busy for `ms`. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Collects the body the way the crawler's extractor would receive it. */
function collector(): BodySink<string> & { startedWith?: string } {
  let body = "";
  const sink: BodySink<string> & { startedWith?: string } = {
    start: (url) => {
      sink.startedWith = url;
      body = "";
    },
    write: (chunk) => {
      body += chunk;
    },
    end: () => body,
  };
  return sink;
}

describe("fetchPage", () => {
  let site: Site;
  const dispatcher = new Agent({ connections: 4 });
  const options = (extra: Partial<FetchOptions> = {}): FetchOptions => ({
    dispatcher,
    userAgent: "trawl-test",
    timeoutMs: 2_000,
    maxBodyBytes: 1_000,
    signal: new AbortController().signal,
    ...extra,
  });

  beforeAll(async () => {
    site = await startSite((req, res) => {
      const path = req.url ?? "/";
      const html = { "content-type": "text/html; charset=utf-8" };
      if (path === "/ok") return void res.writeHead(200, html).end(`<p>hello ${req.headers["user-agent"]}</p>`);
      if (path === "/xhtml") return void res.writeHead(200, { "content-type": "application/xhtml+xml" }).end("<p>x</p>");
      if (path === "/latin1") return void res.writeHead(200, { "content-type": "text/html; charset=iso-8859-1" }).end(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
      if (path === "/missing") return void res.writeHead(404, html).end("<p>gone</p>");
      if (path === "/broken") return void res.writeHead(500, html).end("<p>oops</p>");
      if (path === "/json") return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
      if (path === "/untyped") return void res.writeHead(200).end("<p>?</p>");
      if (path === "/declared-large") return void res.writeHead(200, { ...html, "content-length": "5000" }).end("x".repeat(5000));
      if (path === "/streamed-large") {
        res.writeHead(200, html);
        for (let i = 0; i < 20; i++) res.write("y".repeat(100));
        return void res.end();
      }
      if (path === "/hang") return; // never answers
      if (path === "/answers-soon") return void setTimeout(() => res.writeHead(200, html).end("<p>soon</p>"), 30);
      if (path === "/busy") return void res.writeHead(429, { ...html, "retry-after": "7" }).end("<p>slow down</p>");
      if (path === "/busy-until") return void res.writeHead(503, { ...html, "retry-after": new Date(Date.now() + 60_000).toUTCString() }).end();
      if (path === "/robots.txt") return void res.writeHead(200, { "content-type": "text/plain" }).end("User-agent: *\n" + "Disallow: /x\n".repeat(200));
      if (path === "/to-ftp") return void res.writeHead(302, { location: "ftp://example.com/file" }).end();
      if (path === "/loop-a") return void res.writeHead(302, { location: "/loop-b" }).end();
      if (path === "/loop-b") return void res.writeHead(302, { location: "/loop-a" }).end();
      if (path === "/no-location") return void res.writeHead(301).end();
      if (path === "/to-mailto") return void res.writeHead(302, { location: "mailto:a@b.c" }).end();
      const hop = /^\/hop\/(\d+)$/.exec(path);
      if (hop) {
        const n = Number(hop[1]);
        if (n === 0) return void res.writeHead(200, html).end("<p>arrived</p>");
        return void res.writeHead(n % 2 ? 301 : 307, { location: `/hop/${n - 1}#frag` }).end();
      }
      res.writeHead(404).end();
    });
  });
  afterAll(async () => {
    await site.close();
    await dispatcher.close();
  });

  it("streams an HTML body to the sink", async () => {
    const sink = collector();
    const outcome = await fetchPage(`${site.origin}/ok`, options(), sink);
    expect(outcome).toMatchObject({ kind: "ok", status: 200, finalUrl: `${site.origin}/ok`, result: "<p>hello trawl-test</p>", redirects: [] });
    expect(sink.startedWith).toBe(`${site.origin}/ok`);
  });

  it("accepts application/xhtml+xml and decodes a declared charset", async () => {
    expect(await fetchPage(`${site.origin}/xhtml`, options(), collector())).toMatchObject({ kind: "ok", result: "<p>x</p>" });
    expect(await fetchPage(`${site.origin}/latin1`, options(), collector())).toMatchObject({ kind: "ok", result: "café", bytes: 4 });
  });

  it(`follows up to ${MAX_REDIRECTS} redirects, reporting every hop`, async () => {
    const outcome = await fetchPage(`${site.origin}/hop/${MAX_REDIRECTS}`, options(), collector());
    expect(outcome).toMatchObject({ kind: "ok", finalUrl: `${site.origin}/hop/0`, result: "<p>arrived</p>" });
    expect(outcome.kind === "ok" && outcome.redirects).toEqual([4, 3, 2, 1, 0].map((n) => `${site.origin}/hop/${n}`));
  });

  it.each<[string, string, Partial<FetchOptions>, { errorKind: PageErrorKind; status?: number; message?: RegExp }]>([
    ["a 404", "/missing", {}, { errorKind: PageErrorKind.HTTP, status: 404, message: /HTTP 404/ }],
    ["a 500", "/broken", {}, { errorKind: PageErrorKind.HTTP, status: 500 }],
    ["a redirect without Location", "/no-location", {}, { errorKind: PageErrorKind.HTTP, status: 301 }],
    ["a redirect to a non-http URL", "/to-mailto", {}, { errorKind: PageErrorKind.INVALID_URL, status: 302 }],
    ["a JSON response", "/json", {}, { errorKind: PageErrorKind.NOT_HTML, message: /application\/json/ }],
    ["a response without content-type", "/untyped", {}, { errorKind: PageErrorKind.NOT_HTML }],
    ["a declared length over the limit", "/declared-large", {}, { errorKind: PageErrorKind.TOO_LARGE }],
    ["a streamed body over the limit", "/streamed-large", {}, { errorKind: PageErrorKind.TOO_LARGE }],
    ["a server that never answers", "/hang", { timeoutMs: 150 }, { errorKind: PageErrorKind.TIMEOUT, message: /150 ms/ }],
    ["a redirect loop", "/loop-a", {}, { errorKind: PageErrorKind.TOO_MANY_REDIRECTS }],
    [`${MAX_REDIRECTS + 1} redirects`, `/hop/${MAX_REDIRECTS + 1}`, {}, { errorKind: PageErrorKind.TOO_MANY_REDIRECTS }],
  ])("classifies %s", async (_name, path, extra, expected) => {
    const outcome = await fetchPage(`${site.origin}${path}`, options(extra), collector());
    expect(outcome.kind).toBe("error");
    if (outcome.kind !== "error") return;
    expect(outcome.errorKind).toBe(expected.errorKind);
    if (expected.status !== undefined) expect(outcome.status).toBe(expected.status);
    if (expected.message !== undefined) expect(outcome.message).toMatch(expected.message);
  });

  it.each([
    ["credentials", "http://user:secret@127.0.0.1:PORT/ok", /credentials/],
    ["a user name alone", "http://user@127.0.0.1:PORT/ok", /credentials/],
    ["an ftp URL", "ftp://127.0.0.1:PORT/ok", /ftp URLs are not fetched/],
    ["an unparseable URL", "http://exa mple.com/", /not a valid URL/],
  ])("refuses a URL with %s as INVALID_URL without sending anything", async (_name, template, message) => {
    site.requests.length = 0;
    const outcome = await fetchPage(template.replace("PORT", new URL(site.origin).port), options(), collector());
    expect(outcome).toMatchObject({ kind: "error", errorKind: PageErrorKind.INVALID_URL, message: expect.stringMatching(message) });
    expect(site.requests).toEqual([]);
  });

  it("refuses a redirect to an ftp URL as INVALID_URL", async () => {
    expect(await fetchPage(`${site.origin}/to-ftp`, options(), collector())).toMatchObject({ kind: "error", errorKind: PageErrorKind.INVALID_URL, status: 302 });
  });

  it("reports Retry-After in seconds or as a date", async () => {
    expect(await fetchPage(`${site.origin}/busy`, options(), collector())).toMatchObject({ kind: "error", errorKind: PageErrorKind.HTTP, status: 429, retryAfterMs: 7_000 });
    const until = await fetchPage(`${site.origin}/busy-until`, options(), collector());
    expect(until.kind === "error" && until.retryAfterMs).toBeGreaterThan(50_000);
    expect(await fetchPage(`${site.origin}/missing`, options(), collector())).not.toHaveProperty("retryAfterMs");
  });

  it("waits at the gate before every hop and releases each hop", async () => {
    const gated: string[] = [];
    let held = 0;
    let maxHeld = 0;
    const gate = async (url: string) => {
      gated.push(new URL(url).pathname);
      held++;
      maxHeld = Math.max(maxHeld, held);
      return () => void held--;
    };
    expect(await fetchPage(`${site.origin}/hop/2`, options({ gate }), collector())).toMatchObject({ kind: "ok" });
    expect(gated).toEqual(["/hop/2", "/hop/1", "/hop/0"]);
    expect([held, maxHeld]).toEqual([0, 1]);
    expect(await fetchPage(`${site.origin}/missing`, options({ gate }), collector())).toMatchObject({ kind: "error" });
    expect(await fetchPage(`${site.origin}/declared-large`, options({ gate }), collector())).toMatchObject({ kind: "error" });
    expect(held).toBe(0);
  });

  it("does not count time spent waiting at the gate against the timeout", async () => {
    const gate = () => new Promise<() => void>((resolve) => setTimeout(() => resolve(() => undefined), 300));
    expect(await fetchPage(`${site.origin}/hop/1`, options({ gate, timeoutMs: 200 }), collector())).toMatchObject({ kind: "ok", finalUrl: `${site.origin}/hop/0` });
  });

  it("reports an abort while waiting at the gate as aborted", async () => {
    const controller = new AbortController();
    const gate = () =>
      new Promise<() => void>((_resolve, reject) => controller.signal.addEventListener("abort", () => reject(controller.signal.reason as Error)));
    const pending = fetchPage(`${site.origin}/ok`, options({ gate, signal: controller.signal }), collector());
    controller.abort();
    expect(await pending).toEqual({ kind: "aborted" });
  });

  it("accepts any content type and cuts the body at the limit when asked (robots.txt)", async () => {
    const outcome = await fetchPage(`${site.origin}/robots.txt`, options({ contentTypes: undefined, truncate: true, maxBodyBytes: 100 }), collector());
    expect(outcome).toMatchObject({ kind: "ok", bytes: 100 });
    expect(outcome.kind === "ok" && outcome.result).toHaveLength(100);
    expect(await fetchPage(`${site.origin}/declared-large`, options({ contentTypes: undefined, truncate: true }), collector())).toMatchObject({ kind: "ok", bytes: 1_000 });
  });

  it("reports the time spent on requests", async () => {
    const outcome = await fetchPage(`${site.origin}/ok`, options(), collector());
    expect(outcome.kind === "ok" && outcome.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it("does not blame the server when the crawler's own event loop was stalled past the deadline", async () => {
    const pending = fetchPage(`${site.origin}/answers-soon`, options({ timeoutMs: 200 }), collector());
    // Block the loop from an I/O callback (the poll phase), as a long parse or a synchronous write would, until long
    // after both the answer (30 ms) and the deadline (200 ms): the timer and the answer are then due together.
    setTimeout(() => stat(".", () => busyFor(400)), 5);
    const outcome = await pending;
    expect(outcome).toMatchObject({ kind: "ok", result: "<p>soon</p>" });
    expect(outcome.kind === "ok" && outcome.elapsedMs, "the stall did pass the deadline").toBeGreaterThan(200);
  });

  it("classifies a refused connection as NETWORK", async () => {
    const port = await closedPort();
    const outcome = await fetchPage(`http://127.0.0.1:${port}/`, options(), collector());
    expect(outcome).toMatchObject({ kind: "error", errorKind: PageErrorKind.NETWORK, message: expect.stringMatching(/ECONNREFUSED/) });
  });

  it("reports an abort of the job signal as aborted, not as an error", async () => {
    const controller = new AbortController();
    const pending = fetchPage(`${site.origin}/hang`, options({ signal: controller.signal }), collector());
    controller.abort();
    expect(await pending).toEqual({ kind: "aborted" });
    expect(await fetchPage(`${site.origin}/ok`, options({ signal: controller.signal }), collector())).toEqual({ kind: "aborted" });
  });
});

describe("fetchPage on connections the server closes", () => {
  // Every socket the site accepted, and how many requests each has carried.
  const served = new Map<Socket, number>();
  let site: Site;
  beforeAll(async () => {
    site = await startSite((req, res) => {
      const socket = req.socket;
      const carried = (served.get(socket) ?? 0) + 1;
      served.set(socket, carried);
      // What a server closing an idle keep-alive connection looks like to the request that was just sent on it.
      if (req.url === "/closes-reused" && carried > 1) return void socket.destroy();
      if (req.url === "/always-closes") return void socket.destroy();
      res.writeHead(200, { "content-type": "text/html" }).end("<p>fresh</p>");
    });
  });
  afterAll(() => site.close());

  const options = (dispatcher: Agent): FetchOptions => ({ dispatcher, userAgent: "trawl-test", timeoutMs: 5_000, maxBodyBytes: 1_000, signal: new AbortController().signal });

  it("sends a GET again on another connection when its reused connection closes before the response", async () => {
    const dispatcher = new Agent({ connections: 1 });
    try {
      expect(await fetchPage(`${site.origin}/warm`, options(dispatcher), collector())).toMatchObject({ kind: "ok" });
      const [warm] = served.keys();
      const outcome = await fetchPage(`${site.origin}/closes-reused`, options(dispatcher), collector());
      expect(outcome).toMatchObject({ kind: "ok", status: 200, result: "<p>fresh</p>" });
      // The warm connection carried its second request and died; a new one carried the resend.
      expect(warm?.destroyed).toBe(true);
      expect([...served].map(([socket, carried]) => [socket === warm, carried])).toEqual([[true, 2], [false, 1]]);
    } finally {
      await dispatcher.close();
    }
  });

  it(`gives up as NETWORK after ${MAX_RESENDS} resends when every connection closes`, async () => {
    const dispatcher = new Agent({ connections: 1 });
    try {
      const before = site.requests.filter((path) => path === "/always-closes").length;
      const outcome = await fetchPage(`${site.origin}/always-closes`, options(dispatcher), collector());
      expect(outcome).toMatchObject({ kind: "error", errorKind: PageErrorKind.NETWORK });
      expect(site.requests.filter((path) => path === "/always-closes").length - before).toBe(1 + MAX_RESENDS);
    } finally {
      await dispatcher.close();
    }
  });
});
