/**
 * Screenshots of the dashboard's main views for docs/screenshots/
 * (`npx tsx browser/screenshots.ts` from tests/): boots the real stack with
 * the built dashboard, runs a few finished crawls (for history and a job
 * page with items) and four paced live crawls (web, twitter, youtube,
 * reddit), then captures at 1280x900:
 *   overview.png     — live crawls in progress: cards, previews, charts
 *   job.png          — a finished job's page with its items
 *   history.png      — job history
 *   start-error.png  — the start form showing the server's error
 * Every shot waits for the content it is meant to show.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { assertBrowserPrerequisites, assertGatewayServesDashboard, DASHBOARD_DIR, dashboardUrl, launchChromium, readJobCards, readPreviews, readItemRows, readHistoryRows, submitStartForm, startOutcome, tid, until, untilJobFinished, VIEWPORT } from "../support/browser.js";
import { postJson } from "../support/http.js";
import { REPO_ROOT } from "../support/processes.js";
import { startStack } from "../support/stack.js";

const OUT_DIR = join(REPO_ROOT, "docs", "screenshots");

assertBrowserPrerequisites();
mkdirSync(OUT_DIR, { recursive: true });
const stack = await startStack({ gatewayEnv: { DASHBOARD_DIR } });
const browser = await launchChromium();
const live: string[] = [];
try {
  await assertGatewayServesDashboard(stack.gateway.url);
  const origin = stack.gateway.url;
  const start = async (body: Record<string, unknown>): Promise<string> => {
    const response = await postJson<{ job_id: string }>(`${origin}/api/scrape`, body);
    if (response.status !== 200) throw new Error(`POST /api/scrape answered ${response.status}: ${response.text}`);
    return response.body.job_id;
  };

  // Finished jobs: history rows and a job page with items.
  const finished: string[] = [];
  for (const [path, platform, depth] of [
    ["/r/", "reddit", 2],
    ["/youtube/", "youtube", 2],
    ["/twitter/", "twitter", 2],
    ["/", "web", 2],
  ] as const) {
    const id = await start({ url: stack.site.url(path), platform, depth });
    await untilJobFinished(origin, id);
    finished.push(id);
  }
  const cancelled = await start({ url: stack.site.url("/blog/"), depth: 5, per_host_delay_ms: 1000, per_host_concurrency: 1 });
  await postJson(`${origin}/api/jobs/${cancelled}/cancel`, {});
  await untilJobFinished(origin, cancelled);
  const webJob = finished.at(-1) ?? "";

  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();

  // Live crawls, paced so they are mid-way for the overview.
  await page.goto(dashboardUrl(origin, "/"));
  for (const [path, platform] of [
    ["/", "web"],
    ["/twitter/", "twitter"],
    ["/youtube/", "youtube"],
    ["/r/", "reddit"],
  ] as const) {
    live.push(await start({ url: stack.site.url(path), platform, depth: 10, per_host_delay_ms: 300, per_host_concurrency: 1 }));
  }
  let seen: unknown;
  await until(
    "four live cards, the web crawl 45 pages in, and a full preview list",
    async () => {
      const cards = await readJobCards(page.locator(tid("active-jobs")));
      const previews = (await readPreviews(page)).length;
      seen = { previews, cards: cards.map((card) => ({ id: card.jobId, status: card.status, done: card.done })) };
      // Long enough for the throughput chart to draw a curve: the web crawl (the longest) 45 pages in.
      const shown = cards.filter((card) => live.includes(card.jobId ?? ""));
      const web = shown.find((card) => card.jobId === live[0]);
      return shown.length === live.length && web !== undefined && web.status === "running" && web.done >= 45 && previews >= 20;
    },
    { timeoutMs: 120_000, seen: () => seen },
  );
  await page.screenshot({ path: join(OUT_DIR, "overview.png"), fullPage: true });

  await page.goto(dashboardUrl(origin, `/jobs/${webJob}`));
  await until("the job's item rows", async () => (await readItemRows(page)).length > 0);
  await page.screenshot({ path: join(OUT_DIR, "job.png"), fullPage: true });

  await page.goto(dashboardUrl(origin, "/jobs"));
  await until("history rows", async () => (await readHistoryRows(page)).length >= finished.length + 1);
  await page.screenshot({ path: join(OUT_DIR, "history.png"), fullPage: true });

  await page.goto(dashboardUrl(origin, "/"));
  await submitStartForm(page, { mode: "crawl", url: "ftp://example.com/files" });
  await startOutcome(page);
  await page.locator(tid("start-error")).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(OUT_DIR, "start-error.png") });
  await context.close();
  console.log(`screenshots written to ${OUT_DIR}: overview.png job.png history.png start-error.png`);
} finally {
  await Promise.allSettled(live.map((id) => postJson(`${stack.gateway.url}/api/jobs/${id}/cancel`, {})));
  await browser.close();
  await stack.stop();
}
