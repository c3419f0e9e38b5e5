/**
 * Starting crawls through the gateway and checking what clients received
 * against the truth model.
 */
import type { PlatformName } from "@trawl/proto";
import { expect } from "vitest";
import type { FixtureSite } from "../fixture/site.js";
import { type CrawlTruth, crawlTruth, expectedCurrentItem, expectedPreview, type ExpectedItem } from "../fixture/truth.js";
import { postJson } from "./http.js";
import { fieldMismatches, type JobFrames, type Json } from "./seed000.js";
import { type GatewayProcess, TEST_REQUEST_TIMEOUT_MS } from "./stack.js";

export interface CrawlPlan {
  readonly path: string;
  readonly depth: number;
  readonly platform: PlatformName;
  readonly maxPages?: number;
  /** Overrides the scraper's CRAWL_REQUEST_TIMEOUT_MS for this job. */
  readonly requestTimeoutMs?: number;
}

/** The truth for a crawl of `site` started at `plan.path`. */
export function truthFor(site: FixtureSite, plan: CrawlPlan): CrawlTruth {
  return crawlTruth(site.graph, {
    startUrls: [site.url(plan.path)],
    depth: plan.depth,
    platform: plan.platform,
    ...(plan.maxPages !== undefined ? { maxPages: plan.maxPages } : {}),
    conditions: { requestTimeoutMs: plan.requestTimeoutMs ?? TEST_REQUEST_TIMEOUT_MS, slowDelayMs: site.options.slowDelayMs, pageLatencyMs: site.options.pageLatencyMs },
  });
}

export interface ScrapeResponse {
  job_id: string;
  status: string;
  url: string;
  estimated_time_seconds: number;
  message: string;
}

/** POST /api/scrape for a plan; asserts the seed-000 response shape. */
export async function startScrape(gateway: GatewayProcess, site: FixtureSite, plan: CrawlPlan, extra: Json = {}): Promise<ScrapeResponse> {
  const url = site.url(plan.path);
  const body: Json = { url, platform: plan.platform, depth: plan.depth, ...extra };
  if (plan.maxPages !== undefined) body.max_pages = plan.maxPages;
  if (plan.requestTimeoutMs !== undefined) body.request_timeout_ms = plan.requestTimeoutMs;
  const response = await postJson<ScrapeResponse>(`${gateway.url}/api/scrape`, body);
  expect(response.status, `POST /api/scrape answered ${response.status}: ${response.text}`).toBe(200);
  expectScrapeResponse(response.body, url);
  return response.body;
}

export function expectScrapeResponse(body: ScrapeResponse, url: string): void {
  expect(Object.keys(body).sort(), "POST /api/scrape response keys").toEqual(["estimated_time_seconds", "job_id", "message", "status", "url"]);
  expect(body.job_id).toBeTypeOf("string");
  expect(body.job_id.length).toBeGreaterThan(0);
  expect(body.status).toBe("started");
  expect(body.url).toBe(url);
  expect(Number.isFinite(body.estimated_time_seconds) && body.estimated_time_seconds >= 0, "estimated_time_seconds is a non-negative number").toBe(true);
  expect(body.message).toBe(`Scraping job started. Connect to /ws/scraping/${body.job_id} for real-time updates.`);
}

/**
 * Every preview matches the truth item of its id, no id twice, and (for a
 * client that saw the whole job) exactly one preview per successful page.
 */
export function expectPreviewsMatchTruth(previews: readonly Json[], truth: CrawlTruth, platform: PlatformName, options: { complete: boolean }): void {
  const seen = new Map<ExpectedItem, string>();
  const problems: string[] = [];
  for (const preview of previews) {
    const id = String(preview.id);
    const item = truth.itemsById.get(id);
    if (!item) {
      problems.push(`preview ${id} matches no page of the crawl: ${JSON.stringify(preview)}`);
      continue;
    }
    if (seen.has(item)) problems.push(`second preview for ${item.requestedUrl} (${id})`);
    seen.set(item, id);
    const mismatches = fieldMismatches(preview, expectedPreview(item, platform));
    if (mismatches.length > 0) problems.push(`${item.requestedUrl}: ${mismatches.join("; ")}`);
  }
  if (options.complete) {
    const missing = truth.items.filter((item) => !seen.has(item)).map((item) => item.requestedUrl);
    if (missing.length > 0) problems.push(`no preview for ${missing.length} successful pages, e.g. ${missing.slice(0, 5).join(", ")}`);
  }
  expect(problems, `item_preview frames vs truth (${previews.length} previews, ${truth.successCount} successes)`).toEqual([]);
}

/** Every progress.current_item is the item of a page of this crawl, with platform fields. */
export function expectCurrentItemsMatchTruth(frames: JobFrames, truth: CrawlTruth, platform: PlatformName): void {
  const problems: string[] = [];
  for (const view of frames.progress) {
    if (view.current_item === undefined) continue;
    const id = String(view.current_item.id);
    const item = truth.itemsById.get(id);
    if (!item) {
      problems.push(`current_item ${id} matches no page of the crawl`);
      continue;
    }
    const mismatches = fieldMismatches(view.current_item, expectedCurrentItem(item, platform));
    if (mismatches.length > 0) problems.push(`current_item ${item.requestedUrl}: ${mismatches.join("; ")}`);
  }
  expect(problems, "progress.current_item vs truth").toEqual([]);
}

/** The last progress before the terminal frame carries the final counts. */
export function expectFinalCounts(frames: JobFrames, truth: CrawlTruth): void {
  const last = frames.progress.at(-1);
  expect(last, "a progress frame before the terminal frame").toBeDefined();
  if (!last) return;
  expect({ items_scraped: last.items_scraped, items_total: last.items_total, success_count: last.success_count, error_count: last.error_count }, "final progress counts").toEqual({
    items_scraped: truth.pagesDone,
    items_total: truth.pagesTotal,
    success_count: truth.successCount,
    error_count: truth.errorCount,
  });
}
