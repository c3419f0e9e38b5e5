/**
 * Hostile gRPC requests against a real scraper server (grpc-js on
 * 127.0.0.1, real store): property-based fuzzing (fast-check) of StartJob
 * with out-of-range values, arbitrary bytes in place of a request, and a
 * table of hostile values for the other RPCs. Every case must be answered
 * with a status — INVALID_ARGUMENT naming the field for a bad value — and
 * the server must keep answering afterwards.
 *
 * The run counts and HOSTILE_RPC_CORPUS's size are in the suites' names
 * (for RELIABILITY.md's "hostile inputs tried").
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { createClient, ScraperService, type ServiceClient } from "@trawl/proto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { createScraperServer, type ScraperServer } from "../server.js";

type Client = ServiceClient<typeof ScraperService>;

const UINT32_MAX = 2 ** 32 - 1;
const LIMITS = { maxPagesLimit: 100, maxDepth: 3, maxFiles: 50 };
/** fast-check runs per property. */
const RUNS = 150;

/** The status a call failed with, or "ok". */
async function statusOf(call: Promise<unknown>): Promise<{ code: grpc.status; details: string } | "ok"> {
  return call.then(
    () => "ok" as const,
    (err: grpc.ServiceError) => ({ code: err.code, details: err.details }),
  );
}

/** One out-of-range value for a CrawlSpec field, and the field name the refusal must carry. */
interface Corruption {
  field: string;
  spec: Record<string, unknown>;
}

