import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  createClient,
  ExportFormat,
  JobStatus,
  Platform,
  ScraperService,
  type ExportItemsResponse,
  type ServiceClient,
  type WatchEventsResponse,
} from "@trawl/proto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../config.js";
import { createScraperServer, type ScraperServer } from "../server.js";
import { healthCheck, SERVING } from "../test-support/health-check.js";
import { htmlPages, linkPage, startSite, type Site } from "../test-support/http-site.js";
import { encodePageToken } from "./page-token.js";

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

/** Collects a WatchEvents stream until `until` says stop (then cancels it) or the server ends it. */
function collect(stream: grpc.ClientReadableStream<WatchEventsResponse>, until: (all: WatchEventsResponse[]) => boolean): Promise<WatchEventsResponse[]> {
  const all: WatchEventsResponse[] = [];
  return new Promise((resolve, reject) => {
    stream.on("data", (msg: WatchEventsResponse) => {
      all.push(msg);
      if (until(all)) {
        stream.cancel();
        resolve(all);
      }
    });
    stream.on("error", (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? resolve(all) : reject(err)));
    stream.on("end", () => resolve(all));
  });
}

const isTerminalEvent = (m: WatchEventsResponse) =>
  m.message.case === "event" && ["completed", "failed", "cancelled"].includes(m.message.value.kind.case ?? "");

