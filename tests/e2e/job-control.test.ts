/**
 * Steering and reading jobs through the gateway's REST API against the real
 * processes: pause stops the crawl (the site sees no request while paused)
 * and resume finishes it with the site's true counts; a finished job's items
 * page, search and export as JSON, NDJSON and CSV with exactly one row per
 * successful page; embeddings are computed when asked; a directory scan
 * inside the scan root lists the files that are really there, refuses paths
 * outside it, and reports a symlink out of the root as a warning.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureSite, startFixtureSite } from "../fixture/site.js";
import { EventRecorder, scraperClient } from "../support/grpc.js";
import { getJson, postJson } from "../support/http.js";
import { startScrape, truthFor } from "../support/jobs.js";
import type { JobView } from "../support/seed000.js";
import { type GatewayProcess, type ScraperProcess, startGateway, startScraper } from "../support/stack.js";
import { sleep } from "../support/wait.js";
import { type Frame, RecordingClient } from "../support/ws-client.js";

let site: FixtureSite;
let scanRoot: string;
let dataDir: string;
let scraper: ScraperProcess;
let gateway: GatewayProcess;
let client: RecordingClient;

beforeAll(async () => {
  // 20 ms a page: long enough to pause mid-way, short enough to finish quickly.
  site = await startFixtureSite({ pageLatencyMs: 20 });
  dataDir = mkdtempSync(join(tmpdir(), "trawl-control-"));
  scanRoot = mkdtempSync(join(tmpdir(), "trawl-scan-root-"));
  mkdirSync(join(scanRoot, "docs", "nested"), { recursive: true });
  writeFileSync(join(scanRoot, "docs", "report.pdf"), Buffer.alloc(1000));
  writeFileSync(join(scanRoot, "docs", "notes.TXT"), "hello");
  writeFileSync(join(scanRoot, "docs", "nested", "data.csv"), "a,b\n1,2\n");
  symlinkSync("/etc", join(scanRoot, "docs", "escape"));
  scraper = await startScraper({ DATA_DIR: dataDir, SCAN_ROOTS: scanRoot, CRAWL_CONCURRENCY: "4" });
  gateway = await startGateway([scraper.address]);
  client = await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`);
});

afterAll(async () => {
  await client?.close();
  await gateway?.stop();
  await scraper?.stop();
  await site?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(scanRoot, { recursive: true, force: true });
});

/** RFC 4180 records in `body` (CRLF outside quotes ends one); the header counts as one. */
function csvRecordCount(body: string): number {
  let records = 0;
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '"') quoted = !quoted;
    else if (!quoted && body[i] === "\r" && body[i + 1] === "\n") records++;
  }
  return records;
}

const views = (jobId: string): JobView[] => client.forJob(jobId).filter((frame: Frame) => frame.type === "progress").map((frame) => frame.data as JobView);
const completeOf = (jobId: string) => (frame: Frame) => frame.type === "job_complete" && (frame.data as { job_id: string }).job_id === jobId;

describe("pause and resume", () => {
  it("stops requesting pages while paused and finishes with the true counts after resume", async () => {
    const plan = { path: "/", depth: 10, platform: "web" as const };
    const truth = truthFor(site, plan);
    const { job_id: jobId } = await startScrape(gateway, site, plan);
    await client.waitUntil("some pages done", () => views(jobId).some((view) => view.items_scraped >= 40));

    const paused = await postJson<{ status: string }>(`${gateway.url}/api/jobs/${jobId}/pause`, {});
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body.status).toBe("paused");
    await client.waitUntil("a paused progress frame", () => views(jobId).some((view) => view.status === "paused"));
    expect((await postJson(`${gateway.url}/api/jobs/${jobId}/pause`, {})).status, "pausing twice").toBe(409);

    // Pages in flight when the pause arrived may still land; after that, silence.
    await sleep(1_000);
    const quietFrom = site.requests.length;
    await sleep(1_500);
    expect(site.requests.length - quietFrom, "requests while paused").toBe(0);
    const polled = await getJson<{ status: string }>(`${gateway.url}/ws/scraping/${jobId}/status`);
    expect(polled.body.status).toBe("paused");

    const resumed = await postJson<{ status: string }>(`${gateway.url}/api/jobs/${jobId}/resume`, {});
    expect(resumed.status, resumed.text).toBe(200);
    const end = await client.waitForFrame("job_complete after resume", completeOf(jobId), { timeoutMs: 120_000 });
    expect(end.data).toMatchObject({ total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });
  });
});

