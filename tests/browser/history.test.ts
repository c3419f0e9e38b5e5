/**
 * Job history (`#/jobs`) in headless Chromium against the real stack: every
 * job the gateway knows, newest first, paged with "more"; the status,
 * platform and since filters show exactly the jobs the gateway's own list
 * holds for them; a row opens its job page.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import {
  chromiumGate,
  isShown,
  readHistoryRows,
  restJobs,
  tid,
  until,
  untilCard,
  untilJobFinished,
  useBrowserStack,
  type RestJob,
  type TaggedView,
} from "../support/browser.js";
import { postJson } from "../support/http.js";
import { startScrape } from "../support/jobs.js";

const gate = chromiumGate();

/** Enough one-page jobs that the history needs more than one page. */
const SMALL_JOBS = 60;

/** Whether `history-more` is there to click. */
async function canLoadMore(page: Page): Promise<boolean> {
  const more = page.locator(`${tid("history")} ${tid("history-more")}`);
  return (await more.count()) > 0 && (await more.isVisible()) && (await more.isEnabled());
}

/**
 * Clicks `history-more` until it is gone or disabled; returns every row then
 * shown and how many pages that took. A click that changed nothing (the
 * page was still loading) is repeated.
 */
async function loadAllRows(page: Page): Promise<{ rows: TaggedView[]; pages: number }> {
  const history = page.locator(tid("history"));
  let pages = 1;
  let ignored = 0;
  let rows = await readHistoryRows(history);
  while (await canLoadMore(page)) {
    const before = rows.length;
    await history.locator(tid("history-more")).click();
    const grew = await until("more history rows, or no more to load", async () => (await readHistoryRows(history)).length > before || !(await canLoadMore(page)), { timeoutMs: 1_000 }).then(
      () => true,
      () => false,
    );
    rows = await readHistoryRows(history);
    if (grew) pages++;
    else if (++ignored > 30) throw new Error(`history-more did not load more rows (${rows.length} shown)`);
    expect(pages, "pages of history").toBeLessThan(100);
  }
  return { rows, pages };
}

/** Waits until the shown rows (all pages) are exactly `expected`, in order. */
async function expectRows(page: Page, expected: readonly RestJob[], what: string): Promise<TaggedView[]> {
  let seen: TaggedView[] = [];
  const want = expected.map((job) => `${job.job_id}:${job.status}`);
  await until(
    what,
    async () => {
      seen = (await loadAllRows(page)).rows;
      return seen.map((row) => `${row.jobId}:${row.status}`).join(",") === want.join(",");
    },
    { seen: () => ({ want, got: seen.map((row) => `${row.jobId}:${row.status}`) }) },
  );
  return seen;
}

