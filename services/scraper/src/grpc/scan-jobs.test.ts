import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createClient, JobKind, JobStatus, Platform, ScraperService, type JobEvent, type ServiceClient, type WatchEventsResponse } from "@trawl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { createScraperServer, type ScraperServer } from "../server.js";

type Client = ServiceClient<typeof ScraperService>;

async function expectStatus(call: Promise<unknown>, code: grpc.status, details?: string | RegExp): Promise<void> {
  const err = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as grpc.ServiceError | undefined;
  expect(err, "the call should have failed").toBeDefined();
  expect(err?.code).toBe(code);
  if (details !== undefined) expect(err?.details).toMatch(details);
}

const isTerminal = (event: JobEvent) => ["completed", "failed", "cancelled"].includes(event.kind.case ?? "");

/**
 * Watches one job's events until its terminal event; `onEvent` sees each
 * one as it arrives (to act mid-scan).
 */
function watchJob(client: Client, jobId: string, onEvent?: (event: JobEvent) => void): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  const stream = client.watchEvents({ jobId });
  return new Promise((resolve, reject) => {
    stream.on("data", (msg: WatchEventsResponse) => {
      if (msg.message.case !== "event") return;
      const event = msg.message.value;
      events.push(event);
      onEvent?.(event);
      if (isTerminal(event)) {
        stream.cancel();
        resolve(events);
      }
    });
    stream.on("error", (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? resolve(events) : reject(err)));
    stream.on("end", () => resolve(events));
  });
}

function startServer(env: Record<string, string>): ScraperServer {
  return createScraperServer(
    loadConfig({
      SCRAPER_PORT: "0",
      DATA_DIR: mkdtempSync(join(tmpdir(), "trawl-scan-jobs-")),
      PROGRESS_INTERVAL_MS: "0",
      ...env,
    }),
  );
}

