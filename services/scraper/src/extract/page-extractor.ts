/**
 * Single-pass extraction of a page as its bytes arrive: one htmlparser2
 * parser per in-flight page, fed chunk by chunk, gathering the title,
 * description, text excerpt, word count, links and structured data
 * (OpenGraph and Twitter-card meta tags, JSON-LD, microdata, the canonical
 * link) the crawl contract lists, and — when asked — the embedding of the
 * whole visible text. Nothing is re-parsed, no DOM is built and the text is
 * not buffered.
 */
import { Parser } from "htmlparser2";
import { normalizeUrl } from "../crawl/normalize-url.js";
import { TextEmbedder } from "./embedding.js";
import { readJsonLd } from "./json-ld.js";
import { MicrodataReader } from "./microdata.js";
import { EntityFields } from "./schema-entity.js";
import { fillMissing, type StructuredData } from "./structured-data.js";
import { parseCount, parseDate } from "./values.js";

/**
 * Deepest element nesting parsed; a page nested deeper is read up to that
 * point and the rest is ignored. htmlparser2 keeps its open elements in an
 * array it shifts and unshifts and searches on every end tag, so each level
 * makes every later tag dearer: 200,000 nested `<div>`s (2 MB, well inside
 * the body limit) take half a minute of CPU. Browsers stop nesting at the
 * same depth (Blink's HTML parser caps its tree depth at 512).
 */
export const MAX_NESTING = 512;

/**
 * Longest title, description, author or channel an item carries. A page can
 * put megabytes in a `<title>` or a meta tag; an item that big would be sent
 * to every watcher and could pass gRPC's 4 MB message limit.
 */
export const MAX_FIELD_LENGTH = 2_000;

/**
 * Most links kept from one page. Every link is then judged for scope,
 * depth and robots.txt, and may become a stored frontier entry and an
 * event; a 5 MB page can hold 200,000 of them.
 */
export const MAX_LINKS = 10_000;

/** How much of the page's visible text an item carries. */
export const TEXT_EXCERPT_LENGTH = 280;

export interface PageExtract extends Omit<StructuredData, "headline" | "summary" | "body"> {
  /** `<title>`, else og:title, twitter:title, the main entity's headline. */
  title: string;
  /** Meta description, else og:description, twitter:description, the main entity's description. */
  description: string;
  /**
   * The first {@link TEXT_EXCERPT_LENGTH} characters of the visible text,
   * whitespace collapsed. A page without visible text (a script-rendered
   * post) gives its post body (JSON-LD / microdata `articleBody` or `text`),
   * else its og:description or twitter:description.
   */
  text: string;
  /** Words of the visible text. */
  wordCount: number;
  /** Distinct normalised http(s) `<a href>` targets, any origin, in document order: the first {@link MAX_LINKS}. */
  links: Set<string>;
  canonicalUrl: string;
  /**
   * The structured data the item's fields came from: "json-ld:<Type>",
   * "microdata:<Type>" ("microdata" for properties outside any item),
   * "opengraph", "twitter-card", or "html" when the page had none.
   */
  source: string;
  /**
   * With {@link PageExtractorOptions.embeddings}: the L2-normalised feature-hashing
   * embedding of the whole visible text (of the title and description when
   * the page has no visible text); absent when the page has no words at all.
   */
  embedding?: Float32Array;
}

export interface PageExtractorOptions {
  /** Compute {@link PageExtract.embedding} (CrawlSpec.extract_embeddings). */
  embeddings?: boolean;
}

/** The meta tags read, by lower-cased `name` / `property`; others are not kept. */
const META_KEYS = new Set([
  "description", "author",
  "og:title", "og:description", "article:published_time", "article:author",
  "og:video:duration", "video:duration", "video:release_date",
  "twitter:creator", "twitter:title", "twitter:description",
]);

/** Where a meta tag's value comes from, for {@link PageExtract.source}. */
const metaOrigin = (key: string): "opengraph" | "twitter-card" | undefined =>
  key.startsWith("twitter:") ? "twitter-card" : /^(?:og|article|video):/.test(key) ? "opengraph" : undefined;

const isUrl = (value: string): boolean => /^https?:\/\//i.test(value);

