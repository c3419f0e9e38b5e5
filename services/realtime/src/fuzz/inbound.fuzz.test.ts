/**
 * Property-based fuzzing (fast-check) of every inbound parser of the
 * gateway, through its real sockets: REST bodies and query strings, tRPC
 * inputs over HTTP, and the text messages of the raw WebSocket dialects.
 *
 * The property each time: the answer is the protocol's clear error (a 4xx
 * JSON body with `error` and `message`, a tRPC error with a code, a
 * WebSocket `error` message) or a success — never a 5xx, never a crash —
 * and afterwards the gateway still serves another client.
 */
import fc from "fast-check";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseConfig, type GatewayConfig } from "../config.js";
import { createGateway, type Gateway } from "../gateway.js";
import { ScriptedScraper } from "../test-support/scripted-scraper.js";
import { openClient, type Recorded } from "../test-support/ws-clients.js";
import { parseScanMessage } from "../ws/seed003-scan-messages.js";

/** Runs per property: enough to find a crash, bounded so the suite stays quick. */
export const FUZZ_RUNS = 200;

let scraper: ScriptedScraper;
let gateway: Gateway;
let base = "";
let port = 0;

beforeAll(async () => {
  scraper = new ScriptedScraper();
  await scraper.start(0);
  const config: GatewayConfig = { ...parseConfig({}), port: 0, scraperAddresses: [scraper.address], logLevel: "silent", wsMaxMessagesPerSecond: 100_000 };
  gateway = createGateway(config, pino({ level: "silent" }), { backoff: { initialMs: 20, maxMs: 100 } });
  ({ url: base, port } = await gateway.listen());
  await vi.waitFor(() => expect(gateway.health().every((link) => link.connected)).toBe(true), { timeout: 10_000 });
});

afterAll(async () => {
  await gateway.close();
  scraper.stop();
});

/** Any JSON value, with the shapes the gateway's parsers look for mixed in. */
const jsonValue = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      url: fc.oneof(fc.webUrl(), fc.string(), fc.integer(), fc.constant("javascript:alert(1)"), fc.constant("file:///etc/passwd")),
      urls: fc.array(fc.oneof(fc.webUrl(), fc.string()), { maxLength: 5 }),
      depth: fc.oneof(fc.integer(), fc.double(), fc.string()),
      max_pages: fc.oneof(fc.integer({ min: -10, max: 10_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.string()),
      platform: fc.oneof(fc.constantFrom("web", "twitter", "youtube", "reddit", "myspace"), fc.string()),
      path: fc.oneof(fc.string(), fc.constant("../../etc"), fc.constant("/\u0000")),
      reason: fc.oneof(fc.string({ maxLength: 2_000 }), fc.integer()),
      concurrency: fc.oneof(fc.integer(), fc.string()),
    },
    { requiredKeys: [] },
  ),
);

async function expectClearAnswer(response: Response, what: string): Promise<void> {
  const text = await response.text();
  expect(response.status, `${what} answered ${response.status}: ${text.slice(0, 300)}`).toBeLessThan(500);
  if (response.status >= 400) {
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(typeof body.error === "string" || typeof body.error === "object", what).toBe(true);
  }
}