describe("directory scan jobs over a real grpc-js server", () => {
  let root: string;
  let server: ScraperServer;
  let client: Client;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "trawl-scan-root-"));
    mkdirSync(join(root, "docs", "nested"), { recursive: true });
    writeFileSync(join(root, "docs", "report.pdf"), Buffer.alloc(1000));
    writeFileSync(join(root, "docs", "notes.TXT"), "hello");
    writeFileSync(join(root, "docs", "nested", "data.csv"), "a,b\n1,2\n");
    symlinkSync("/etc", join(root, "docs", "escape"));
    // Big enough that a scan is still running when its first progress report has been seen.
    for (let d = 0; d < 30; d++) {
      const dir = join(root, "big", `d${d}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(dir, `f${f}.txt`), "x");
    }
    server = startServer({ SCAN_ROOTS: root });
    const { address } = await server.listen();
    client = createClient(ScraperService, address);
  });
  afterAll(async () => {
    client.close();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("scans a directory: JobStarted, ScanProgress and JobProgress, ScanCompleted with the files, a final JobProgress, JobCompleted", async () => {
    const before = Date.now();
    const started = await client.startJob({ scan: { path: "docs", recursive: true } });
    const job = started.job;
    expect(job?.kind).toBe(JobKind.SCAN);
    expect(job?.status).toBe(JobStatus.RUNNING);
    expect(job?.platform).toBe(Platform.UNSPECIFIED);
    expect(job?.spec).toBeUndefined();
    expect(job?.scan?.path).toBe("docs");
    expect(job?.scan?.recursive).toBe(true);
    expect(job?.scan?.maxFiles).toBeGreaterThan(0);
    const jobId = job?.id ?? "";

    const events = await watchJob(client, jobId);
    const kinds = events.map((e) => e.kind.case);
    expect(kinds[0]).toBe("started");
    expect(kinds.slice(-3)).toEqual(["scanCompleted", "progress", "completed"]);
    // Every ScanProgress is followed by its JobProgress.
    const middle = kinds.slice(1, -3);
    expect(middle.length).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < middle.length; i += 2) expect(middle.slice(i, i + 2)).toEqual(["scanProgress", "progress"]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => BigInt(i + 1)));

    const progress = events.filter((e) => e.kind.case === "scanProgress").map((e) => (e.kind.case === "scanProgress" ? e.kind.value : undefined));
    const last = progress.at(-1);
    // docs holds report.pdf, notes.TXT, nested/, escape (a symlink) and nested/data.csv.
    expect(last?.scanned).toBe(5);
    expect(last?.total).toBe(5);
    expect(last?.currentPath).toMatch(/^\/docs\//);
    const jobProgress = events[kinds.indexOf("scanProgress") + 1];
    expect(jobProgress?.kind.case === "progress" && jobProgress.kind.value.counters?.files).toBe(progress[0]?.scanned);

    const completed = events.find((e) => e.kind.case === "scanCompleted");
    if (completed?.kind.case !== "scanCompleted") throw new Error("no ScanCompleted");
    const result = completed.kind.value;
    expect(result.files.map((f) => ({ path: f.path, size: Number(f.size), extension: f.extension }))).toEqual([
      { path: "/docs/nested/data.csv", size: 8, extension: ".csv" },
      { path: "/docs/notes.TXT", size: 5, extension: ".txt" },
      { path: "/docs/report.pdf", size: 1000, extension: ".pdf" },
    ]);
    for (const file of result.files) {
      const modified = file.modified === undefined ? 0 : timestampDate(file.modified).getTime();
      expect(modified).toBeGreaterThan(before - 60_000);
      expect(modified).toBeLessThanOrEqual(Date.now());
    }
    expect(result.count).toBe(3);
    expect(result.totalSize).toBe(1013n);
    expect(result.warnings).toEqual(["Skipped symlink outside root: /docs/escape"]);

    const final = events.at(-2);
    expect(final?.kind.case === "progress" && final.kind.value.counters).toMatchObject({
      pagesDone: 3,
      pagesTotal: 3,
      successCount: 3,
      files: 3,
      totalSize: 1013n,
    });
    const end = events.at(-1);
    if (end?.kind.case !== "completed") throw new Error("no JobCompleted");
    expect(end.kind.value.counters).toMatchObject({ pagesDone: 3, files: 3, totalSize: 1013n });

    const stored = await client.getJob({ jobId });
    expect(stored.job?.status).toBe(JobStatus.COMPLETED);
    expect(stored.job?.kind).toBe(JobKind.SCAN);
    expect(stored.job?.counters?.files).toBe(3);
    // A scan counts in no platform's statistics.
    const stats = await client.getStats({});
    expect(stats.platforms.map((p) => p.platform)).not.toContain(Platform.UNSPECIFIED);
  });

  it("refuses both crawl and scan, and neither", async () => {
    await expectStatus(
      client.startJob({ crawl: { urls: ["http://127.0.0.1:1/"] }, scan: { path: "docs" } }),
      grpc.status.INVALID_ARGUMENT,
      "crawl: give either crawl or scan, not both",
    );
    await expectStatus(client.startJob({}), grpc.status.INVALID_ARGUMENT, "crawl: one of crawl or scan is required");
  });

  it.each([
    { name: "a .. escape", path: "docs/../../etc" },
    { name: "an absolute path outside every root", path: "/etc" },
    { name: "a symlink out of the root", path: "docs/escape" },
    { name: "an empty path", path: "" },
  ])("refuses $name with INVALID_ARGUMENT naming scan.path", async ({ path }) => {
    await expectStatus(client.startJob({ scan: { path } }), grpc.status.INVALID_ARGUMENT, /^scan\.path: /);
  });

  it("refuses a file limit above SCAN_MAX_FILES naming scan.max_files", async () => {
    await expectStatus(client.startJob({ scan: { path: "docs", maxFiles: 1_000_000 } }), grpc.status.INVALID_ARGUMENT, /^scan\.max_files: /);
  });

  it("answers NOT_FOUND for a missing directory", async () => {
    await expectStatus(client.startJob({ scan: { path: "docs/missing" } }), grpc.status.NOT_FOUND, /^scan\.path: Directory not found/);
  });

  it("cancels a scan mid-way: it ends CANCELLED with its counts so far", async () => {
    const started = await client.startJob({ scan: { path: "big", recursive: true } });
    const jobId = started.job?.id ?? "";
    let cancelled: Promise<unknown> | undefined;
    const events = await watchJob(client, jobId, (event) => {
      if (event.kind.case === "scanProgress" && cancelled === undefined) cancelled = client.cancelJob({ jobId, reason: "enough" });
    });
    const reply = (await cancelled) as { job?: { status: JobStatus } } | undefined;
    expect(reply?.job?.status).toBe(JobStatus.CANCELLED);
    const kinds = events.map((e) => e.kind.case);
    expect(kinds).not.toContain("scanCompleted");
    expect(kinds.slice(-2)).toEqual(["progress", "cancelled"]);
    const end = events.at(-1);
    if (end?.kind.case !== "cancelled") throw new Error("no JobCancelled");
    expect(end.kind.value.reason).toBe("enough");
    expect(end.kind.value.counters?.files).toBeGreaterThan(0);
    expect(end.kind.value.counters?.files).toBeLessThan(3000);
    expect((await client.getJob({ jobId })).job?.status).toBe(JobStatus.CANCELLED);
  });

  it("refuses to pause or resume a scan", async () => {
    const started = await client.startJob({ scan: { path: "big", recursive: true } });
    const jobId = started.job?.id ?? "";
    await expectStatus(client.pauseJob({ jobId }), grpc.status.FAILED_PRECONDITION, /scans cannot be paused/);
    await expectStatus(client.resumeJob({ jobId }), grpc.status.FAILED_PRECONDITION, /scans cannot be paused/);
    const events = await watchJob(client, jobId);
    expect(events.map((e) => e.kind.case)).not.toContain("paused");
  });
});

describe("a scan running when the scraper stops", () => {
  it("runs again from the start on the next start, JobResumed{recovered} first", async () => {
    const root = mkdtempSync(join(tmpdir(), "trawl-scan-restart-"));
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(root, `d${d}`));
      for (let f = 0; f < 100; f++) writeFileSync(join(root, `d${d}`, `f${f}.txt`), "x");
    }
    const env = { SCAN_ROOTS: root, DATA_DIR: mkdtempSync(join(tmpdir(), "trawl-scan-restart-data-")) };
    try {
      const first = startServer(env);
      const client1 = createClient(ScraperService, (await first.listen()).address);
      const jobId = (await client1.startJob({ scan: { path: root, recursive: true } })).job?.id ?? "";
      client1.close();
      await first.close();

      const again = startServer(env);
      const client2 = createClient(ScraperService, (await again.listen()).address);
      try {
        const events = await watchJob(client2, jobId);
        const kinds = events.map((e) => e.kind.case);
        expect(kinds[0]).toBe("started");
        const resumed = events.find((e) => e.kind.case === "resumed");
        expect(resumed?.kind.case === "resumed" && resumed.kind.value.recovered).toBe(true);
        expect(kinds.slice(-3)).toEqual(["scanCompleted", "progress", "completed"]);
        const result = events.at(-3);
        expect(result?.kind.case === "scanCompleted" && result.kind.value.count).toBe(2000);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => BigInt(i + 1)));
        expect((await client2.getJob({ jobId })).job?.status).toBe(JobStatus.COMPLETED);
      } finally {
        client2.close();
        await again.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("directory scans without SCAN_ROOTS", () => {
  it("answers FAILED_PRECONDITION", async () => {
    const server = startServer({});
    const { address } = await server.listen();
    const client = createClient(ScraperService, address);
    try {
      await expectStatus(client.startJob({ scan: { path: "/tmp" } }), grpc.status.FAILED_PRECONDITION, /^scan\.path: no scan roots configured/);
    } finally {
      client.close();
      await server.close();
    }
  });
});
