/**
 * Cancelling a crawl mid-way, through the gateway's REST endpoint and through
 * the scraper's gRPC CancelJob: the crawl stops, the job ends cancelled, and
 * every count (frames, GetJob, the event log) is the true count of pages
 * that were actually processed.
 */
import { create } from "@bufbuild/protobuf";
import { status as grpcStatus } from "@grpc/grpc-js";
import { CrawlSpecSchema, JobStatus, Platform } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { EventRecorder, expectGrpcError, isTerminalEvent, scraperClient } from "../support/grpc.js";
import { getJson, postJson } from "../support/http.js";
import { startScrape, truthFor } from "../support/jobs.js";
import { expectJobStream, type JobView } from "../support/seed000.js";
import { useStack } from "../support/suite.js";
import { sleep, waitFor } from "../support/wait.js";
import { RecordingClient } from "../support/ws-client.js";

// 404 pages at 100 ms each, two at a time: a crawl that takes far longer than it takes to cancel it.
const suite = useStack({ site: { pageLatencyMs: 100 } });

interface CancelledJob {
  readonly jobId: string;
  readonly client: RecordingClient;
  readonly finalView: JobView;
  readonly errorMessage: string;
}

/** Checks the cancelled job's frames, GetJob and event log agree with what was really processed. */
async function expectTrueCancelledCounts(jobId: string, client: RecordingClient): Promise<CancelledJob> {
  const { site, scraper } = suite.stack;
  const truth = truthFor(site, { path: "/", depth: 10, platform: "web" });
  await client.waitForFrame(`job_error of ${jobId}`, (frame) => frame.type === "job_error" && (frame.data as { job_id: string }).job_id === jobId);
  const frames = expectJobStream(client.forJob(jobId), jobId, "web");
  expect(frames.terminal.type).toBe("job_error");
  const cancelledProgress = frames.all.at(-2);
  expect(cancelledProgress?.type, "progress(status cancelled) right before job_error").toBe("progress");
  const finalView = cancelledProgress?.data as JobView;
  expect(finalView.status).toBe("cancelled");
  expect(finalView.items_scraped, "cancelled mid-way").toBeLessThan(truth.pagesDone);
  expect(finalView.items_scraped).toBeGreaterThan(0);
  expect(frames.previews.length, "success_count = previews received (a fast client gets every preview)").toBe(finalView.success_count);
  expectPreviewsMatchTruthSubset(frames.previews.map((preview) => String(preview.id)), truth.itemsById);

  const client2 = scraperClient(scraper.address);
  try {
    const { job } = await client2.getJob({ jobId });
    expect(job?.status).toBe(JobStatus.CANCELLED);
    expect(job?.finishedAt, "finished_at set").toBeDefined();
    expect(job?.counters).toMatchObject({ pagesDone: finalView.items_scraped, successCount: finalView.success_count, errorCount: finalView.error_count, items: finalView.success_count });
    expect(job?.counters?.pagesTotal).toBe(finalView.items_total);

    const log = EventRecorder.watch(client2, { jobId });
    const terminal = await log.waitForTerminal(jobId);
    await log.cancel();
    const events = log.events.filter((event) => event.jobId === jobId);
    expect(events.at(-1)).toBe(terminal);
    expect(terminal.kind.case).toBe("cancelled");
    expect(events.filter((event) => event.kind.case === "itemScraped"), "ItemScraped events = success_count").toHaveLength(finalView.success_count);
    expect(events.filter((event) => event.kind.case === "pageFailed"), "PageFailed events = error_count").toHaveLength(finalView.error_count);
    expect(events.at(-2)?.kind.case, "a final JobProgress before JobCancelled").toBe("progress");
    if (terminal.kind.case === "cancelled") expect(terminal.kind.value.counters?.pagesDone).toBe(finalView.items_scraped);
    expect(events.filter(isTerminalEvent)).toHaveLength(1);
  } finally {
    client2.close();
  }

  // The crawl really stopped: once the in-flight fetches were aborted, no new page is requested.
  const afterTerminal = site.requests.length;
  await sleep(1_500);
  expect(site.requests.slice(afterTerminal).map((request) => request.path), "requests after the job was cancelled").toEqual([]);

  const polled = await getJson<{ status: string; items_scraped: number; finished_at: string | null }>(`${suite.stack.gateway.url}/ws/scraping/${jobId}/status`);
  expect(polled.body).toMatchObject({ status: "cancelled", items_scraped: finalView.items_scraped });
  expect(polled.body.finished_at).not.toBeNull();
  return { jobId, client, finalView, errorMessage: String((frames.terminal.data as { error_message: string }).error_message) };
}