const range = (min: number, max = UINT32_MAX) => fc.integer({ min, max });
const corruption = (field: string, arbitrary: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Corruption> => arbitrary.map((spec) => ({ field, spec }));

const NOT_A_START_URL = fc.oneof(
  fc.string({ unit: "binary", maxLength: 64 }),
  fc.constantFrom(
    "",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "data:text/html,x",
    "gopher://127.0.0.1/",
    "ftp://example.com/",
    "http://",
    "http://[::1",
    "https://exa mple.com/",
    `http://example.com/${"a".repeat(10_240)}`,
    "http://user:pass@example.com/",
    "http://user@example.com/",
    "\0",
  ),
).filter((url) => !/^\s*https?:\/\/[^\s/@:[]+(?::\d+)?\/?[^\s\0]{0,100}$/i.test(url));

/** Each field pushed out of its range (the limits are the server's, see LIMITS). */
const CORRUPTIONS: fc.Arbitrary<Corruption> = fc.oneof(
  corruption("crawl.urls", fc.constant({ urls: [] })),
  corruption("crawl.urls", fc.integer({ min: 1001, max: 1500 }).map((n) => ({ urls: Array.from({ length: n }, (_, i) => `http://example.com/${i}`) }))),
  corruption("crawl.urls[", fc.tuple(fc.array(fc.constant("http://example.com/"), { maxLength: 3 }), NOT_A_START_URL).map(([good, bad]) => ({ urls: [...good, bad] }))),
  corruption("crawl.depth", range(LIMITS.maxDepth + 1).map((depth) => ({ depth }))),
  corruption("crawl.platform", fc.oneof(fc.integer({ min: 5, max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: -1 })).map((platform) => ({ platform }))),
  corruption("crawl.max_pages", range(LIMITS.maxPagesLimit + 1).map((maxPages) => ({ maxPages }))),
  corruption("crawl.concurrency", range(257).map((concurrency) => ({ concurrency }))),
  corruption("crawl.request_timeout_ms", range(300_001).map((requestTimeoutMs) => ({ requestTimeoutMs }))),
  corruption("crawl.max_duration_ms", range(86_400_001).map((maxDurationMs) => ({ maxDurationMs }))),
  corruption("crawl.per_host_concurrency", fc.oneof(fc.constant(0), range(65)).map((perHostConcurrency) => ({ perHostConcurrency }))),
  corruption("crawl.per_host_delay_ms", range(60_001).map((perHostDelayMs) => ({ perHostDelayMs }))),
  corruption("crawl.max_retries", range(11).map((maxRetries) => ({ maxRetries }))),
);

/** The order validateCrawlSpec checks fields in: the first bad one is named. */
const CHECK_ORDER = [
  "crawl.urls",
  "crawl.urls[",
  "crawl.depth",
  "crawl.platform",
  "crawl.max_pages",
  "crawl.concurrency",
  "crawl.request_timeout_ms",
  "crawl.max_duration_ms",
  "crawl.per_host_concurrency",
  "crawl.per_host_delay_ms",
  "crawl.max_retries",
];

/** A hostile value for another RPC, and the status (and details) it must get. */
export const HOSTILE_RPC_CORPUS: readonly { name: string; call: (client: Client) => Promise<unknown>; code: grpc.status; details: RegExp }[] = [
  { name: "StartJob with neither crawl nor scan", call: (c) => c.startJob({}), code: grpc.status.INVALID_ARGUMENT, details: /^crawl: one of crawl or scan is required/ },
  { name: "StartJob with both crawl and scan", call: (c) => c.startJob({ crawl: { urls: ["http://example.com/"] }, scan: { path: "." } }), code: grpc.status.INVALID_ARGUMENT, details: /^crawl: give either/ },
  { name: "a scan of `..`", call: (c) => c.startJob({ scan: { path: ".." } }), code: grpc.status.INVALID_ARGUMENT, details: /^scan\.path: path escapes the scan root/ },
  { name: "a scan of /etc", call: (c) => c.startJob({ scan: { path: "/etc" } }), code: grpc.status.INVALID_ARGUMENT, details: /^scan\.path: path is outside the configured scan roots/ },
  { name: "a scan path with a NUL byte", call: (c) => c.startJob({ scan: { path: "a\0b" } }), code: grpc.status.INVALID_ARGUMENT, details: /^scan\.path: path must not contain NUL bytes/ },
  { name: "a scan of a missing directory", call: (c) => c.startJob({ scan: { path: "missing" } }), code: grpc.status.NOT_FOUND, details: /^scan\.path: Directory not found: missing$/ },
  { name: "a scan of a 10 KB path", call: (c) => c.startJob({ scan: { path: "a/".repeat(5_000) } }), code: grpc.status.NOT_FOUND, details: /^scan\.path: Directory not found: .{200}…$/ },
  { name: "a scan asking for 2^32-1 files", call: (c) => c.startJob({ scan: { path: ".", maxFiles: UINT32_MAX } }), code: grpc.status.INVALID_ARGUMENT, details: /^scan\.max_files: must be at most 50/ },
  { name: "GetJob without an id", call: (c) => c.getJob({ jobId: "" }), code: grpc.status.INVALID_ARGUMENT, details: /^job_id: is required/ },
  { name: "GetJob with a 10 KB id", call: (c) => c.getJob({ jobId: "j".repeat(10_240) }), code: grpc.status.NOT_FOUND, details: /^job_id: job j+ not found/ },
  { name: "GetJob with a NUL in the id", call: (c) => c.getJob({ jobId: "a\0b" }), code: grpc.status.NOT_FOUND, details: /^job_id:/ },
  { name: "ListJobs with an unknown status", call: (c) => c.listJobs({ statuses: [99] }), code: grpc.status.INVALID_ARGUMENT, details: /^statuses\[0\]: unknown job status 99/ },
  { name: "ListJobs with a negative status", call: (c) => c.listJobs({ statuses: [1, -5] }), code: grpc.status.INVALID_ARGUMENT, details: /^statuses\[1\]: unknown job status -5/ },
  { name: "ListJobs with an unknown platform", call: (c) => c.listJobs({ platforms: [2 ** 31 - 1] }), code: grpc.status.INVALID_ARGUMENT, details: /^platforms\[0\]: unknown platform/ },
  { name: "ListJobs with a forged page token", call: (c) => c.listJobs({ pageToken: "not-a-token" }), code: grpc.status.INVALID_ARGUMENT, details: /^page_token: not a token from ListJobs/ },
  { name: "ListItems with a forged page token", call: (c) => c.listItems({ jobId: "x", pageToken: "%%%" }), code: grpc.status.INVALID_ARGUMENT, details: /^page_token: not a token from ListItems/ },
  { name: "CancelJob of an unknown job", call: (c) => c.cancelJob({ jobId: "nope" }), code: grpc.status.NOT_FOUND, details: /^job_id: job nope not found/ },
  { name: "PauseJob without an id", call: (c) => c.pauseJob({ jobId: "" }), code: grpc.status.INVALID_ARGUMENT, details: /^job_id: is required/ },
  { name: "ResumeJob of an unknown job", call: (c) => c.resumeJob({ jobId: "\u202e" }), code: grpc.status.NOT_FOUND, details: /^job_id:/ },
];

describe("hostile gRPC requests against a real scraper", () => {
  let server: ScraperServer;
  let client: Client;
  let raw: grpc.Client;
  let dataDir: string;
  let scanRoot: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "trawl-hostile-grpc-"));
    scanRoot = mkdtempSync(join(tmpdir(), "trawl-hostile-grpc-scan-"));
    server = createScraperServer(
      loadConfig({
        SCRAPER_PORT: "0",
        DATA_DIR: dataDir,
        SCAN_ROOTS: scanRoot,
        SCAN_MAX_FILES: String(LIMITS.maxFiles),
        CRAWL_MAX_PAGES_LIMIT: String(LIMITS.maxPagesLimit),
        CRAWL_MAX_DEPTH: String(LIMITS.maxDepth),
      }),
    );
    const { address } = await server.listen();
    client = createClient(ScraperService, address);
    raw = new grpc.Client(address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    raw.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scanRoot, { recursive: true, force: true });
  });

  it(`refuses every out-of-range CrawlSpec with INVALID_ARGUMENT naming the field (${RUNS} generated specs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(CORRUPTIONS, { minLength: 1, maxLength: 4, selector: (c) => c.field }), async (corruptions) => {
        const spec = Object.assign({ urls: ["http://example.com/"] }, ...corruptions.map((c) => c.spec)) as Record<string, unknown>;
        const status = await statusOf(client.startJob({ crawl: spec }));
        expect(status).not.toBe("ok");
        if (status === "ok") return;
        expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
        // The first bad field in check order is the one named.
        const named = CHECK_ORDER.find((field) => corruptions.some((c) => c.field === field)) as string;
        expect(status.details.startsWith(named)).toBe(true);
        expect(status.details).toMatch(/^crawl\.[a-z_]+(\[\d+\])?: \S/);
      }),
      { numRuns: RUNS },
    );
  });

  it(`answers arbitrary bytes in place of a StartJob request with a status, never a crash (${RUNS} byte strings)`, async () => {
    const codes = new Set<grpc.status>();
    let undecoded = 0;
    // Bytes that do not decode as a StartJobRequest are refused before the handler, naming the type.
    const undecodable = /^the request is not a valid trawl\.v1\.StartJobRequest message: \S/;
    const fieldRefusal = /^(crawl|scan)(\.[a-z_]+(\[\d+\])?)?: \S/;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (bytes) => {
        const { code, details } = await new Promise<{ code: grpc.status; details: string }>((resolve) => {
          raw.makeUnaryRequest(
            "/trawl.v1.ScraperService/StartJob",
            (message: Buffer) => message,
            (message: Buffer) => message,
            Buffer.from(bytes),
            (err) => resolve(err === null ? { code: grpc.status.OK, details: "" } : { code: err.code, details: err.details }),
          );
        });
        codes.add(code);
        // Garbage that happens to decode to a valid request may start a job; anything else is refused with a reason.
        if (undecodable.test(details)) undecoded++;
        if (code !== grpc.status.OK) expect(undecodable.test(details) || fieldRefusal.test(details), details).toBe(true);
        expect([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND]).toContain(code);
      }),
      { numRuns: RUNS },
    );
    // Still serving.
    expect(await statusOf(client.getStats({}))).toBe("ok");
    expect(codes.has(grpc.status.INVALID_ARGUMENT)).toBe(true);
    expect(undecoded, "byte strings that are no StartJobRequest at all").toBeGreaterThan(0);
  });

  it(`answers hostile page tokens and job ids with a status (${RUNS} generated requests)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }), async (token, jobId) => {
        for (const status of [await statusOf(client.listJobs({ pageToken: token })), await statusOf(client.listItems({ jobId: jobId || "x", pageToken: token })), await statusOf(client.getJob({ jobId }))]) {
          if (status === "ok") continue;
          expect([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND]).toContain(status.code);
          expect(status.details).toMatch(/^(page_token|job_id): /);
        }
      }),
      { numRuns: RUNS },
    );
  });

  describe(`hostile values for every RPC (${HOSTILE_RPC_CORPUS.length} inputs)`, () => {
    it.each(HOSTILE_RPC_CORPUS)("$name", async ({ call, code, details }) => {
      const status = await statusOf(call(client));
      expect(status).toMatchObject({ code, details: expect.stringMatching(details) });
    });
  });
});
