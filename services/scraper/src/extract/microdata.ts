/**
 * Microdata (`itemscope` / `itemtype` / `itemprop`) read as the page
 * streams: each item becomes an entity shaped like a JSON-LD node and goes
 * to the same schema.org reader, so `<div itemprop="interactionStatistic"
 * itemscope>` means what `"interactionStatistic": {…}` means.
 */
import { EntityFields, type Entity } from "./schema-entity.js";

/** The properties Trawl reads, by lower-cased name, as schema.org spells them. */
const PROPERTIES = new Map(
  [
    "author", "name", "headline", "description", "articleBody", "text", "datePublished", "duration",
    "interactionStatistic", "interactionType", "userInteractionCount", "interactionCount",
    "commentCount", "upvoteCount", "mainEntity",
  ].map((name) => [name.toLowerCase(), name]),
);

/** The attribute that holds an element's property value (HTML microdata, "values"). */
const VALUE_ATTRIBUTE: Record<string, string> = {
  meta: "content",
  a: "href",
  area: "href",
  link: "href",
  audio: "src",
  embed: "src",
  iframe: "src",
  img: "src",
  source: "src",
  track: "src",
  video: "src",
  object: "data",
  data: "value",
  meter: "value",
  time: "datetime",
};

/** Bounds on what one page can make the reader hold. */
const MAX_ITEMS = 256;
const MAX_VALUES = 8;
const MAX_CAPTURES = 4;
const MAX_TEXT = 500;
const MAX_NESTING = 8;

interface Item {
  depth: number;
  types: string[];
  props: Map<string, unknown[]>;
  /** Not the value of another item's property: read on its own when it closes. */
  top: boolean;
  /** Over the item budget: tracked for nesting only, its properties are dropped. */
  discard: boolean;
}

interface Capture {
  depth: number;
  owner: Item;
  props: string[];
  text: string;
}

const documentItem = (): Item => ({ depth: 0, types: [], props: new Map(), top: true, discard: false });

function propertyNames(itemprop: string | undefined): string[] {
  if (itemprop === undefined) return [];
  const names: string[] = [];
  for (const token of itemprop.trim().split(/\s+/)) {
    // Properties may be named by URL ("https://schema.org/name").
    const bare = token.slice(token.lastIndexOf("/") + 1).toLowerCase();
    const name = PROPERTIES.get(bare);
    if (name !== undefined) names.push(name);
  }
  return names;
}

function addValue(item: Item, props: string[], value: unknown): void {
  if (item.discard) return;
  for (const prop of props) {
    const values = item.props.get(prop);
    if (values === undefined) item.props.set(prop, [value]);
    else if (values.length < MAX_VALUES) values.push(value);
  }
}

function toEntity(item: Item, nesting: number): Entity {
  const entity: Entity = {};
  if (item.types.length > 0) entity["@type"] = item.types.length === 1 ? item.types[0] : item.types;
  for (const [prop, values] of item.props) {
    const converted = values.map((value) => (typeof value === "object" && value !== null ? (nesting < MAX_NESTING ? toEntity(value as Item, nesting + 1) : {}) : value));
    entity[prop] = converted.length === 1 ? converted[0] : converted;
  }
  return entity;
}

/**
 * One page's microdata. Properties outside any item (`<meta
 * itemprop="duration">` in the head) belong to an untyped page-level item.
 */
export class MicrodataReader {
  private items: Item[] = [];
  private captures: Capture[] = [];
  private page = documentItem();
  private count = 0;
  private entities = new EntityFields();

  reset(): void {
    this.items = [];
    this.captures = [];
    this.page = documentItem();
    this.count = 0;
    this.entities = new EntityFields();
  }

  /** True while an element's text is a property value: the extractor passes text on only then. */
  get capturing(): boolean {
    return this.captures.length > 0;
  }

  /** An element with `itemscope` or `itemprop` opens at `depth`. */
  open(name: string, attribs: Record<string, string>, depth: number): void {
    const props = propertyNames(attribs.itemprop);
    const owner = this.items.at(-1) ?? this.page;
    if (attribs.itemscope !== undefined) {
      const discard = this.count >= MAX_ITEMS;
      if (!discard) this.count++;
      const types = (attribs.itemtype ?? "").trim().split(/\s+/).filter((t) => t !== "");
      // A property value (of any property, read or not) is read with its item, never on its own.
      const top = attribs.itemprop === undefined || attribs.itemprop.trim() === "";
      const item: Item = { depth, types, props: new Map(), top, discard };
      if (props.length > 0) addValue(owner, props, item);
      this.items.push(item);
      return;
    }
    if (props.length === 0) return;
    const value = attribs.content ?? attribs[VALUE_ATTRIBUTE[name] ?? ""];
    if (value !== undefined) {
      if (value.trim() !== "") addValue(owner, props, value.trim());
    } else if (name !== "meta" && name !== "link" && this.captures.length < MAX_CAPTURES) {
      this.captures.push({ depth, owner, props, text: "" });
    }
  }

  /** The element open at `depth` closes. */
  close(depth: number): void {
    for (let capture = this.captures.at(-1); capture !== undefined && capture.depth === depth; capture = this.captures.at(-1)) {
      this.captures.pop();
      const text = capture.text.replace(/\s+/g, " ").trim();
      if (text !== "") addValue(capture.owner, capture.props, text);
    }
    const item = this.items.at(-1);
    if (item !== undefined && item.depth === depth) {
      this.items.pop();
      if (item.top && !item.discard) this.entities.add(toEntity(item, 0));
    }
  }

  text(chunk: string): void {
    for (const capture of this.captures) {
      if (capture.text.length < MAX_TEXT) capture.text += chunk.slice(0, MAX_TEXT - capture.text.length);
    }
  }

  /** Finishes the page: the fields of its items and the type of the item they came from. */
  end(): EntityFields {
    if (this.page.props.size > 0) this.entities.add(toEntity(this.page, 0));
    return this.entities;
  }
}