/** Elements whose text is not visible page text. */
const HIDDEN = new Set(["script", "style", "noscript", "template", "title"]);

/** Elements that do not break a word: text either side of them runs together. */
const INLINE = new Set([
  "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd", "mark",
  "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr",
]);

/** 1 for the code units JavaScript's `\s` matches, 0 otherwise: a branch-free word scan. */
const SPACE = new Uint8Array(65_536);
for (const c of "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff") {
  SPACE[c.charCodeAt(0)] = 1;
}

const collapse = (text: string): string => text.replace(/\s+/g, " ").trim();

/** `text` cut to {@link MAX_FIELD_LENGTH} code units, never in the middle of a surrogate pair. */
function clip(text: string): string {
  if (text.length <= MAX_FIELD_LENGTH) return text;
  const cut = text.slice(0, MAX_FIELD_LENGTH);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

const hasToken = (list: string | undefined, token: string): boolean =>
  list !== undefined && list.toLowerCase().split(/\s+/).includes(token);

/**
 * Extracts one page at a time; `reset` makes it ready for the next page so a
 * crawler can keep one per concurrent fetch instead of one per page.
 */
export class PageExtractor {
  private parser: Parser;
  private pageUrl = "";
  private baseUrl = "";
  private baseSeen = false;
  private depth = 0;
  /** Set once the page nests deeper than {@link MAX_NESTING}: nothing more is parsed. */
  private stopped = false;
  private inHead = false;
  private hidden = 0;
  private svg = 0;
  /** The start of the visible text, raw, kept until it holds enough for the excerpt. */
  private head = "";
  private headOpen = true;
  /** Non-space characters seen: the collapsed text is at least this long. */
  private nonSpace = 0;
  private words = 0;
  /** 1 while the last visible character was part of a word. */
  private inWord = 0;
  private titleDepth = -1;
  private titleSeen = false;
  private title = "";
  private jsonLdDepth = -1;
  private jsonLd = "";
  private links = new Set<string>();
  private meta: Record<string, string> = {};
  private canonical = "";
  private jsonLdFields = new EntityFields();
  private readonly microdata = new MicrodataReader();
  /** Set when embeddings were asked for: fed every visible word as it streams. */
  private readonly embedder: TextEmbedder | undefined;

  constructor(options: PageExtractorOptions = {}) {
    // The extractor is the parser's handler itself: one call per token, no wrappers.
    this.parser = new Parser(this, { decodeEntities: true });
    this.embedder = options.embeddings === true ? new TextEmbedder() : undefined;
  }

  /** Prepares for a new page; relative links resolve against `pageUrl` (or its `<base href>`). */
  reset(pageUrl: string): void {
    // A new parser, not parser.reset(): htmlparser2 10.1's Tokenizer.reset() leaves `isSpecial` set after
    // a page that ended inside an unclosed <script>, <style> or <title>, and the next page's first `<`
    // then throws (TypeError in stateInSpecialTag) — one hostile page would break every later page the
    // pooled extractor parses. A parser costs microseconds next to the page.
    this.parser = new Parser(this, { decodeEntities: true });
    this.pageUrl = pageUrl;
    this.baseUrl = pageUrl;
    this.baseSeen = false;
    this.depth = 0;
    this.stopped = false;
    this.inHead = false;
    this.hidden = 0;
    this.svg = 0;
    this.head = "";
    this.headOpen = true;
    this.nonSpace = 0;
    this.words = 0;
    this.inWord = 0;
    this.titleDepth = -1;
    this.titleSeen = false;
    this.title = "";
    this.jsonLdDepth = -1;
    this.jsonLd = "";
    this.links = new Set();
    this.meta = {};
    this.canonical = "";
    this.jsonLdFields = new EntityFields();
    this.microdata.reset();
    this.embedder?.reset();
  }

  write(chunk: string): void {
    if (!this.stopped) this.parser.write(chunk);
  }

  /** True when the page nested deeper than {@link MAX_NESTING} and its rest was not parsed. */
  get truncated(): boolean {
    return this.stopped;
  }

  /** Finishes the page and returns what it carried; absent fields stay unset. */
  end(): PageExtract {
    if (this.stopped) {
      // The paused parser will not close what is open: close it here, so open items and captures are read.
      while (this.depth > 0) this.closeElement("");
    } else {
      this.parser.end();
    }
    const meta = this.meta;
    const origins = new Set<string>();
    /** The first meta tag of `keys` the page carries, noting where it came from. */
    const fromMeta = (...keys: string[]): string | undefined => {
      for (const key of keys) {
        const value = meta[key];
        if (value === undefined) continue;
        const origin = metaOrigin(key);
        if (origin !== undefined) origins.add(origin);
        return value;
      }
      return undefined;
    };

    const data: StructuredData = {};
    const author = fromMeta("twitter:creator", "author");
    if (author !== undefined) data.author = author;
    const published = parseDate(meta["article:published_time"]);
    if (published !== undefined) {
      fromMeta("article:published_time");
      data.publishedAt = published;
    }
    const microdata = this.microdata.end();
    fillMissing(data, this.jsonLdFields.fields());
    fillMissing(data, microdata.fields());
    this.fillFromOpenGraph(data, fromMeta);

    const { headline, summary, body, ...fields } = data;
    const title = clip(collapse(this.title));
    const excerpt = collapse(this.head).slice(0, TEXT_EXCERPT_LENGTH);
    const extract: PageExtract = {
      ...fields,
      title: title !== "" ? title : clip(fromMeta("og:title", "twitter:title") ?? headline ?? ""),
      description: clip(fromMeta("description", "og:description", "twitter:description") ?? summary ?? ""),
      text: excerpt !== "" ? excerpt : collapse(body ?? fromMeta("og:description", "twitter:description") ?? "").slice(0, TEXT_EXCERPT_LENGTH),
      wordCount: this.words,
      links: this.links,
      canonicalUrl: this.canonical,
      source: this.source(microdata, origins),
    };
    if (extract.author !== undefined) extract.author = clip(extract.author);
    if (extract.channel !== undefined) extract.channel = clip(extract.channel);
    const embedding = this.embedding(extract);
    if (embedding !== undefined) extract.embedding = embedding;
    return extract;
  }

  /** OpenGraph video and article tags, for what no JSON-LD or microdata gave. */
  private fillFromOpenGraph(data: StructuredData, fromMeta: (...keys: string[]) => string | undefined): void {
    if (data.durationSeconds === undefined && (this.meta["og:video:duration"] ?? this.meta["video:duration"]) !== undefined) {
      // OpenGraph gives whole seconds.
      const seconds = parseCount(fromMeta("og:video:duration", "video:duration"));
      if (seconds !== undefined && seconds <= 0xffff_ffffn) data.durationSeconds = Number(seconds);
    }
    if (data.publishedAt === undefined && this.meta["video:release_date"] !== undefined) {
      const date = parseDate(fromMeta("video:release_date"));
      if (date !== undefined) data.publishedAt = date;
    }
    const articleAuthor = this.meta["article:author"];
    // article:author is often a profile URL: that names no one.
    if (data.author === undefined && articleAuthor !== undefined && !isUrl(articleAuthor)) data.author = fromMeta("article:author");
  }

  private source(microdata: EntityFields, metaOrigins: Set<string>): string {
    const jsonLd = this.jsonLdFields.source;
    if (jsonLd !== undefined) return jsonLd === "" ? "json-ld" : `json-ld:${jsonLd}`;
    const item = microdata.source;
    if (item !== undefined) return item === "" ? "microdata" : `microdata:${item}`;
    if (metaOrigins.has("opengraph")) return "opengraph";
    if (metaOrigins.has("twitter-card")) return "twitter-card";
    return "html";
  }

  /** The embedding of the visible text; of the title, description and text when there is none. */
  private embedding(extract: PageExtract): Float32Array | undefined {
    const embedder = this.embedder;
    if (embedder === undefined) return undefined;
    embedder.breakWord();
    if (embedder.wordCount === 0) {
      for (const text of [extract.title, extract.description, extract.text]) {
        embedder.write(text);
        embedder.breakWord();
      }
    }
    return embedder.finish();
  }

  /** htmlparser2 handler. */
  onopentag(name: string, attribs: Record<string, string>): void {
    if (this.stopped) return;
    if (this.depth >= MAX_NESTING) {
      // Stops the tokenizer at this tag; `write` feeds it nothing more.
      this.stopped = true;
      this.parser.pause();
      return;
    }
    this.depth++;
    if (!INLINE.has(name)) this.boundary();
    switch (name) {
      case "a": {
        const href = attribs.href;
        if (href !== undefined && this.links.size < MAX_LINKS) {
          const url = normalizeUrl(href, this.baseUrl);
          if (url !== undefined) this.links.add(url);
        }
        break;
      }
      case "head":
        this.inHead = true;
        break;
      case "body":
        this.inHead = false;
        break;
      case "svg":
        this.svg++;
        break;
      case "title":
        if (!this.titleSeen && this.svg === 0) {
          this.titleSeen = true;
          this.titleDepth = this.depth;
        }
        break;
      case "base":
        if (!this.baseSeen && attribs.href !== undefined) {
          this.baseSeen = true;
          try {
            this.baseUrl = new URL(attribs.href, this.pageUrl).href;
          } catch {
            // An unparseable <base href> is ignored, as browsers do.
            this.baseUrl = this.pageUrl;
          }
        }
        break;
      case "meta":
        this.readMeta(attribs);
        break;
      case "link":
        if (this.canonical === "" && attribs.href !== undefined && hasToken(attribs.rel, "canonical")) {
          this.canonical = normalizeUrl(attribs.href, this.baseUrl) ?? "";
        }
        break;
      case "script":
        if (attribs.type !== undefined && attribs.type.trim().toLowerCase() === "application/ld+json") {
          this.jsonLdDepth = this.depth;
          this.jsonLd = "";
        }
        break;
    }
    if (HIDDEN.has(name)) this.hidden++;
    if (attribs.itemprop !== undefined || attribs.itemscope !== undefined) this.microdata.open(name, attribs, this.depth);
  }

  /** htmlparser2 handler. */
  onclosetag(name: string): void {
    // After the stop, htmlparser2 may still close the void element it stopped at: nothing of ours is open for it.
    if (!this.stopped) this.closeElement(name);
  }

  private closeElement(name: string): void {
    if (HIDDEN.has(name) && this.hidden > 0) this.hidden--;
    if (!INLINE.has(name)) this.boundary();
    const depth = this.depth;
    if (depth === this.titleDepth) this.titleDepth = -1;
    if (depth === this.jsonLdDepth) {
      this.jsonLdDepth = -1;
      readJsonLd(this.jsonLd, this.jsonLdFields);
      this.jsonLd = "";
    }
    this.microdata.close(depth);
    if (name === "head") this.inHead = false;
    else if (name === "svg" && this.svg > 0) this.svg--;
    this.depth--;
  }

  /** htmlparser2 handler. */
  ontext(text: string): void {
    // Twice the field limit leaves room for the whitespace collapse() removes.
    if (this.titleDepth !== -1 && this.title.length < 2 * MAX_FIELD_LENGTH) this.title += text;
    if (this.jsonLdDepth !== -1) this.jsonLd += text;
    if (this.microdata.capturing) this.microdata.text(text);
    if (this.hidden > 0 || this.inHead) return;
    if (this.headOpen) this.head += text;
    this.embedder?.write(text);
    let words = this.words;
    let inWord = this.inWord;
    let nonSpace = this.nonSpace;
    for (let i = 0; i < text.length; i++) {
      const word = (SPACE[text.charCodeAt(i)] as number) ^ 1;
      words += (inWord ^ 1) & word;
      nonSpace += word;
      inWord = word;
    }
    this.words = words;
    this.inWord = inWord;
    this.nonSpace = nonSpace;
    if (nonSpace >= TEXT_EXCERPT_LENGTH) this.headOpen = false;
  }

  /** A block element starts or ends: text either side of it are separate words. */
  private boundary(): void {
    this.inWord = 0;
    if (this.headOpen) this.head += " ";
    this.embedder?.breakWord();
  }

  private readMeta(attribs: Record<string, string>): void {
    const key = (attribs.property ?? attribs.name)?.trim().toLowerCase();
    if (key === undefined || !META_KEYS.has(key)) return;
    const content = attribs.content?.trim();
    if (content === undefined || content === "") return;
    this.meta[key] ??= content;
  }
}
