/**
 * The overview (`#/`) in headless Chromium against the real stack: the
 * connection indicator, a crawl started from the form whose card, progress
 * bar and previews move while it runs and end on the site's true counts,
 * the platform breakdown, charts and errors feed, pause/resume/cancel from
 * the card, and the server's own error naming the field for a bad input.
 *
 * The scraper paces this file's crawls (100 ms between requests, one at a
 * time) so they last long enough to watch and steer.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  chromiumGate,
  progressFill,
  readConnection,
  readJobCards,
  readErrorEntries,
  readJobCard,
  readPlatformRows,
  readPreviews,
  restJob,
  startFromForm,
  startOutcome,
  submitStartForm,
  tid,
  until,
  untilCard,
  untilConnected,
  untilJobFinished,
  useBrowserStack,
  type JobCardView,
  type TaggedView,
} from "../support/browser.js";
import { getJson, postJson } from "../support/http.js";
import { startScrape, truthFor } from "../support/jobs.js";

const gate = chromiumGate();

/** A directory for the scan-mode case (the scraper only scans inside SCAN_ROOTS). */
const scanRoot = mkdtempSync(join(tmpdir(), "trawl-browser-scan-"));
mkdirSync(join(scanRoot, "docs", "nested"), { recursive: true });
writeFileSync(join(scanRoot, "docs", "a.txt"), "hello");
writeFileSync(join(scanRoot, "docs", "nested", "b.csv"), "a,b\n1,2\n");
afterAll(() => rmSync(scanRoot, { recursive: true, force: true }));