function expectPreviewsMatchTruthSubset(ids: readonly string[], itemsById: ReadonlyMap<string, unknown>): void {
  expect(ids.filter((id) => !itemsById.has(id)), "previews that match no page of the site").toEqual([]);
  expect(new Set(ids).size, "no preview twice").toBe(ids.length);
}

describe("cancel", () => {
  it("POST /api/jobs/{id}/cancel stops a crawl mid-way; the job ends cancelled with true counts", async () => {
    const { site, gateway } = suite.stack;
    const client = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`));
    const { job_id: jobId } = await startScrape(gateway, site, { path: "/", depth: 10, platform: "web" }, { concurrency: 2 });
    await client.waitUntil("ten previews", () => client.forJob(jobId).filter((frame) => frame.type === "item_preview").length >= 10);
    const response = await postJson(`${gateway.url}/api/jobs/${jobId}/cancel`);
    expect(response.status, response.text).toBe(200);
    const cancelled = await expectTrueCancelledCounts(jobId, client);
    expect(cancelled.errorMessage).toMatch(/^Job cancelled: .+/);
  });

  it("gRPC CancelJob with a reason stops a crawl mid-way; job_error says why", async () => {
    const { site, gateway, scraper } = suite.stack;
    const client = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/scraping`));
    const grpc = scraperClient(scraper.address);
    try {
      const started = await grpc.startJob({ crawl: create(CrawlSpecSchema, { urls: [site.url("/")], depth: 10, platform: Platform.WEB, concurrency: 2 }) });
      const jobId = started.job?.id ?? "";
      expect(jobId).not.toBe("");
      const log = EventRecorder.watch(grpc, { jobId });
      await log.waitForEvent("five ItemScraped events", () => log.events.filter((event) => event.kind.case === "itemScraped").length >= 5);
      await log.cancel();
      const response = await grpc.cancelJob({ jobId, reason: "operator asked" });
      expect(response.job?.id).toBe(jobId);
      const cancelled = await expectTrueCancelledCounts(jobId, client);
      expect(cancelled.errorMessage).toBe("Job cancelled: operator asked");
      const again = await expectGrpcError(grpc.cancelJob({ jobId }));
      expect(again.code, "cancelling an ended job").toBe(grpcStatus.FAILED_PRECONDITION);
    } finally {
      grpc.close();
    }
  });

  it("POST /api/jobs/{id}/cancel for an unknown job is a 404", async () => {
    const response = await postJson(`${suite.stack.gateway.url}/api/jobs/no-such-job/cancel`);
    expect(response.status, response.text).toBe(404);
    expect(response.body).toMatchObject({ error: expect.any(String) });
  });

  it("after the cancellations the gateway's counters and the scraper agree", async () => {
    const { scraper, gateway } = suite.stack;
    const grpc = scraperClient(scraper.address);
    try {
      const { platforms, activeJobs } = await grpc.getStats({});
      expect(activeJobs).toBe(0);
      const web = platforms.find((entry) => entry.platform === Platform.WEB);
      const status = await waitFor("gateway idle", async () => {
        const polled = await getJson<{ active_jobs: number; platform_stats: Record<string, { total_items: number; success_count: number; error_count: number }> }>(`${gateway.url}/ws/scraping/status`);
        return polled.body.active_jobs === 0 ? polled : undefined;
      });
      expect(status.body.platform_stats.web).toMatchObject({ total_items: Number(web?.pages), success_count: Number(web?.successCount), error_count: Number(web?.errorCount) });
    } finally {
      grpc.close();
    }
  });
});
