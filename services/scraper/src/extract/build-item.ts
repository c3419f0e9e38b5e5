/**
 * Turns a page's extract into the proto Item of the crawl contract.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ItemSchema, type Item, type Platform } from "@trawl/proto";
import { itemId, subredditFromUrl } from "./platform.js";
import type { PageExtract } from "./page-extractor.js";

export interface ItemPage {
  platform: Platform;
  /** The normalised URL the page was finally served from (after redirects). */
  url: string;
  depth: number;
  extract: PageExtract;
}

/** The Item of one successfully fetched page; fields the page does not carry stay unset. */
export function buildItem({ platform, url, depth, extract }: ItemPage): Item {
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
  });
  if (extract.author !== undefined) item.author = extract.author;
  if (extract.channel !== undefined) item.channel = extract.channel;
  const subreddit = subredditFromUrl(url);
  if (subreddit !== undefined) item.subreddit = subreddit;
  if (extract.likes !== undefined) item.likes = extract.likes;
  if (extract.retweets !== undefined) item.retweets = extract.retweets;
  if (extract.views !== undefined) item.views = extract.views;
  if (extract.score !== undefined) item.score = extract.score;
  if (extract.comments !== undefined) item.comments = extract.comments;
  if (extract.durationSeconds !== undefined) item.durationSeconds = extract.durationSeconds;
  if (extract.publishedAt !== undefined) item.publishedAt = timestampFromDate(extract.publishedAt);
  return item;
}
