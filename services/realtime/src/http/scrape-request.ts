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

export const scrapeRequestSchema = z.object({
  url: z
    .string({ error: (issue) => (issue.input === undefined ? "url is required" : "url must be a string") })
    .refine(isHttpUrl, "url must be an absolute http or https URL"),
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
});

export type ScrapeRequest = z.infer<typeof scrapeRequestSchema>;

export function toStartJobRequest(body: ScrapeRequest): MessageInitShape<typeof StartJobRequestSchema> {
  return {
    crawl: {
      urls: [body.url],
      depth: body.depth,
      platform: body.platform === undefined ? Platform.UNSPECIFIED : platformFromName(body.platform),
      extractEmbeddings: body.extract_embeddings ?? false,
      maxPages: body.max_pages ?? 0,
      concurrency: body.concurrency ?? 0,
      requestTimeoutMs: body.request_timeout_ms ?? 0,
    },
  };
}

/** Request fields, and the spellings a scraper's INVALID_ARGUMENT details may use for them. */
const FIELD_SPELLINGS: ReadonlyArray<[field: string, spellings: RegExp]> = [
  ["url", /\b(urls?|crawl\.urls(\[\d+\])?)\b/i],
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