describe.skipIf(gate.skip)("dashboard history", () => {
  const suite = useBrowserStack();
  let jobs: RestJob[] = [];
  let cancelledId = "";
  let twitterId = "";

  beforeAll(async () => {
    const { site, gateway } = suite.stack;
    // A twitter crawl, a cancelled youtube crawl, a web crawl, then many one-page web jobs.
    twitterId = (await startScrape(gateway, site, { path: "/twitter/", depth: 1, platform: "twitter" })).job_id;
    await untilJobFinished(suite.origin, twitterId);
    cancelledId = (await startScrape(gateway, site, { path: "/youtube/", depth: 10, platform: "youtube" }, { per_host_delay_ms: 1000, per_host_concurrency: 1 })).job_id;
    const cancel = await postJson(`${suite.origin}/api/jobs/${cancelledId}/cancel`, {});
    expect(cancel.status, cancel.text).toBe(200);
    await untilJobFinished(suite.origin, cancelledId);
    for (let i = 0; i < SMALL_JOBS; i++) {
      const { job_id: id } = await startScrape(gateway, site, { path: i % 2 === 0 ? "/" : "/about", depth: 0, platform: "web" });
      await untilJobFinished(suite.origin, id);
    }
    jobs = await restJobs(suite.origin);
    expect(jobs).toHaveLength(SMALL_JOBS + 2);
  });

  it("lists every job newest first, a page at a time", async () => {
    const page = await suite.open("/jobs");
    const history = page.locator(tid("history"));
    const firstPage = await until("the first page of history", async () => {
      const rows = await readHistoryRows(history);
      return rows.length > 0 ? rows : undefined;
    });
    expect(firstPage.length, "the first page holds fewer than all jobs").toBeLessThan(jobs.length);
    expect(await canLoadMore(page), "history-more is offered").toBe(true);
    const rows = await expectRows(page, jobs, "every job in the gateway's order");
    expect(new Set(rows.map((row) => row.jobId)).size).toBe(jobs.length);
  });

  it("filters by status and platform to exactly the gateway's matching jobs", async () => {
    const page = await suite.open("/jobs");
    const history = page.locator(tid("history"));
    await history.waitFor();

    await history.locator(tid("history-filter-status")).selectOption("cancelled");
    await expectRows(page, jobs.filter((job) => job.status === "cancelled"), "only the cancelled job");
    expect(jobs.filter((job) => job.status === "cancelled").map((job) => job.job_id)).toEqual([cancelledId]);

    await history.locator(tid("history-filter-status")).selectOption("completed");
    await expectRows(page, jobs.filter((job) => job.status === "completed"), "every completed job");

    await history.locator(tid("history-filter-status")).selectOption("");
    await history.locator(tid("history-filter-platform")).selectOption("twitter");
    await expectRows(page, jobs.filter((job) => job.platform === "twitter"), "only the twitter job");
    expect(jobs.filter((job) => job.platform === "twitter").map((job) => job.job_id)).toEqual([twitterId]);

    await history.locator(tid("history-filter-platform")).selectOption("youtube");
    await history.locator(tid("history-filter-status")).selectOption("completed");
    await expectRows(page, [], "no completed youtube job");
  });

  it("filters by creation time", async () => {
    const page = await suite.open("/jobs");
    const history = page.locator(tid("history"));
    await history.waitFor();
    const since = history.locator(tid("history-filter-since"));
    const tag = await since.evaluate((element: { tagName: string }) => element.tagName.toLowerCase());
    if (tag === "select") {
      // Ranges ending now: every job here is minutes old, so each range keeps them all.
      const values = await since.locator("option").evaluateAll((options: Array<{ getAttribute(name: string): string | null }>) => options.map((option) => option.getAttribute("value") ?? ""));
      const ranges = values.filter((value) => value !== "");
      expect(ranges.length, "the since select offers ranges").toBeGreaterThan(0);
      for (const range of ranges) {
        await since.selectOption(range);
        await expectRows(page, jobs, `every job within range ${range}`);
      }
    } else {
      // A datetime-local input: local wall-clock time, minute precision.
      const local = (ms: number): string => {
        const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
        return date.toISOString().slice(0, 16);
      };
      await since.fill(local(Date.now() + 24 * 3_600_000));
      await expectRows(page, [], "no job created after tomorrow");
      await since.fill(local(Date.now() - 24 * 3_600_000));
      await expectRows(page, jobs, "every job created since yesterday");
    }
  });

  it("opens a job's page from its row", async () => {
    const page = await suite.open("/jobs");
    const history = page.locator(tid("history"));
    const row = history.locator(`${tid("history-row")}[data-job-id="${twitterId}"]`);
    await until("the twitter job's row", async () => {
      if ((await row.count()) > 0) return true;
      const more = history.locator(tid("history-more"));
      if ((await more.count()) > 0 && (await more.isEnabled())) await more.click();
      return false;
    });
    await expect(row.getAttribute("data-status")).resolves.toBe("completed");
    const link = (await row.evaluate((element: { tagName: string }) => element.tagName.toLowerCase())) === "a" ? row : row.locator("a").first();
    await link.click();
    await until("the job page", async () => page.url().endsWith(`#/jobs/${twitterId}`) && (await isShown(page, "job-page")));
    await expect(page.locator(tid("job-page")).getAttribute("data-job-id")).resolves.toBe(twitterId);
    await untilCard(page.locator(tid("job-page")), twitterId, "completed", (view) => view.status === "completed");
  });
});
