/**
 * The body of `POST /api/scrape` (seed 000, plus the crawl limits Trawl
 * adds), validated by zod and mapped onto the scraper's StartJobRequest.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Platform, PLATFORM_NAMES, platformFromName, type StartJobRequestSchema } from "@trawl/proto";
import { z } from "zod";

const UINT32_MAX = 4_294_967_295;

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === "http:" || protocol === "https:";
}

const limit = (name: string) =>
  z
    .number({ error: `${name} must be an integer` })
    .int(`${name} must be an integer`)
    .min(1, `${name} must be at least 1`)
    .max(UINT32_MAX, `${name} is too large`)
    .optional();

const httpUrl = (name: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be a string`) })
    .refine(isHttpUrl, `${name} must be an absolute http or https URL`);

const bounded = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be an integer` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .optional();

/** The most start URLs one batch request may carry (the scraper enforces the same bound). */
export const MAX_BATCH_URLS = 1000;

export const scrapeRequestSchema = z
  .object({
    url: httpUrl("url").optional(),
    /** A batch: every URL is a task of one job. */
    urls: z
      .array(httpUrl("urls[]"), { error: "urls must be an array of http or https URLs" })
      .min(1, "urls must hold at least one URL")
      .max(MAX_BATCH_URLS, `urls may hold at most ${MAX_BATCH_URLS} URLs`)
      .optional(),
    platform: z.enum(PLATFORM_NAMES, { error: `platform must be one of ${PLATFORM_NAMES.join(", ")}` }).optional(),
    depth: z
      .number({ error: "depth must be an integer" })
      .int("depth must be an integer")
      .min(0, "depth must be 0 or more")
      .max(UINT32_MAX, "depth is too large")
      .default(1),
    extract_embeddings: z.boolean({ error: "extract_embeddings must be a boolean" }).optional(),
    max_pages: limit("max_pages"),
    concurrency: limit("concurrency"),
    request_timeout_ms: limit("request_timeout_ms"),
    ignore_robots: z.boolean({ error: "ignore_robots must be a boolean" }).optional(),
    per_host_concurrency: bounded("per_host_concurrency", 1, 64),
    per_host_delay_ms: bounded("per_host_delay_ms", 0, 60_000),
    max_retries: bounded("max_retries", 0, 10),
  })
  .superRefine((body, ctx) => {
    if (body.url === undefined && body.urls === undefined) ctx.addIssue({ code: "custom", path: ["url"], message: "url is required (or urls for a batch)" });
    if (body.url !== undefined && body.urls !== undefined) ctx.addIssue({ code: "custom", path: ["urls"], message: "give either url or urls, not both" });
  });

export type ScrapeRequest = z.infer<typeof scrapeRequestSchema>;

/** The start URLs of a validated request: `urls` for a batch, else `[url]`. */
export function startUrls(body: ScrapeRequest): string[] {
  return body.urls ?? (body.url === undefined ? [] : [body.url]);
}

export function toStartJobRequest(body: ScrapeRequest): MessageInitShape<typeof StartJobRequestSchema> {
  return {
    crawl: {
      urls: startUrls(body),
      depth: body.depth,
      platform: body.platform === undefined ? Platform.UNSPECIFIED : platformFromName(body.platform),
      extractEmbeddings: body.extract_embeddings ?? false,
      maxPages: body.max_pages ?? 0,
      concurrency: body.concurrency ?? 0,
      requestTimeoutMs: body.request_timeout_ms ?? 0,
      ignoreRobots: body.ignore_robots ?? false,
      ...(body.per_host_concurrency === undefined ? {} : { perHostConcurrency: body.per_host_concurrency }),
      ...(body.per_host_delay_ms === undefined ? {} : { perHostDelayMs: body.per_host_delay_ms }),
      ...(body.max_retries === undefined ? {} : { maxRetries: body.max_retries }),
    },
  };
}

/** The body of `POST /api/scan`: a directory scan (seed 003) inside the scraper's configured roots. */
export const scanRequestSchema = z.object({
  path: z
    .string({ error: (issue) => (issue.input === undefined ? "path is required" : "path must be a string") })
    .min(1, "path must not be empty")
    .max(4096, "path is too long"),
  recursive: z.boolean({ error: "recursive must be a boolean" }).default(true),
  max_files: limit("max_files"),
});

export type ScanRequest = z.infer<typeof scanRequestSchema>;

export function toScanJobRequest(body: ScanRequest): MessageInitShape<typeof StartJobRequestSchema> {
  return { scan: { path: body.path, recursive: body.recursive, maxFiles: body.max_files ?? 0 } };
}

/** Request fields, and the spellings a scraper's INVALID_ARGUMENT details may use for them. */
const FIELD_SPELLINGS: ReadonlyArray<[field: string, spellings: RegExp]> = [
  ["url", /\b(urls?|crawl\.urls(\[\d+\])?)\b/i],
  ["path", /\b(scan\.)?path\b/i],
  ["max_files", /\b(max_files|maxFiles)\b/],
  ["per_host_concurrency", /\b(per_host_concurrency|perHostConcurrency)\b/],
  ["per_host_delay_ms", /\b(per_host_delay_ms|perHostDelayMs)\b/],
  ["max_retries", /\b(max_retries|maxRetries)\b/],
  ["depth", /\bdepth\b/i],
  ["platform", /\bplatform\b/i],
  ["max_pages", /\b(max_pages|maxPages)\b/],
  ["concurrency", /\bconcurrency\b/i],
  ["request_timeout_ms", /\b(request_timeout_ms|requestTimeoutMs)\b/],
  ["extract_embeddings", /\b(extract_embeddings|extractEmbeddings)\b/],
];

/** The request field a scraper's INVALID_ARGUMENT message is about ("body" when it names none). */
export function fieldOfScraperError(details: string): string {
  let best: { field: string; index: number } | undefined;
  for (const [field, spelling] of FIELD_SPELLINGS) {
    const match = spelling.exec(details);
    if (match !== null && (best === undefined || match.index < best.index)) best = { field, index: match.index };
  }
  return best?.field ?? "body";
}