describe("ScraperService over a real grpc-js server", () => {
  let site: Site;
  let server: ScraperServer;
  let client: Client;
  let address: string;

  beforeAll(async () => {
    site = await startSite(htmlPages({ "/": linkPage("home", ["/a", "/b"]), "/a": linkPage("a", []), "/b": linkPage("b", []) }));
    server = createScraperServer(loadConfig({
      SCRAPER_PORT: "0",
      DATA_DIR: mkdtempSync(join(tmpdir(), "trawl-handlers-")),
      PROGRESS_INTERVAL_MS: "0",
      CRAWL_MAX_DEPTH: "3",
      CRAWL_MAX_PAGES_LIMIT: "500",
      CRAWL_ALLOW_ADDRESSES: "127.0.0.1",
      CRAWL_PER_HOST_DELAY_MS: "0",
    }));
    ({ address } = await server.listen());
    client = createClient(ScraperService, address);
  });
  afterAll(async () => {
    client.close();
    await server.close();
    await site.close();
  });

  describe("StartJob validation", () => {
    it.each<[string, Record<string, unknown>, string]>([
      ["a missing crawl spec", {}, "crawl: one of crawl or scan is required"],
      ["no URLs", { crawl: { urls: [] } }, "crawl.urls: must contain at least one URL"],
      ["an ftp URL", { crawl: { urls: ["ftp://example.com/"] } }, "crawl.urls[0]: must be an http or https URL"],
      ["an unparseable second URL", { crawl: { urls: ["http://example.com/", "http://exa mple.com/"] } }, "crawl.urls[1]: must be an http or https URL"],
      ["a relative URL", { crawl: { urls: ["/just/a/path"] } }, "crawl.urls[0]: must be an http or https URL"],
      ["a depth over the limit", { crawl: { urls: ["http://example.com/"], depth: 4 } }, "crawl.depth: must be at most 3"],
      ["too many pages", { crawl: { urls: ["http://example.com/"], maxPages: 501 } }, "crawl.max_pages: must be at most 500"],
      ["too much concurrency", { crawl: { urls: ["http://example.com/"], concurrency: 1000 } }, "crawl.concurrency: must be at most 256"],
      ["an unknown platform", { crawl: { urls: ["http://example.com/"], platform: 42 } }, "crawl.platform: unknown platform 42"],
    ])("rejects %s with INVALID_ARGUMENT naming the field", async (_name, request, details) => {
      await expectStatus(client.startJob(request), grpc.status.INVALID_ARGUMENT, details);
    });
  });

  it("starts a job, reports it RUNNING at once and streams it to its terminal event", async () => {
    const { job, estimatedTimeSeconds } = await client.startJob({ crawl: { urls: [`${site.origin}/`], depth: 1 } });
    expect(job).toMatchObject({ status: JobStatus.RUNNING, platform: Platform.WEB, lastSeq: 2n });
    expect(job?.spec).toMatchObject({ maxPages: 500, concurrency: 8, requestTimeoutMs: 10_000, maxDurationMs: 600_000 });
    expect(estimatedTimeSeconds).toBeGreaterThan(0);
    const id = job?.id ?? "";

    const messages = await collect(client.watchEvents({ jobId: id }), (all) => all.some(isTerminalEvent));
    const events = messages.flatMap((m) => (m.message.case === "event" ? [m.message.value] : []));
    expect(events.every((e) => e.jobId === id)).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => BigInt(i + 1)));
    expect(events.at(-1)?.kind.case).toBe("completed");

    const { job: done } = await client.getJob({ jobId: id });
    expect(done).toMatchObject({ status: JobStatus.COMPLETED, lastSeq: BigInt(events.length) });
    expect(done?.counters).toMatchObject({ pagesDone: 3, pagesTotal: 3, successCount: 3, items: 3 });
    expect(done?.finishedAt).toBeDefined();

    await expectStatus(client.cancelJob({ jobId: id }), grpc.status.FAILED_PRECONDITION, /already ended/);

    const stats = await client.getStats({});
    expect(stats.activeJobs).toBe(0);
    expect(stats.platforms.find((p) => p.platform === Platform.WEB)).toMatchObject({ pages: 3n, successCount: 3n, totalItems: 3n });
  });

  it("resumes a watch after an offset without repeating events", async () => {
    const { job } = await client.startJob({ crawl: { urls: [`${site.origin}/a`] } });
    const id = job?.id ?? "";
    await server.jobs.whenDone(id);
    const first = await collect(client.watchEvents({ jobId: id }), (all) => all.some(isTerminalEvent));
    const offsets = first.map((m) => (m.message.case === "event" ? m.message.value.offset : 0n));
    const resumeAfter = offsets[2] ?? 0n;
    const rest = await collect(client.watchEvents({ jobId: id, afterOffset: resumeAfter }), (all) => all.some(isTerminalEvent));
    expect(rest.map((m) => (m.message.case === "event" ? m.message.value.offset : 0n))).toEqual(offsets.slice(3));
  });

  it.each([
    ["GetJob", (c: Client) => c.getJob({ jobId: "no-such-job" })],
    ["CancelJob", (c: Client) => c.cancelJob({ jobId: "no-such-job" })],
  ])("%s of an unknown job is NOT_FOUND", async (_name, call) => {
    await expectStatus(call(client), grpc.status.NOT_FOUND, /job_id/);
  });

  it.each([
    ["GetJob", (c: Client) => c.getJob({ jobId: "" })],
    ["CancelJob", (c: Client) => c.cancelJob({ jobId: "" })],
  ])("%s without a job id is INVALID_ARGUMENT", async (_name, call) => {
    await expectStatus(call(client), grpc.status.INVALID_ARGUMENT, "job_id: is required");
  });

  it("lists jobs newest first, a page at a time, filtered by status", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { job } = await client.startJob({ crawl: { urls: [`${site.origin}/b`] } });
      ids.push(job?.id ?? "");
    }
    for (const id of ids) await server.jobs.whenDone(id);
    const first = await client.listJobs({ pageSize: 2 });
    expect(first.jobs.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextPageToken).not.toBe("");
    const second = await client.listJobs({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.jobs[0]?.id).toBe(ids[0]);

    const everything = await client.listJobs({ pageSize: 500 });
    expect(everything.nextPageToken).toBe("");
    const running = await client.listJobs({ statuses: [JobStatus.RUNNING] });
    expect(running.jobs).toEqual([]);
    const completed = await client.listJobs({ statuses: [JobStatus.COMPLETED], pageSize: 1000 });
    expect(completed.jobs.length).toBe(everything.jobs.length);
  });

  it.each([
    ["garbage", "not a token!"],
    ["a base64 string that is not ours", Buffer.from("hello").toString("base64url")],
  ])("rejects a %s page token with INVALID_ARGUMENT", async (_name, pageToken) => {
    await expectStatus(client.listJobs({ pageToken }), grpc.status.INVALID_ARGUMENT, /^page_token:/);
  });

  it("accepts its own page tokens", async () => {
    expect((await client.listJobs({ pageToken: encodePageToken(0) })).jobs).toEqual([]);
  });

  it("filters the list by platform and creation time", async () => {
    const before = Date.now();
    const { job: reddit } = await client.startJob({ crawl: { urls: [`${site.origin}/b`], platform: Platform.REDDIT } });
    const { job: web } = await client.startJob({ crawl: { urls: [`${site.origin}/b`], platform: Platform.WEB } });
    for (const job of [reddit, web]) await server.jobs.whenDone(job?.id ?? "");
    const ids = (response: { jobs: Array<{ id: string }> }) => response.jobs.map((j) => j.id);
    const recent = { createdAfter: timestampFromMs(before), pageSize: 500 };
    expect(ids(await client.listJobs({ ...recent, platforms: [Platform.REDDIT] }))).toEqual([reddit?.id]);
    expect(ids(await client.listJobs(recent))).toEqual([web?.id, reddit?.id]);
    expect(ids(await client.listJobs({ createdBefore: timestampFromMs(before), pageSize: 500 }))).not.toContain(web?.id);
    expect(ids(await client.listJobs({ createdAfter: timestampFromMs(Date.now() + 60_000) }))).toEqual([]);
  });

  it("rejects an unknown platform filter", async () => {
    await expectStatus(client.listJobs({ platforms: [Platform.WEB, 42 as Platform] }), grpc.status.INVALID_ARGUMENT, /^platforms\[1\]/);
  });

  it("rejects an unknown status filter", async () => {
    await expectStatus(client.listJobs({ statuses: [JobStatus.COMPLETED, 99 as JobStatus] }), grpc.status.INVALID_ARGUMENT, /^statuses\[1\]/);
  });

  it("reports SERVING on the standard health service, overall and for ScraperService", async () => {
    const check = (service: string) => healthCheck(address, service);
    expect(await check("")).toBe(SERVING);
    expect(await check("trawl.v1.ScraperService")).toBe(SERVING);
    await expectStatus(check("no.such.Service"), grpc.status.NOT_FOUND);
  });

  it("lists trawl.v1.ScraperService through server reflection", async () => {
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    const call = raw.makeBidiStreamRequest(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      // ServerReflectionRequest { list_services = 7 }
      (listServices: string) => Buffer.from(new BinaryWriter().tag(7, WireType.LengthDelimited).string(listServices).finish()),
      // ServerReflectionResponse { list_services_response = 6 { repeated service = 1 { name = 1 } } }
      (bytes: Buffer) => {
        const names: string[] = [];
        const reader = new BinaryReader(bytes);
        while (reader.pos < reader.len) {
          const [field, wire] = reader.tag();
          if (field !== 6) {
            reader.skip(wire);
            continue;
          }
          const list = new BinaryReader(reader.bytes());
          while (list.pos < list.len) {
            const [f, w] = list.tag();
            if (f !== 1) {
              list.skip(w);
              continue;
            }
            const service = new BinaryReader(list.bytes());
            while (service.pos < service.len) {
              const [sf, sw] = service.tag();
              if (sf === 1) names.push(service.string());
              else service.skip(sw);
            }
          }
        }
        return names;
      },
    );
    const names = await new Promise<string[]>((resolve, reject) => {
      call.on("data", (data: string[]) => resolve(data));
      call.on("error", reject);
      call.write("*");
    });
    call.end();
    raw.close();
    expect(names).toContain("trawl.v1.ScraperService");
  });
  it("lists a job's stored items a page at a time, and exports them as JSON, NDJSON and CSV", async () => {
    const { job } = await client.startJob({ crawl: { urls: [`${site.origin}/`], depth: 1 } });
    const jobId = job?.id ?? "";
    await collect(client.watchEvents({ jobId }), (all) => all.some(isTerminalEvent));

    const first = await client.listItems({ jobId, pageSize: 2 });
    expect(first.total).toBe(3);
    expect(first.items).toHaveLength(2);
    expect(first.nextPageToken).not.toBe("");
    const second = await client.listItems({ jobId, pageSize: 2, pageToken: first.nextPageToken });
    expect(second.items).toHaveLength(1);
    expect(second.nextPageToken).toBe("");
    const urls = [...first.items, ...second.items].map((item) => item.url).sort();
    expect(urls).toEqual([`${site.origin}/`, `${site.origin}/a`, `${site.origin}/b`]);
    const filtered = await client.listItems({ jobId, query: "HOME" });
    expect(filtered.items.map((item) => item.title)).toEqual(["home"]);

    const exported = async (format: ExportFormat): Promise<string> => {
      const chunks: Buffer[] = [];
      const stream = client.exportItems({ jobId, format });
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (m: ExportItemsResponse) => chunks.push(Buffer.from(m.data)));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      return Buffer.concat(chunks).toString("utf8");
    };
    const json = JSON.parse(await exported(ExportFormat.JSON)) as Array<{ url: string }>;
    expect(json.map((item) => item.url).sort()).toEqual(urls);
    const lines = (await exported(ExportFormat.NDJSON)).trim().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as { url: string }).url).sort()).toEqual(urls);
    const rows = (await exported(ExportFormat.CSV)).trim().split("\r\n");
    expect(rows).toHaveLength(4);
    expect(rows[0]).toContain("url");
  });

  it.each<[string, () => Promise<unknown>, grpc.status, RegExp]>([
    ["ListItems of an unknown job", () => client.listItems({ jobId: "nope" }), grpc.status.NOT_FOUND, /job_id/],
    ["ListItems with a foreign token", () => client.listItems({ jobId: "nope", pageToken: encodePageToken(3) }), grpc.status.INVALID_ARGUMENT, /^page_token: /],
    ["PauseJob of an unknown job", () => client.pauseJob({ jobId: "nope" }), grpc.status.NOT_FOUND, /job_id/],
    ["ResumeJob of an unknown job", () => client.resumeJob({ jobId: "nope" }), grpc.status.NOT_FOUND, /job_id/],
  ])("refuses %s", async (_name, call, code, details) => {
    await expectStatus(call(), code, details);
  });

  it.each<[string, ExportFormat, grpc.status]>([
    ["an unknown job", ExportFormat.JSON, grpc.status.NOT_FOUND],
    ["an unspecified format", ExportFormat.UNSPECIFIED, grpc.status.INVALID_ARGUMENT],
  ])("ExportItems refuses %s", async (_name, format, code) => {
    const stream = client.exportItems({ jobId: "nope", format });
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      stream.on("error", resolve);
      stream.on("data", () => undefined);
    });
    expect(err.code).toBe(code);
  });

  it("pauses a running job and resumes it; pausing an ended job fails", async () => {
    // "/gate" answers only when the test lets it, so the job is provably running
    // (one fetch in flight, /c and /d queued behind it at concurrency 1) when
    // PauseJob arrives.
    const requested: string[] = [];
    let release: () => void = () => undefined;
    const gated = await startSite((req, res) => {
      requested.push(req.url ?? "");
      const answer = () => res.writeHead(200, { "content-type": "text/html" }).end(linkPage(req.url ?? "", req.url === "/" ? ["/gate", "/c", "/d"] : []));
      if (req.url === "/gate") release = answer;
      else answer();
    });
    try {
      const { job } = await client.startJob({ crawl: { urls: [`${gated.origin}/`], depth: 1, concurrency: 1, ignoreRobots: true } });
      const jobId = job?.id ?? "";
      await vi.waitFor(() => expect(requested).toContain("/gate"));

      const paused = await client.pauseJob({ jobId });
      expect(paused.job?.status).toBe(JobStatus.PAUSED);
      await expectStatus(client.pauseJob({ jobId }), grpc.status.FAILED_PRECONDITION, /not running/);
      release();
      // The page in flight lands and counts; nothing queued is fetched while paused.
      await vi.waitFor(async () => expect((await client.getJob({ jobId })).job?.counters?.pagesDone).toBe(2));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(requested).not.toContain("/c");

      const resumed = await client.resumeJob({ jobId });
      expect(resumed.job?.status).toBe(JobStatus.RUNNING);
      const events = (await collect(client.watchEvents({ jobId }), (all) => all.some(isTerminalEvent))).flatMap((m) =>
        m.message.case === "event" ? [m.message.value] : [],
      );
      const kinds = events.map((e) => e.kind.case);
      expect(kinds.at(-1)).toBe("completed");
      expect(kinds.indexOf("paused")).toBeLessThan(kinds.indexOf("resumed"));
      expect(events.find((e) => e.kind.case === "resumed")?.kind).toMatchObject({ value: { recovered: false } });
      expect(requested.filter((path) => path === "/c" || path === "/d")).toHaveLength(2);
      await expectStatus(client.pauseJob({ jobId }), grpc.status.FAILED_PRECONDITION, /not running/);
      await expectStatus(client.resumeJob({ jobId }), grpc.status.FAILED_PRECONDITION, /not paused/);
    } finally {
      await gated.close();
    }
  });

});
