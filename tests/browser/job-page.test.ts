/**
 * The single-job view (`#/jobs/<id>`) in headless Chromium against the real
 * stack: opened from a running job's card, it shows that job's live card and
 * only its own previews and errors while another job runs beside it; a
 * finished job's items page, search and total match `jobs.items`; and the
 * export links download exactly what the REST export serves, one record per
 * successful page.
 */
import type { Locator } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  chromiumGate,
  downloadVia,
  isShown,
  readErrorEntries,
  readItemRows,
  readJobCards,
  readNumber,
  readPreviews,
  tid,
  until,
  untilCard,
  untilConnected,
  untilJobFinished,
  useBrowserStack,
  type TaggedView,
} from "../support/browser.js";
import { getJson } from "../support/http.js";
import { startScrape, truthFor } from "../support/jobs.js";

const gate = chromiumGate();

/** Paced per job: one request at a time, 100 ms apart. */
const SLOW = { per_host_delay_ms: 100, per_host_concurrency: 1 };

interface ItemsPage {
  total: number;
  items: Array<{ id: string; url: string; title?: string }>;
  next_page_token: string | null;
}

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

/** The item a row shows: its URL is one of the row's words, and its title is in the row. */
function itemOfRow(row: TaggedView, items: ItemsPage["items"]): ItemsPage["items"][number] | undefined {
  const words = new Set(row.text.split(" "));
  return items.find((item) => words.has(item.url) && (item.title === undefined || row.text.includes(item.title)));
}

/** Whether a button is (or within a moment becomes) enabled: it is disabled while a page loads. */
async function enabledSoon(button: Locator): Promise<boolean> {
  return until("enabled", async () => (await button.count()) > 0 && (await button.isEnabled()), { timeoutMs: 2_000 }).then(
    () => true,
    () => false,
  );
}