describe("REST", () => {
  it("answers any JSON body to every POST route with success or a 4xx naming the problem", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/api/scrape", "/api/scan", "/api/jobs/some-job/cancel", "/api/jobs/x/pause"), jsonValue, async (path, body) => {
        const response = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        await expectClearAnswer(response, `POST ${path} ${JSON.stringify(body).slice(0, 200)}`);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("answers raw bytes that are not JSON with 400 or 415", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2_000 }), fc.constantFrom("application/json", "application/json; charset=utf-16", "text/plain"), async (bytes, type) => {
        const response = await fetch(`${base}/api/scrape`, { method: "POST", headers: { "content-type": type }, body: bytes });
        await expectClearAnswer(response, `POST /api/scrape ${type}`);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("answers any query string on the GET routes with success or a 4xx", async () => {
    const key = fc.constantFrom("status", "platform", "created_after", "created_before", "limit", "cursor", "page_size", "page_token", "q", "embeddings", "format", "interval");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/api/jobs", "/api/jobs/j1/items", "/api/jobs/j1/export", "/ws/scraping/j1/status", "/ws/stats", "/ws/scraping/status"),
        fc.array(fc.tuple(key, fc.oneof(fc.string(), fc.integer().map(String), fc.constant("1e309"), fc.constant("-1"))), { maxLength: 6 }),
        async (path, pairs) => {
          const query = new URLSearchParams(pairs).toString();
          await expectClearAnswer(await fetch(`${base}${path}?${query}`), `GET ${path}?${query}`);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("tRPC", () => {
  it("answers any input to every query with data or a tRPC error whose HTTP status is 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("jobs.list", "jobs.get", "jobs.items", "stats.platform", "stats.overview"), jsonValue, async (procedure, input) => {
        const response = await fetch(`${base}/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`);
        const text = await response.text();
        expect(response.status, `${procedure} ${JSON.stringify(input).slice(0, 200)}: ${text.slice(0, 300)}`).toBeLessThan(500);
        const body = JSON.parse(text) as { error?: { data?: { code?: string } } };
        if (response.status >= 400) expect(typeof body.error?.data?.code).toBe("string");
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("answers any input to every mutation with data or a 4xx tRPC error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("jobs.start", "jobs.scan", "jobs.cancel", "jobs.pause", "jobs.resume"), jsonValue, async (procedure, input) => {
        const response = await fetch(`${base}/trpc/${procedure}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(input) });
        const text = await response.text();
        expect(response.status, `${procedure} ${JSON.stringify(input).slice(0, 200)}: ${text.slice(0, 300)}`).toBeLessThan(500);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("raw WebSocket dialects", () => {
  let scan: Recorded;
  let watcher: Recorded;

  beforeAll(async () => {
    scan = await openClient(`ws://127.0.0.1:${port}/ws/scan/fuzz`);
    watcher = await openClient(`ws://127.0.0.1:${port}/ws/scraping`);
  });
  afterAll(() => {
    scan.ws.terminate();
    watcher.ws.terminate();
  });

  it("answers any malformed text on the seed 003 scan socket with an error message and keeps the socket open", async () => {
    const message = fc.oneof(
      fc.string({ maxLength: 500 }),
      jsonValue.map((value) => JSON.stringify(value)),
      fc.record({ action: fc.oneof(fc.constantFrom("scan", "cancel", "SCAN", ""), fc.string()), path: fc.oneof(fc.string(), fc.constant("/etc"), fc.constant("..")), recursive: fc.anything() }, { requiredKeys: ["action"] }).map((value) => JSON.stringify(value)),
    );
    // A well-formed scan starts a job whose answers come with its events (the seed 003 suites cover those);
    // everything else must be answered at once.
    const malformed = message.filter((text) => {
      const parsed = parseScanMessage(text);
      return !parsed.ok || parsed.message.action !== "scan";
    });
    await fc.assert(
      fc.asyncProperty(malformed, async (text) => {
        const before = scan.messages.length;
        scan.ws.send(text);
        await vi.waitFor(() => expect(scan.messages.length).toBeGreaterThan(before), { timeout: 5_000 });
        const answer = scan.messages[before] as { type?: string };
        expect(answer.type, `${text.slice(0, 200)} → ${JSON.stringify(answer)}`).toBe("error");
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(scan.ws.readyState).toBe(scan.ws.OPEN);
  }, 120_000);

  it("answers any text on /ws/scraping with pong", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 2_000 }), async (text) => {
        const before = watcher.messages.filter((m) => m.type === "pong").length;
        watcher.ws.send(text);
        await vi.waitFor(() => expect(watcher.messages.filter((m) => m.type === "pong").length).toBeGreaterThan(before), { timeout: 5_000 });
      }),
      { numRuns: FUZZ_RUNS },
    );
  }, 120_000);

  it("still serves a new client after all of the above", async () => {
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const client = await openClient(`ws://127.0.0.1:${port}/ws/scraping`);
    expect(await client.next((message) => message.type === "initial_state")).toMatchObject({ type: "initial_state" });
    client.ws.terminate();
  });
});
