/**
 * The fields a page's structured data (JSON-LD, microdata, meta tags) can
 * carry, and how schema.org interaction counters map onto them.
 */
import { parseCount } from "./values.js";

export interface StructuredData {
  author?: string;
  channel?: string;
  publishedAt?: Date;
  likes?: bigint;
  retweets?: bigint;
  views?: bigint;
  score?: bigint;
  comments?: bigint;
  durationSeconds?: number;
}

export type CounterField = "likes" | "retweets" | "views" | "comments";

const counterByAction: Record<string, CounterField> = {
  likeaction: "likes",
  shareaction: "retweets",
  watchaction: "views",
  commentaction: "comments",
};

/**
 * The item field of a schema.org interactionType, given as a URL
 * ("https://schema.org/LikeAction"), a prefixed or bare name, or an object
 * with an `@type`.
 */
export function counterField(interactionType: unknown): CounterField | undefined {
  let name: unknown = interactionType;
  if (name !== null && typeof name === "object" && !Array.isArray(name)) name = (name as Record<string, unknown>)["@type"];
  if (typeof name !== "string") return undefined;
  const last = name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf(":")) + 1);
  return counterByAction[last.toLowerCase()];
}

/** Sets `field` from one InteractionCounter unless the field already has a value. */
export function applyCounter(into: StructuredData, interactionType: unknown, count: unknown): void {
  const field = counterField(interactionType);
  if (field === undefined || into[field] !== undefined) return;
  const value = parseCount(count);
  if (value !== undefined) into[field] = value;
}

/** Copies every field of `from` that `into` lacks. */
export function fillMissing(into: StructuredData, from: StructuredData): void {
  for (const key of Object.keys(from) as (keyof StructuredData)[]) {
    if (into[key] === undefined && from[key] !== undefined) (into as Record<string, unknown>)[key] = from[key];
  }
}
