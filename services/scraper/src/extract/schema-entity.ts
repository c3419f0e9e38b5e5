/**
 * Reads schema.org entities — JSON-LD nodes, and microdata items shaped
 * like them — into the fields of an item. Both syntaxes go through here so
 * they agree on what each property means.
 */
import { applyCounter, counterField, fillMissing, schemaName, type StructuredData } from "./structured-data.js";
import { parseCount, parseDate, parseInteger, parseIsoDuration, parseLabelledCount } from "./values.js";

/** A JSON-LD node, or a microdata item converted to one (`@type` plus its properties). */
export type Entity = Record<string, unknown>;

export const isEntity = (value: unknown): value is Entity => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * Types whose entity is the page's own content. Their fields win over those
 * of other entities on the page (a WebPage's author, an Organization).
 */
const CONTENT_TYPES = new Set(
  [
    "VideoObject", "AudioObject", "Clip", "Episode", "Movie",
    "SocialMediaPosting", "DiscussionForumPosting", "Posting",
    "Article", "NewsArticle", "BlogPosting", "LiveBlogPosting", "Report", "TechArticle", "ScholarlyArticle",
    "AnalysisNewsArticle", "OpinionNewsArticle", "ReportageNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle",
  ].map((type) => type.toLowerCase()),
);

/** Types whose `duration` is the length of a recording. */
const MEDIA_TYPES = new Set(["videoobject", "audioobject", "mediaobject", "clip", "episode", "movie", "musicrecording"]);

/** Forum types whose likes are the post's score. */
const FORUM_TYPES = new Set(["discussionforumposting", "comment"]);

/** Legacy `interactionCount` prefixes ("UserLikes:12") and the field each counts. */
const LEGACY_COUNTERS: Record<string, "likes" | "views" | "comments"> = {
  userlikes: "likes",
  userplays: "views",
  userpagevisits: "views",
  usercomments: "comments",
};

/** How many entities one page's structured data may make us read: a bound on hostile input. */
const MAX_ENTITIES = 64;
/** How many values (entities, arrays, scalars in arrays) one `add` may look at: a bound on hostile input. */
const MAX_VALUES_VISITED = 4_096;
/** Longest post text kept: more than an item's excerpt needs. */
const MAX_BODY = 2_000;

const first = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);

function text(value: unknown): string | undefined {
  const v = first(value);
  if (typeof v !== "string") return undefined;
  const collapsed = v.replace(/\s+/g, " ").trim();
  return collapsed !== "" ? collapsed : undefined;
}

/** The bare schema.org type names of an entity ("VideoObject" for "http://schema.org/VideoObject"). */
export function entityTypes(entity: Entity): string[] {
  const type = entity["@type"];
  const types = Array.isArray(type) ? type : [type];
  return types.filter((t): t is string => typeof t === "string").map(schemaName);
}

