/**
 * Reads the fields Trawl extracts from `<script type="application/ld+json">`
 * blocks: author, VideoObject channel, datePublished and interaction counts.
 */
import { applyCounter, type StructuredData } from "./structured-data.js";
import { parseCount, parseDate, parseInteger, parseIsoDuration } from "./values.js";

type Node = Record<string, unknown>;

const isNode = (value: unknown): value is Node => value !== null && typeof value === "object" && !Array.isArray(value);

function hasType(node: Node, type: string): boolean {
  const t = node["@type"];
  if (typeof t === "string") return t === type || t.endsWith(`/${type}`) || t.endsWith(`:${type}`);
  return Array.isArray(t) && t.some((entry) => typeof entry === "string" && (entry === type || entry.endsWith(`/${type}`)));
}

function personName(value: unknown): string | undefined {
  for (const entry of Array.isArray(value) ? value : [value]) {
    if (typeof entry === "string" && entry.trim() !== "") return entry.trim();
    if (isNode(entry) && typeof entry.name === "string" && entry.name.trim() !== "") return entry.name.trim();
  }
  return undefined;
}

function readNode(node: Node, into: StructuredData): void {
  const author = personName(node.author);
  if (author !== undefined) {
    into.author ??= author;
    if (hasType(node, "VideoObject")) into.channel ??= author;
  }
  into.publishedAt ??= parseDate(node.datePublished);
  const stats = node.interactionStatistic;
  for (const counter of Array.isArray(stats) ? stats : [stats]) {
    if (isNode(counter)) applyCounter(into, counter.interactionType, counter.userInteractionCount);
  }
  into.comments ??= parseCount(node.commentCount);
  into.score ??= parseInteger(node.upvoteCount);
  if (hasType(node, "VideoObject")) into.durationSeconds ??= parseIsoDuration(node.duration);
}

/**
 * Parses one JSON-LD block and fills the fields of `into` that are still
 * unset (the first block that carries a field wins). Walks top-level
 * entities, `@graph` members and `mainEntity`. Invalid JSON is ignored:
 * broken structured data is common and must not fail the page.
 */
export function readJsonLd(source: string, into: StructuredData): void {
  let doc: unknown;
  try {
    doc = JSON.parse(source);
  } catch {
    // Malformed JSON-LD carries nothing we can read exactly.
    return;
  }
  const pending: unknown[] = [doc];
  for (let visited = 0; pending.length > 0 && visited < 64; visited++) {
    const value = pending.shift();
    if (Array.isArray(value)) {
      pending.push(...value);
    } else if (isNode(value)) {
      readNode(value, into);
      if (Array.isArray(value["@graph"])) pending.push(...value["@graph"]);
      if (isNode(value.mainEntity)) pending.push(value.mainEntity);
    }
  }
}
