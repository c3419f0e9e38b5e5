/**
 * Validates a StartJob request's CrawlSpec against the scraper's limits and
 * resolves every "0 means default" field. A failure names the offending
 * field the way INVALID_ARGUMENT details report it ("crawl.urls[0]").
 */
import { create } from "@bufbuild/protobuf";
import { CrawlSpecSchema, Platform, type CrawlSpec } from "@trawl/proto";
import type { CrawlConfig } from "../config.js";
import { MAX_URL_LENGTH, normalizeUrl } from "../crawl/normalize-url.js";
import { detectPlatform } from "../extract/platform.js";
import type { ResolvedCrawl } from "../jobs/job-service.js";

/** Start URLs one request may carry. */
export const MAX_START_URLS = 1000;
/** Longest start URL accepted (the crawler's own URL limit). */
export { MAX_URL_LENGTH };
/** Parallel fetches one job may ask for. */
export const MAX_CONCURRENCY = 256;
/** Per-request timeout a job may ask for. */
export const MAX_REQUEST_TIMEOUT_MS = 300_000;
/** Wall-clock limit a job may ask for, unless CRAWL_MAX_DURATION_LIMIT_MS says otherwise. */
export const MAX_DURATION_MS = 86_400_000;
/** Requests in flight per host a job may ask for. */
export const MAX_PER_HOST_CONCURRENCY = 64;
/** Delay between request starts to one host a job may ask for. */
export const MAX_PER_HOST_DELAY_MS = 60_000;
/** Retries of a page a job may ask for. */
export const MAX_RETRIES = 10;

export type SpecValidation = { ok: true; crawl: ResolvedCrawl } | { ok: false; field: string; message: string };

const KNOWN_PLATFORMS = new Set<number>([Platform.UNSPECIFIED, Platform.WEB, Platform.TWITTER, Platform.YOUTUBE, Platform.REDDIT]);

const invalid = (field: string, message: string): SpecValidation => ({ ok: false, field, message });

export function validateCrawlSpec(spec: CrawlSpec | undefined, limits: CrawlConfig): SpecValidation {
  if (spec === undefined) return invalid("crawl", "is required");
  if (spec.urls.length === 0) return invalid("crawl.urls", "must contain at least one URL");
  if (spec.urls.length > MAX_START_URLS) return invalid("crawl.urls", `must contain at most ${MAX_START_URLS} URLs`);
  const startUrls: string[] = [];
  for (const [i, url] of spec.urls.entries()) {
    if (url.length > MAX_URL_LENGTH) return invalid(`crawl.urls[${i}]`, `must be at most ${MAX_URL_LENGTH} characters`);
    const normalized = /^https?:/i.test(url.trim()) ? normalizeUrl(url) : undefined;
    if (normalized === undefined) return invalid(`crawl.urls[${i}]`, "must be an http or https URL");
    // The crawler would refuse it at the first request: say so now, where the caller can see it.
    if (new URL(normalized).username !== "" || new URL(normalized).password !== "") return invalid(`crawl.urls[${i}]`, "must not carry credentials (user:password@)");
    startUrls.push(normalized);
  }
  if (spec.depth > limits.maxDepth) return invalid("crawl.depth", `must be at most ${limits.maxDepth}`);
  if (!KNOWN_PLATFORMS.has(spec.platform)) return invalid("crawl.platform", `unknown platform ${spec.platform}`);
  if (spec.maxPages > limits.maxPagesLimit) return invalid("crawl.max_pages", `must be at most ${limits.maxPagesLimit}`);
  if (spec.concurrency > MAX_CONCURRENCY) return invalid("crawl.concurrency", `must be at most ${MAX_CONCURRENCY}`);
  if (spec.requestTimeoutMs > MAX_REQUEST_TIMEOUT_MS) return invalid("crawl.request_timeout_ms", `must be at most ${MAX_REQUEST_TIMEOUT_MS}`);
  const maxDuration = limits.maxDurationLimitMs ?? MAX_DURATION_MS;
  if (spec.maxDurationMs > maxDuration) return invalid("crawl.max_duration_ms", `must be at most ${maxDuration}`);
  if (spec.perHostConcurrency !== undefined && (spec.perHostConcurrency < 1 || spec.perHostConcurrency > MAX_PER_HOST_CONCURRENCY)) {
    return invalid("crawl.per_host_concurrency", `must be from 1 to ${MAX_PER_HOST_CONCURRENCY}`);
  }
  if (spec.perHostDelayMs !== undefined && spec.perHostDelayMs > MAX_PER_HOST_DELAY_MS) return invalid("crawl.per_host_delay_ms", `must be at most ${MAX_PER_HOST_DELAY_MS}`);
  if (spec.maxRetries !== undefined && spec.maxRetries > MAX_RETRIES) return invalid("crawl.max_retries", `must be at most ${MAX_RETRIES}`);

  const platform = spec.platform !== Platform.UNSPECIFIED ? spec.platform : detectPlatform(startUrls[0] as string);
  const resolved = create(CrawlSpecSchema, {
    urls: [...spec.urls],
    depth: spec.depth,
    platform: spec.platform,
    extractEmbeddings: spec.extractEmbeddings,
    maxPages: spec.maxPages || limits.maxPages,
    concurrency: spec.concurrency || limits.concurrency,
    requestTimeoutMs: spec.requestTimeoutMs || limits.requestTimeoutMs,
    maxDurationMs: spec.maxDurationMs || limits.maxDurationMs,
    ignoreRobots: spec.ignoreRobots || !limits.respectRobots,
    perHostConcurrency: spec.perHostConcurrency ?? limits.perHostConcurrency,
    perHostDelayMs: spec.perHostDelayMs ?? limits.perHostDelayMs,
    maxRetries: spec.maxRetries ?? limits.maxRetries,
  });
  return { ok: true, crawl: { spec: resolved, startUrls, platform } };
}

/** Seconds per page assumed before this scraper has measured any page. */
const DEFAULT_SECONDS_PER_PAGE = 0.5;

/**
 * StartJobResponse.estimated_time_seconds: the pages the job may fetch (the
 * start URLs at depth 0, else the page limit) at the mean page time this
 * scraper has measured so far on the job's platform — 0.5 s before it has
 * measured any — spread over the job's concurrency. An upper-bound guess:
 * how many pages a site really has is only known once it has been crawled.
 */
export function estimateSeconds(crawl: ResolvedCrawl, measured?: { pages: bigint; processingMsTotal: bigint }): number {
  const { spec } = crawl;
  const pages = spec.depth === 0 ? Math.min(crawl.startUrls.length, spec.maxPages) : spec.maxPages;
  const secondsPerPage =
    measured !== undefined && measured.pages > 0n ? Number(measured.processingMsTotal) / Number(measured.pages) / 1000 : DEFAULT_SECONDS_PER_PAGE;
  return Math.max(1, Math.ceil((pages * secondsPerPage) / spec.concurrency));
}