/** The name of a person or organisation: a string, `{ name }`, or the first of a list of either. */
function personName(value: unknown): string | undefined {
  for (const entry of Array.isArray(value) ? value : [value]) {
    const name = isEntity(entry) ? text(entry.name) : text(entry);
    // A bare URL identifies someone without naming them.
    if (name !== undefined && !/^https?:\/\//i.test(name)) return name;
  }
  return undefined;
}

/** Sets `key` unless it already has a value; true when it did. */
function set<K extends keyof StructuredData>(into: StructuredData, key: K, value: StructuredData[K] | undefined): boolean {
  if (value === undefined || into[key] !== undefined) return false;
  into[key] = value;
  return true;
}

/** `interactionCount` as older pages write it: "UserLikes:12", or a bare count (a video's views). */
function readLegacyCount(value: unknown, isMedia: boolean, into: StructuredData): boolean {
  let changed = false;
  for (const entry of Array.isArray(value) ? value : [value]) {
    const raw = typeof entry === "number" ? String(entry) : entry;
    if (typeof raw !== "string") continue;
    const colon = raw.indexOf(":");
    const field = colon === -1 ? (isMedia ? "views" : undefined) : LEGACY_COUNTERS[raw.slice(0, colon).trim().toLowerCase()];
    if (field !== undefined) changed = set(into, field, parseLabelledCount(raw.slice(colon + 1))) || changed;
  }
  return changed;
}

/** Reads the fields one entity carries into `into`; true when it set any. */
function readEntity(entity: Entity, types: string[], isContent: boolean, into: StructuredData): boolean {
  const lower = types.map((t) => t.toLowerCase());
  const isMedia = lower.some((t) => MEDIA_TYPES.has(t));
  let changed = false;
  const author = personName(entity.author);
  changed = set(into, "author", author) || changed;
  if (lower.includes("videoobject")) changed = set(into, "channel", author) || changed;
  changed = set(into, "publishedAt", parseDate(first(entity.datePublished))) || changed;
  const stats = entity.interactionStatistic;
  let likeCount: unknown;
  for (const counter of Array.isArray(stats) ? stats : [stats]) {
    if (!isEntity(counter)) continue;
    const field = counterField(counter.interactionType);
    if (field === undefined) continue;
    if (field === "likes") likeCount ??= first(counter.userInteractionCount);
    const had = into[field];
    applyCounter(into, counter.interactionType, counter.userInteractionCount);
    changed = changed || (had === undefined && into[field] !== undefined);
  }
  changed = set(into, "comments", parseCount(first(entity.commentCount))) || changed;
  if (lower.some((t) => FORUM_TYPES.has(t))) {
    // A forum post's score is its up-votes; pages that only give likes give the same number.
    changed = set(into, "score", parseInteger(first(entity.upvoteCount)) ?? parseLabelledCount(likeCount)) || changed;
  } else {
    changed = set(into, "score", parseInteger(first(entity.upvoteCount))) || changed;
  }
  if (entity.interactionCount !== undefined) changed = readLegacyCount(entity.interactionCount, isMedia, into) || changed;
  if (isMedia || types.length === 0) changed = set(into, "durationSeconds", parseIsoDuration(first(entity.duration))) || changed;
  if (isContent) {
    changed = set(into, "headline", text(entity.headline) ?? text(entity.name)) || changed;
    changed = set(into, "summary", text(entity.description)) || changed;
    changed = set(into, "body", (text(entity.articleBody) ?? text(entity.text))?.slice(0, MAX_BODY)) || changed;
  }
  return changed;
}

/**
 * Accumulates the fields of every entity of one structured-data syntax on a
 * page. The first entity that carries a field wins, content entities
 * (VideoObject, SocialMediaPosting, DiscussionForumPosting, Article…) before
 * the others.
 */
export class EntityFields {
  private readonly content: StructuredData = {};
  private readonly other: StructuredData = {};
  private contentType: string | undefined;
  private otherType: string | undefined;
  private read = 0;

  /**
   * Reads `root` and the entities it holds in `@graph` and `mainEntity`,
   * breadth first. At most {@link MAX_VALUES_VISITED} values are looked at,
   * so a block of two million numbers costs no more than a small one (and
   * is never spread into a call's arguments, which would overflow the stack).
   */
  add(root: unknown): void {
    const pending: unknown[] = [root];
    const enqueue = (values: readonly unknown[]): void => {
      for (const value of values) {
        if (pending.length >= MAX_VALUES_VISITED) return;
        pending.push(value);
      }
    };
    for (let next = 0; next < pending.length && this.read < MAX_ENTITIES; next++) {
      const value = pending[next];
      if (Array.isArray(value)) {
        enqueue(value);
        continue;
      }
      if (!isEntity(value)) continue;
      this.read++;
      const types = entityTypes(value);
      const contentType = types.find((t) => CONTENT_TYPES.has(t.toLowerCase()));
      if (contentType !== undefined) {
        if (readEntity(value, types, true, this.content)) this.contentType ??= contentType;
      } else if (readEntity(value, types, false, this.other)) {
        this.otherType ??= types[0] ?? "";
      }
      if (Array.isArray(value["@graph"])) enqueue(value["@graph"]);
      const main = value.mainEntity;
      if (isEntity(main) || Array.isArray(main)) enqueue([main]);
    }
  }

  /** Every field found, content entities first. */
  fields(): StructuredData {
    const fields: StructuredData = { ...this.content };
    fillMissing(fields, this.other);
    return fields;
  }

  /**
   * The type of the entity the fields came from ("VideoObject"); "" for an
   * untyped one; undefined when no entity carried a field.
   */
  get source(): string | undefined {
    return this.contentType ?? this.otherType;
  }
}
