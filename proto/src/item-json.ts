/**
 * The JSON form of an Item, shared by every edge that hands items out (REST
 * listing, JSON/NDJSON/CSV export) so they can never disagree: snake_case,
 * numbers rather than 64-bit strings, ISO times, and fields the page did not
 * carry left out rather than invented.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Item } from "./gen/trawl/v1/scraper_pb.js";

export interface ItemRecord {
  id: string;
  url: string;
  canonical_url?: string;
  title?: string;
  description?: string;
  text?: string;
  word_count: number;
  links_found: number;
  depth: number;
  author?: string;
  channel?: string;
  subreddit?: string;
  likes?: number;
  retweets?: number;
  views?: number;
  score?: number;
  comments?: number;
  duration_seconds?: number;
  published_at?: string;
  near_duplicate_of?: string;
  source?: string;
  embedding?: number[];
}

/** Column order of the CSV export: every ItemRecord field but the embedding. */
export const ITEM_CSV_COLUMNS = [
  "id",
  "url",
  "canonical_url",
  "title",
  "description",
  "text",
  "word_count",
  "links_found",
  "depth",
  "author",
  "channel",
  "subreddit",
  "likes",
  "retweets",
  "views",
  "score",
  "comments",
  "duration_seconds",
  "published_at",
  "near_duplicate_of",
  "source",
] as const satisfies ReadonlyArray<Exclude<keyof ItemRecord, "embedding">>;

export function itemJson(item: Item, options: { embedding?: boolean } = {}): ItemRecord {
  const json: ItemRecord = { id: item.id, url: item.url, word_count: item.wordCount, links_found: item.linksFound, depth: item.depth };
  if (item.canonicalUrl) json.canonical_url = item.canonicalUrl;
  if (item.title) json.title = item.title;
  if (item.description) json.description = item.description;
  if (item.text) json.text = item.text;
  if (item.author !== undefined) json.author = item.author;
  if (item.channel !== undefined) json.channel = item.channel;
  if (item.subreddit !== undefined) json.subreddit = item.subreddit;
  if (item.likes !== undefined) json.likes = Number(item.likes);
  if (item.retweets !== undefined) json.retweets = Number(item.retweets);
  if (item.views !== undefined) json.views = Number(item.views);
  if (item.score !== undefined) json.score = Number(item.score);
  if (item.comments !== undefined) json.comments = Number(item.comments);
  if (item.durationSeconds !== undefined) json.duration_seconds = item.durationSeconds;
  if (item.publishedAt !== undefined) json.published_at = timestampDate(item.publishedAt).toISOString();
  if (item.nearDuplicateOf) json.near_duplicate_of = item.nearDuplicateOf;
  if (item.source) json.source = item.source;
  if (options.embedding && item.embedding.length > 0) json.embedding = Array.from(item.embedding);
  return json;
}

/** One RFC 4180 CSV field: quoted when it holds a comma, quote, CR or LF. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV header line, CRLF-terminated. */
export function itemCsvHeader(): string {
  return `${ITEM_CSV_COLUMNS.join(",")}\r\n`;
}

/** One item as a CSV record, CRLF-terminated, in ITEM_CSV_COLUMNS order. */
export function itemCsvRow(item: ItemRecord): string {
  return `${ITEM_CSV_COLUMNS.map((column) => csvField(item[column])).join(",")}\r\n`;
}

export const ITEM_EXPORT_FORMATS = ["json", "ndjson", "csv"] as const;
export type ItemExportFormat = (typeof ITEM_EXPORT_FORMATS)[number];

/** How an export frames its items: what comes first, each item (by its index), what comes last. */
export interface ItemExportEncoding {
  readonly begin: string;
  item(record: ItemRecord, index: number): string;
  readonly end: string;
}

/**
 * The export formats, shared by the scraper's ExportItems (and so REST
 * `/api/jobs/{id}/export`) and the `trawl export` command, so their bytes
 * cannot drift: a JSON array with one item per line, NDJSON, or RFC 4180 CSV
 * with CRLF records.
 */
export function itemExportEncoding(format: ItemExportFormat): ItemExportEncoding {
  switch (format) {
    case "json":
      return { begin: "[", item: (record, i) => `${i === 0 ? "" : ","}\n${JSON.stringify(record)}`, end: "\n]\n" };
    case "ndjson":
      return { begin: "", item: (record) => `${JSON.stringify(record)}\n`, end: "" };
    case "csv":
      return { begin: itemCsvHeader(), item: (record) => itemCsvRow(record), end: "" };
  }
}