describe.skipIf(gate.skip)("dashboard overview", () => {
  const suite = useBrowserStack({
    stack: { scraperEnv: { CRAWL_PER_HOST_DELAY_MS: "100", CRAWL_PER_HOST_CONCURRENCY: "1", SCAN_ROOTS: scanRoot } },
  });

  it("says it is connected", async () => {
    const page = await suite.open("/");
    const connection = await until("connection-status connected", async () => {
      const seen = await readConnection(page);
      return seen.state === "connected" ? seen : undefined;
    });
    expect(connection.text).toMatch(/connected/i);
    expect(connection.text).not.toMatch(/disconnected|connecting/i);
    await expect(page.locator(tid("nav-overview")).getAttribute("href")).resolves.toMatch(/#\/$/);
    await expect(page.locator(tid("nav-history")).getAttribute("href")).resolves.toMatch(/#\/jobs$/);

    // The navigation switches views without reloading: the connection stays up.
    await page.locator(tid("nav-history")).click();
    await page.locator(tid("history")).waitFor();
    expect(page.url()).toMatch(/#\/jobs$/);
    await page.locator(tid("nav-overview")).click();
    await page.locator(tid("start-form")).waitFor();
    await page.locator(tid("active-jobs")).waitFor();
    expect((await readConnection(page)).state).toBe("connected");
  });

  it("a crawl started from the form moves its progress bar and previews, and ends on the site's true counts", async () => {
    const { site } = suite.stack;
    const plan = { path: "/", depth: 10, platform: "web" as const, maxPages: 40 };
    const truth = truthFor(site, plan);
    const page = await suite.open("/");
    await untilConnected(page);

    const jobId = await startFromForm(page, { mode: "crawl", url: site.url(plan.path), depth: plan.depth, maxPages: plan.maxPages, platform: plan.platform });
    await expect(page.locator(tid("start-result-link")).getAttribute("href")).resolves.toMatch(new RegExp(`#/jobs/${jobId}$`));
    const started = await restJob(suite.origin, jobId);
    expect(started.urls).toEqual([site.url(plan.path)]);
    expect(started.platform).toBe("web");

    // Sample the card and the job's previews until the job is over.
    const samples: Array<{ card: JobCardView; previews: number }> = [];
    const activeJobs = page.locator(tid("active-jobs"));
    const finished = await until(
      "the job's card to reach a finished status",
      async () => {
        const card = await readJobCard(activeJobs, jobId);
        if (card === undefined) return undefined;
        const previews = (await readPreviews(page)).filter((preview) => preview.jobId === jobId).length;
        samples.push({ card, previews });
        return card.status === "completed" || card.status === "failed" || card.status === "cancelled" ? card : undefined;
      },
      { timeoutMs: 120_000, seen: () => samples.at(-1) },
    );

    expect(finished.status).toBe("completed");
    const done = samples.map((sample) => sample.card.done).filter((value) => Number.isFinite(value));
    expect(done, "pages done never goes backwards").toEqual([...done].sort((a, b) => a - b));
    const running = samples.filter((sample) => sample.card.status === "running");
    expect(new Set(running.map((sample) => sample.card.done)).size, "distinct progress values seen while running").toBeGreaterThanOrEqual(3);
    expect(
      running.some((sample) => sample.previews > 0 && sample.previews < Math.min(20, truth.successCount)),
      "previews arrived while the crawl was still running",
    ).toBe(true);
    expect(running.some((sample) => sample.card.rate !== "" && /\d/.test(sample.card.rate)), "a pages/s rate while running").toBe(true);

    const card = await untilCard(activeJobs, jobId, "final counts", (view) => view.success === truth.successCount && view.errors === truth.errorCount);
    expect({ done: card.done, total: card.total, success: card.success, errors: card.errors }).toEqual({
      done: truth.pagesDone,
      total: truth.pagesTotal,
      success: truth.successCount,
      errors: truth.errorCount,
    });
    const rest = await restJob(suite.origin, jobId);
    expect(rest.status).toBe("completed");
    expect(rest.counters).toMatchObject({ pages_done: card.done, pages_total: card.total, success_count: card.success, error_count: card.errors });
    expect({ pause: card.canPause, resume: card.canResume, cancel: card.canCancel }, "no control applies to a completed job").toEqual({ pause: false, resume: false, cancel: false });
    expect(card.openHref).toMatch(new RegExp(`#/jobs/${jobId}$`));
    await until("a full bar for a completed job", async () => Math.abs((await progressFill(activeJobs, jobId)) - 1) < 0.01);
    expect(card.elapsed).not.toBe("");
    expect(
      truth.items.some((item) => (item.title !== undefined && card.currentItem.includes(item.title)) || item.urls.some((url) => card.currentItem.includes(url))),
      `current item "${card.currentItem}" is the title or URL of a crawled page`,
    ).toBe(true);

    // Newest-first previews: the 20 most recent, each a web preview of a page of this crawl.
    const previews = await readPreviews(page.locator(tid("previews")));
    expect(previews).toHaveLength(Math.min(20, truth.successCount));
    for (const preview of previews) {
      expect(preview).toMatchObject({ jobId, platform: "web" });
      expect(
        truth.items.some((item) => item.title !== undefined && preview.text.includes(item.title)),
        `preview "${preview.text.slice(0, 120)}" shows the title of a crawled page`,
      ).toBe(true);
    }
  });

  it("shows the platform breakdown, both charts and every page failure of the crawl", async () => {
    const { site } = suite.stack;
    const plan = { path: "/", depth: 10, platform: "web" as const, maxPages: 40 };
    const truth = truthFor(site, plan);
    const page = await suite.open("/");
    await untilConnected(page);
    const { job_id: jobId } = await startScrape(suite.stack.gateway, site, plan);
    await untilJobFinished(suite.origin, jobId);

    // The breakdown converges on the gateway's own platform totals.
    let rows: TaggedView[] = [];
    const stats = await until(
      "the web platform row to show the gateway's totals",
      async () => {
        const status = await getJson<{ platform_stats: Record<string, { total_items: number; success_count: number; error_count: number }> }>(`${suite.origin}/ws/scraping/status`);
        const web = status.body.platform_stats.web;
        rows = await readPlatformRows(page.locator(tid("platform-stats")));
        const row = rows.find((candidate) => candidate.platform === "web");
        if (web === undefined || row === undefined) return undefined;
        const numbers = new Set((row.text.match(/\d[\d,]*/g) ?? []).map((token) => Number(token.replace(/,/g, ""))));
        return [web.total_items, web.success_count, web.error_count].every((n) => numbers.has(n)) ? web : undefined;
      },
      { seen: () => rows },
    );
    expect(stats.success_count).toBeGreaterThanOrEqual(truth.successCount);

    for (const chart of ["throughput-chart", "platform-chart"]) {
      const canvas = page.locator(`${tid(chart)} canvas`).first();
      await canvas.waitFor({ state: "visible" });
      const box = await canvas.boundingBox();
      expect(box?.width ?? 0, `${chart} canvas width`).toBeGreaterThan(0);
      expect(box?.height ?? 0, `${chart} canvas height`).toBeGreaterThan(0);
    }

    // Every failed page of this crawl is in the errors feed, with its URL.
    const failed = truth.pages.filter((entry) => entry.item === undefined).map((entry) => entry.url);
    expect(failed).toHaveLength(truth.errorCount);
    let entries: TaggedView[] = [];
    await until(
      "an error entry per failed page",
      async () => {
        entries = (await readErrorEntries(page.locator(tid("errors-feed")))).filter((entry) => entry.jobId === jobId);
        return failed.every((url) => entries.some((entry) => entry.text.includes(url)));
      },
      { seen: () => ({ failed, entries }) },
    );
    const kinds = entries.map((entry) => entry.text);
    expect(kinds.some((text) => /404/.test(text)), "a 404 entry names its status").toBe(true);
    expect(kinds.some((text) => /timeout/i.test(text)), "the slow page's entry says it timed out").toBe(true);
  });

  it("pauses, resumes and cancels a running crawl from its card, and keeps the finished card until it is dismissed", async () => {
    const { site } = suite.stack;
    const page = await suite.open("/");
    const { job_id: jobId } = await startScrape(suite.stack.gateway, site, { path: "/", depth: 10, platform: "web" });
    const activeJobs = page.locator(tid("active-jobs"));
    const card = activeJobs.locator(`${tid("job-card")}[data-job-id="${jobId}"]`);

    await untilCard(activeJobs, jobId, "running with a few pages done", (view) => view.status === "running" && view.done >= 3 && view.canPause);
    await card.locator(tid("job-pause")).click();
    const paused = await untilCard(activeJobs, jobId, "paused", (view) => view.status === "paused");
    expect({ pause: paused.canPause, resume: paused.canResume, cancel: paused.canCancel }).toEqual({ pause: false, resume: true, cancel: true });
    expect(paused.statusText.toLowerCase()).toContain("paused");
    expect((await restJob(suite.origin, jobId)).status).toBe("paused");
    // While paused, the card settles on the server's counts.
    const settled = await until("the paused card to show the server's pages done", async () => {
      const [view, rest] = await Promise.all([readJobCard(activeJobs, jobId), restJob(suite.origin, jobId)]);
      return view !== undefined && view.done === rest.counters.pages_done && view.success === rest.counters.success_count ? view : undefined;
    });
    // The bar is drawn at done/total.
    let fill = Number.NaN;
    await until(
      "the paused bar's width to match done/total",
      async () => {
        fill = await progressFill(activeJobs, jobId);
        return Math.abs(fill - settled.done / settled.total) < 0.02;
      },
      { seen: () => ({ fill, done: settled.done, total: settled.total }) },
    );

    await card.locator(tid("job-resume")).click();
    const resumed = await untilCard(activeJobs, jobId, "running again and past the paused count", (view) => view.status === "running" && view.done > settled.done);
    expect(resumed.canPause).toBe(true);

    await card.locator(tid("job-cancel")).click();
    const cancelled = await untilCard(activeJobs, jobId, "cancelled", (view) => view.status === "cancelled");
    expect({ pause: cancelled.canPause, resume: cancelled.canResume, cancel: cancelled.canCancel }).toEqual({ pause: false, resume: false, cancel: false });
    expect((await untilJobFinished(suite.origin, jobId)).status).toBe("cancelled");

    await card.locator(tid("job-dismiss")).click();
    await card.waitFor({ state: "detached" });
  });

  it("starts a batch and a directory scan from the form", async () => {
    const { site } = suite.stack;
    const page = await suite.open("/");
    const urls = [site.url("/twitter/"), site.url("/r/")];
    const batchId = await startFromForm(page, { mode: "batch", urls, depth: 0 });
    const batch = await untilJobFinished(suite.origin, batchId);
    expect(batch.urls).toEqual(urls);
    expect(batch.counters).toMatchObject({ pages_done: 2, success_count: 2 });
    await untilCard(page.locator(tid("active-jobs")), batchId, "completed with both pages", (view) => view.status === "completed" && view.done === 2 && view.success === 2);

    const scanId = await startFromForm(page, { mode: "scan", path: "docs", recursive: true });
    const scan = await untilJobFinished(suite.origin, scanId);
    expect(scan.kind).toBe("scan");
    expect(scan.scan).toMatchObject({ path: "docs", recursive: true });
    expect(scan.status).toBe("completed");
    await untilCard(page.locator(tid("active-jobs")), scanId, "completed", (view) => view.status === "completed");

    // Finished cards stay until a reload: the overview then lists only active jobs.
    await page.reload();
    await untilConnected(page);
    await page.locator(tid("active-jobs")).waitFor();
    const after = await readJobCards(page.locator(tid("active-jobs")));
    expect(after.map((card) => card.jobId)).not.toContain(batchId);
    expect(after.map((card) => card.jobId)).not.toContain(scanId);
  });

  it("renders each platform's preview with its own fields", async () => {
    const { site, gateway } = suite.stack;
    const page = await suite.open("/");
    await untilConnected(page);
    const plans = [
      { path: "/twitter/", depth: 1, platform: "twitter" as const },
      { path: "/youtube/", depth: 1, platform: "youtube" as const },
      { path: "/r/", depth: 1, platform: "reddit" as const },
    ];
    const fields: Record<string, ReadonlyArray<"title" | "author" | "channel" | "subreddit">> = { twitter: ["author"], youtube: ["title", "channel"], reddit: ["title", "subreddit"] };
    for (const plan of plans) {
      const { job_id: jobId } = await startScrape(gateway, site, plan, { per_host_delay_ms: 0, per_host_concurrency: 4 });
      await untilJobFinished(suite.origin, jobId);
      const items = (await getJson<{ items: Array<Record<string, unknown> & { url: string }> }>(`${suite.origin}/api/jobs/${jobId}/items?page_size=1000`)).body.items;
      let previews: TaggedView[] = [];
      await until("a preview per page of the crawl", async () => {
        previews = (await readPreviews(page.locator(tid("previews")))).filter((preview) => preview.jobId === jobId);
        return previews.length === Math.min(20, items.length);
      });
      let shown = 0;
      for (const preview of previews) {
        expect(preview.platform).toBe(plan.platform);
        const words = new Set(preview.text.split(" "));
        const item = items.find((candidate) => words.has(candidate.url) || words.has(candidate.url.replace(/^https?:\/\//, "")));
        expect(item, `preview "${preview.text.slice(0, 160)}" shows the URL of an item of the job`).toBeDefined();
        for (const field of fields[plan.platform] ?? []) {
          const value = item?.[field];
          if (typeof value !== "string" || value === "") continue;
          expect(preview.text, `${plan.platform} preview shows ${field}`).toContain(field === "subreddit" ? value.replace(/^r\//, "") : value);
          shown++;
        }
      }
      expect(shown, `${plan.platform} previews showed their platform fields`).toBeGreaterThan(0);
    }
  });

  it.each([
    { name: "a start URL that is not http(s)", form: { mode: "crawl" as const, url: "ftp://example.com/files" }, body: { url: "ftp://example.com/files" }, field: "url" },
    { name: "a batch line that is not a URL", form: { mode: "batch" as const, urls: ["http://127.0.0.1:9/", "not a url"] }, body: { urls: ["http://127.0.0.1:9/", "not a url"] }, field: "urls" },
  ])("shows the server's error naming the field for $name", async ({ form, body, field }) => {
    const rest = await postJson<{ field: string; message: string }>(`${suite.origin}/api/scrape`, body);
    expect(rest.status, rest.text).toBe(400);
    const before = (await getJson<{ jobs: unknown[] }>(`${suite.origin}/api/jobs?limit=500`)).body.jobs.length;

    const page = await suite.open("/");
    await submitStartForm(page, form);
    const outcome = await startOutcome(page);
    expect(outcome, "the form shows an error, not a started job").toHaveProperty("error");
    if (!("error" in outcome)) return;
    expect(outcome.error).toContain(rest.body.message);
    expect(outcome.error).toContain(field);
    expect((await getJson<{ jobs: unknown[] }>(`${suite.origin}/api/jobs?limit=500`)).body.jobs, "no job was started").toHaveLength(before);
  });
});
