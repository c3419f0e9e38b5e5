/**
 * Turns a page's extract into the proto Item of the crawl contract.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ItemSchema, type Item, type Platform } from "@trawl/proto";
import type { NearDuplicateIndex } from "./near-duplicates.js";
import type { PageExtract } from "./page-extractor.js";
import { itemId, subredditFromUrl } from "./platform.js";

export interface ItemPage {
  platform: Platform;
  /** The normalised URL the page was finally served from (after redirects). */
  url: string;
  depth: number;
  extract: PageExtract;
}

export interface BuildItemOptions {
  /**
   * CrawlSpec.extract_embeddings: copy the page's embedding into
   * Item.embedding. The page must have been extracted by a
   * `new PageExtractor({ embeddings: true })`; without one it stays unset.
   */
  embeddings?: boolean;
  /**
   * The job's near-duplicate index (with `embeddings`): the item is indexed
   * and Item.near_duplicate_of names the earlier item it nearly duplicates.
   */
  nearDuplicates?: NearDuplicateIndex;
}

/** The Item of one successfully fetched page; fields the page does not carry stay unset. */
export function buildItem({ platform, url, depth, extract }: ItemPage, options: BuildItemOptions = {}): Item {
  const item = create(ItemSchema, {
    id: itemId(platform, url),
    url,
    title: extract.title,
    description: extract.description,
    text: extract.text,
    wordCount: extract.wordCount,
    linksFound: extract.links.size,
    canonicalUrl: extract.canonicalUrl,
    depth,
    source: extract.source,
  });
  if (extract.author !== undefined) item.author = extract.author;
  if (extract.channel !== undefined) item.channel = extract.channel;
  // A short link (/comments/<id>) names no subreddit; its canonical URL does.
  const subreddit = subredditFromUrl(url) ?? (extract.canonicalUrl !== "" ? subredditFromUrl(extract.canonicalUrl) : undefined);
  if (subreddit !== undefined) item.subreddit = subreddit;
  if (extract.likes !== undefined) item.likes = extract.likes;
  if (extract.retweets !== undefined) item.retweets = extract.retweets;
  if (extract.views !== undefined) item.views = extract.views;
  if (extract.score !== undefined) item.score = extract.score;
  if (extract.comments !== undefined) item.comments = extract.comments;
  if (extract.durationSeconds !== undefined) item.durationSeconds = extract.durationSeconds;
  if (extract.publishedAt !== undefined) item.publishedAt = timestampFromDate(extract.publishedAt);
  if (options.embeddings === true && extract.embedding !== undefined) {
    item.embedding = Array.from(extract.embedding);
    const original = options.nearDuplicates?.check(item.id, extract.embedding);
    // Two URLs can carry one platform id (a status with and without a query): that is the item itself.
    if (original !== undefined && original !== item.id) item.nearDuplicateOf = original;
  }
  return item;
}
