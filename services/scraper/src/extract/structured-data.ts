/**
 * The fields a page's structured data (JSON-LD, microdata, meta tags) can
 * carry, and how schema.org interaction counters map onto them.
 */
import { parseLabelledCount } from "./values.js";

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
  /** The main entity's `headline` (or `name`): a title when the page has no other. */
  headline?: string;
  /** The main entity's `description`. */
  summary?: string;
  /** The post's own text (`articleBody` / `text`). */
  body?: string;
}

export type CounterField = "likes" | "retweets" | "views" | "comments";

const counterByAction: Record<string, CounterField> = {
  likeaction: "likes",
  shareaction: "retweets",
  watchaction: "views",
  commentaction: "comments",
};

/** The last segment of a schema.org name: "https://schema.org/LikeAction" and "schema:LikeAction" give "LikeAction". */
export function schemaName(value: string): string {
  return value.slice(Math.max(value.lastIndexOf("/"), value.lastIndexOf(":")) + 1).trim();
}

/**
 * The item field of a schema.org interactionType, given as a URL
 * ("https://schema.org/LikeAction"), a prefixed or bare name, or an object
 * with an `@type`.
 */
export function counterField(interactionType: unknown): CounterField | undefined {
  let name: unknown = interactionType;
  if (Array.isArray(name)) name = name[0];
  if (name !== null && typeof name === "object" && !Array.isArray(name)) name = (name as Record<string, unknown>)["@type"];
  if (Array.isArray(name)) name = name[0];
  if (typeof name !== "string") return undefined;
  return counterByAction[schemaName(name).toLowerCase()];
}

/** Sets `field` from one InteractionCounter unless the field already has a value. */
export function applyCounter(into: StructuredData, interactionType: unknown, count: unknown): void {
  const field = counterField(interactionType);
  if (field === undefined || into[field] !== undefined) return;
  const value = parseLabelledCount(Array.isArray(count) ? count[0] : count);
  if (value !== undefined) into[field] = value;
}

/** Copies every field of `from` that `into` lacks. */
export function fillMissing(into: StructuredData, from: StructuredData): void {
  for (const key of Object.keys(from) as (keyof StructuredData)[]) {
    if (into[key] === undefined && from[key] !== undefined) (into as Record<string, unknown>)[key] = from[key];
  }
}