describe.skipIf(gate.skip)("dashboard single-job view", () => {
  const suite = useBrowserStack();

  it("opens from a running job's card and follows only that job live", async () => {
    const { site, gateway } = suite.stack;
    const plan = { path: "/", depth: 10, platform: "web" as const, maxPages: 30 };
    const truth = truthFor(site, plan);
    const page = await suite.open("/");
    await untilConnected(page);
    const { job_id: jobId } = await startScrape(gateway, site, plan, SLOW);
    const { job_id: otherId } = await startScrape(gateway, site, { path: "/twitter/", depth: 2, platform: "twitter" }, SLOW);

    const activeJobs = page.locator(tid("active-jobs"));
    await untilCard(activeJobs, jobId, "running", (view) => view.status === "running");
    await activeJobs.locator(`${tid("job-card")}[data-job-id="${jobId}"] ${tid("job-open")}`).click();
    await until("the job page", async () => page.url().endsWith(`#/jobs/${jobId}`) && (await isShown(page, "job-page")));
    const jobPage = page.locator(tid("job-page"));
    await expect(jobPage.getAttribute("data-job-id")).resolves.toBe(jobId);

    // Its card keeps moving on the job page, and only this job's previews and errors appear there.
    const seenDone = new Set<number>();
    const foreign: TaggedView[] = [];
    const final = await until(
      "the job page's card to complete",
      async () => {
        const cards = await readJobCards(jobPage);
        expect(cards.map((card) => card.jobId)).toEqual([jobId]);
        const card = cards[0];
        if (card === undefined) return undefined;
        if (card.status === "running") seenDone.add(card.done);
        const tagged = [...(await readPreviews(jobPage)), ...(await readErrorEntries(jobPage))];
        foreign.push(...tagged.filter((entry) => entry.jobId !== jobId));
        return card.status === "completed" ? card : undefined;
      },
      { timeoutMs: 120_000, seen: () => [...seenDone] },
    );
    expect(seenDone.size, "distinct progress values while running").toBeGreaterThanOrEqual(2);
    expect(foreign, "previews/errors of another job on this job's page").toEqual([]);
    const settled = await untilCard(jobPage, jobId, "true final counts", (view) => view.success === truth.successCount && view.errors === truth.errorCount);
    expect({ done: settled.done, total: settled.total }).toEqual({ done: truth.pagesDone, total: truth.pagesTotal });
    expect(final.status).toBe("completed");

    const previews = await readPreviews(jobPage);
    expect(previews.length, "the job's own previews").toBeGreaterThan(0);
    expect(previews.every((preview) => preview.jobId === jobId && preview.platform === "web")).toBe(true);
    const failedUrls = truth.pages.filter((entry) => entry.item === undefined).map((entry) => entry.url);
    let entries: TaggedView[] = [];
    await until(
      "the job's own page failures",
      async () => {
        entries = await readErrorEntries(jobPage);
        return failedUrls.every((url) => entries.some((entry) => entry.jobId === jobId && entry.text.includes(url)));
      },
      { seen: () => ({ failedUrls, entries }) },
    );
    await untilJobFinished(suite.origin, otherId);
  });

  describe("a finished job", () => {
    let jobId = "";
    let successes = 0;

    it("lists its items with the total, pages through them and searches them", async () => {
      const { site, gateway } = suite.stack;
      const plan = { path: "/", depth: 3, platform: "web" as const };
      successes = truthFor(site, plan).successCount;
      ({ job_id: jobId } = await startScrape(gateway, site, plan));
      expect((await untilJobFinished(suite.origin, jobId)).status).toBe("completed");
      const all = await getJson<ItemsPage>(`${suite.origin}/api/jobs/${jobId}/items?page_size=1000`);
      expect(all.body.total).toBe(successes);

      const page = await suite.open(`/jobs/${jobId}`);
      const jobPage = page.locator(tid("job-page"));
      await jobPage.waitFor();
      await expect(jobPage.getAttribute("data-job-id")).resolves.toBe(jobId);
      await untilCard(jobPage, jobId, "completed", (view) => view.status === "completed" && view.success === successes);
      await until("items-total", async () => (await readNumber(jobPage, "items-total")) === successes);

      // Page forward to the end: every row is an item of the job, and every item is seen.
      const matched = new Set<string>();
      let rows = await until("the first page of items", async () => {
        const current = await readItemRows(jobPage.locator(tid("items-table")));
        return current.length > 0 ? current : undefined;
      });
      for (let clicks = 0; ; clicks++) {
        for (const row of rows) {
          const item = itemOfRow(row, all.body.items);
          expect(item, `row "${row.text.slice(0, 160)}" shows the title and URL of an item of the job`).toBeDefined();
          if (item) matched.add(item.id);
        }
        const next = jobPage.locator(tid("items-next"));
        if (!(await enabledSoon(next))) break;
        expect(clicks, "clicks on items-next").toBeLessThan(successes);
        const shown = rows.map((row) => row.text).join("\n");
        await next.click();
        // A click can be lost to the page's own refresh; the loop then clicks again.
        rows = await until(
          "the next page of items",
          async () => {
            const current = await readItemRows(jobPage.locator(tid("items-table")));
            return current.length > 0 && current.map((row) => row.text).join("\n") !== shown ? current : undefined;
          },
          { timeoutMs: 5_000 },
        ).catch(() => readItemRows(jobPage.locator(tid("items-table"))));
      }
      expect(matched.size, "distinct items seen paging forward").toBe(successes);

      // Back one page shows the previous rows again.
      const lastPage = rows.map((row) => row.text);
      await jobPage.locator(tid("items-prev")).click();
      await until("the previous page's rows", async () => {
        const current = await readItemRows(jobPage.locator(tid("items-table")));
        return current.length > 0 && current.every((row) => itemOfRow(row, all.body.items) !== undefined && !lastPage.includes(row.text));
      });

      // A substring search narrows the list to what jobs.items finds.
      const query = "fixture works - home";
      const expected = await getJson<ItemsPage>(`${suite.origin}/api/jobs/${jobId}/items?q=${encodeURIComponent(query)}`);
      expect(expected.body.total).toBe(1);
      await jobPage.locator(tid("items-search")).fill(query);
      const found = await until("search results", async () => {
        const current = await readItemRows(jobPage.locator(tid("items-table")));
        return (await readNumber(jobPage, "items-total")) === expected.body.total && current.length === expected.body.items.length ? current : undefined;
      });
      expect(found[0]?.text).toContain("Trawl Fixture Works - Home");
      expect(found[0]?.text).toContain(expected.body.items[0]?.url ?? "?");
    });

    it.each([
      { format: "json", count: (body: string) => (JSON.parse(body) as unknown[]).length },
      { format: "ndjson", count: (body: string) => body.trimEnd().split("\n").length },
      { format: "csv", count: (body: string) => csvRecordCount(body) - 1 },
    ])("downloads the $format export with one record per successful page", async ({ format, count }) => {
      expect(jobId, "the items case ran first").not.toBe("");
      const page = await suite.open(`/jobs/${jobId}`);
      const link = page.locator(tid(`export-${format}`));
      await link.waitFor();
      const href = await link.getAttribute("href");
      expect(href).toBe(`/api/jobs/${jobId}/export?format=${format}`);
      expect(await link.getAttribute("download"), "the link is a download").not.toBeNull();

      const downloaded = await downloadVia(page, link);
      expect(downloaded.filename).toBe(`trawl-${jobId}.${format}`);
      const rest = await fetch(`${suite.origin}${href}`);
      expect(rest.status).toBe(200);
      const restText = await rest.text();
      expect(count(downloaded.text)).toBe(successes);
      if (format === "csv") {
        expect(downloaded.text).toBe(restText);
      } else {
        const parse = (text: string): unknown[] => (format === "json" ? (JSON.parse(text) as unknown[]) : text.trimEnd().split("\n").map((line) => JSON.parse(line) as unknown));
        expect(parse(downloaded.text)).toEqual(parse(restText));
      }
    });
  });
});