describe("items and export", () => {
  let jobId: string;
  let successes: number;

  beforeAll(async () => {
    const plan = { path: "/", depth: 2, platform: "web" as const };
    successes = truthFor(site, plan).successCount;
    ({ job_id: jobId } = await startScrape(gateway, site, plan, { extract_embeddings: true }));
    await client.waitForFrame("job_complete", completeOf(jobId), { timeoutMs: 60_000 });
  });

  it("pages through every item once and searches them", async () => {
    const ids: string[] = [];
    let token = "";
    for (;;) {
      const page = await getJson<{ total: number; items: Array<{ id: string; title?: string; embedding?: number[] }>; next_page_token: string | null }>(
        `${gateway.url}/api/jobs/${jobId}/items?page_size=7&page_token=${token}`,
      );
      expect(page.status, page.text).toBe(200);
      expect(page.body.total).toBe(successes);
      ids.push(...page.body.items.map((item) => item.id));
      if (page.body.next_page_token === null) break;
      token = page.body.next_page_token;
    }
    expect(ids).toHaveLength(successes);
    expect(new Set(ids).size).toBe(successes);

    const home = await getJson<{ total: number; items: Array<{ title?: string }> }>(`${gateway.url}/api/jobs/${jobId}/items?q=${encodeURIComponent("fixture works - home")}`);
    expect(home.body.total).toBe(1);
    expect(home.body.items[0]?.title).toBe("Trawl Fixture Works - Home");
  });

  it("computes a 256-dimension embedding per item when the job asked for them", async () => {
    const page = await getJson<{ items: Array<{ embedding?: number[] }> }>(`${gateway.url}/api/jobs/${jobId}/items?page_size=3&embeddings=true`);
    expect(page.body.items).toHaveLength(3);
    for (const item of page.body.items) {
      expect(item.embedding).toHaveLength(256);
      const norm = Math.sqrt((item.embedding ?? []).reduce((sum, x) => sum + x * x, 0));
      expect(norm).toBeCloseTo(1, 3);
    }
  });

  it.each([
    { format: "json", type: /^application\/json/, count: (body: string) => (JSON.parse(body) as unknown[]).length },
    { format: "ndjson", type: /^application\/x-ndjson/, count: (body: string) => body.trimEnd().split("\n").length },
    { format: "csv", type: /^text\/csv/, count: (body: string) => csvRecordCount(body) - 1 },
  ])("exports every item as $format", async ({ format, type, count }) => {
    const response = await fetch(`${gateway.url}/api/jobs/${jobId}/export?format=${format}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(type);
    expect(response.headers.get("content-disposition")).toContain(`trawl-${jobId}.${format}`);
    expect(count(await response.text())).toBe(successes);
  });
});

describe("directory scans", () => {
  it("lists the files inside the scan root and warns about a symlink out of it", async () => {
    const grpc = scraperClient(scraper.address);
    const log = EventRecorder.watch(grpc, {});
    try {
      const started = await postJson<{ job_id: string; path: string }>(`${gateway.url}/api/scan`, { path: "docs", recursive: true });
      expect(started.status, started.text).toBe(200);
      const jobId = started.body.job_id;
      await log.waitForTerminal(jobId, { timeoutMs: 30_000 });
      const events = log.events.filter((event) => event.jobId === jobId);
      expect(events.at(-1)?.kind.case).toBe("completed");
      const result = events.find((event) => event.kind.case === "scanCompleted");
      expect(result?.kind.case).toBe("scanCompleted");
      if (result?.kind.case !== "scanCompleted") return;
      const files = result.kind.value.files.map((file) => ({ path: file.path, size: Number(file.size), extension: file.extension }));
      expect(files.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
        { path: "/docs/nested/data.csv", size: 8, extension: ".csv" },
        { path: "/docs/notes.TXT", size: 5, extension: ".txt" },
        { path: "/docs/report.pdf", size: 1000, extension: ".pdf" },
      ]);
      expect(result.kind.value.count).toBe(3);
      expect(Number(result.kind.value.totalSize)).toBe(1013);
      expect(result.kind.value.warnings.some((warning) => warning.includes("escape"))).toBe(true);
      expect(events.some((event) => event.kind.case === "scanProgress")).toBe(true);
    } finally {
      await log.cancel();
      grpc.close();
    }
  });

  it.each([
    { name: "a .. escape", path: "docs/../../etc" },
    { name: "an absolute path outside every root", path: "/etc" },
    { name: "a symlink out of the root", path: "docs/escape" },
    { name: "a NUL byte", path: "docs\u0000/x" },
  ])("refuses $name with 400 naming path", async ({ path }) => {
    const response = await postJson<{ error: string; field: string }>(`${gateway.url}/api/scan`, { path });
    expect(response.status, response.text).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.body.field).toBe("path");
  });
});
