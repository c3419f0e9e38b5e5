/**
 * Single-pass extraction of a page as its bytes arrive: one htmlparser2
 * parser per in-flight page, fed chunk by chunk, gathering the title,
 * description, text excerpt, word count, links and structured data the
 * crawl contract lists. Nothing is re-parsed and no DOM is built.
 */
import { Parser } from "htmlparser2";
import { normalizeUrl } from "../crawl/normalize-url.js";
import { readJsonLd } from "./json-ld.js";
import { applyCounter, fillMissing, type StructuredData } from "./structured-data.js";
import { parseCount, parseDate, parseInteger, parseIsoDuration } from "./values.js";

/** How much of the page's visible text an item carries. */
export const TEXT_EXCERPT_LENGTH = 280;

export interface PageExtract extends StructuredData {
  title: string;
  description: string;
  /** The first {@link TEXT_EXCERPT_LENGTH} characters of the visible text, whitespace collapsed. */
  text: string;
  wordCount: number;
  /** Distinct normalised http(s) `<a href>` targets, any origin, in document order. */
  links: Set<string>;
  canonicalUrl: string;
}

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

const hasToken = (list: string | undefined, token: string): boolean =>
  list !== undefined && list.toLowerCase().split(/\s+/).includes(token);

/** A microdata scope being read (`itemprop=author` or `itemprop=interactionStatistic`). */
interface Scope {
  depth: number;
  interactionType?: string;
  count?: string;
}

/**
 * Extracts one page at a time; `reset` makes it ready for the next page so a
 * crawler can keep one per concurrent fetch instead of one per page.
 */
export class PageExtractor {
  private readonly parser: Parser;
  private pageUrl = "";
  private baseUrl = "";
  private baseSeen = false;
  private depth = 0;
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
  private fromJsonLd: StructuredData = {};
  private fromMicrodata: StructuredData = {};
  private authorScope: Scope | undefined;
  private counterScope: Scope | undefined;
  private nameCaptureDepth = -1;
  private nameText = "";

  constructor() {
    // The extractor is the parser's handler itself: one call per token, no wrappers.
    this.parser = new Parser(this, { decodeEntities: true });
  }

  /** Prepares for a new page; relative links resolve against `pageUrl` (or its `<base href>`). */
  reset(pageUrl: string): void {
    this.parser.reset();
    this.pageUrl = pageUrl;
    this.baseUrl = pageUrl;
    this.baseSeen = false;
    this.depth = 0;
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
    this.fromJsonLd = {};
    this.fromMicrodata = {};
    this.authorScope = undefined;
    this.counterScope = undefined;
    this.nameCaptureDepth = -1;
    this.nameText = "";
  }

  write(chunk: string): void {
    this.parser.write(chunk);
  }

  /** Finishes the page and returns what it carried; absent fields stay unset. */
  end(): PageExtract {
    this.parser.end();
    const meta = this.meta;
    const data: StructuredData = {};
    const author = meta["twitter:creator"] ?? meta.author;
    if (author !== undefined) data.author = author;
    const published = parseDate(meta["article:published_time"]);
    if (published !== undefined) data.publishedAt = published;
    fillMissing(data, this.fromJsonLd);
    fillMissing(data, this.fromMicrodata);
    const title = collapse(this.title);
    return {
      ...data,
      title: title !== "" ? title : (meta["og:title"] ?? ""),
      description: meta.description ?? meta["og:description"] ?? "",
      text: collapse(this.head).slice(0, TEXT_EXCERPT_LENGTH),
      wordCount: this.words,
      links: this.links,
      canonicalUrl: this.canonical,
    };
  }

  /** htmlparser2 handler. */
  onopentag(name: string, attribs: Record<string, string>): void {
    this.depth++;
    if (!INLINE.has(name)) this.boundary();
    switch (name) {
      case "a": {
        const href = attribs.href;
        if (href !== undefined) {
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
    if (attribs.itemprop !== undefined) this.readItemprop(attribs);
  }

  /** htmlparser2 handler. */
  onclosetag(name: string): void {
    if (HIDDEN.has(name) && this.hidden > 0) this.hidden--;
    if (!INLINE.has(name)) this.boundary();
    const depth = this.depth;
    if (depth === this.titleDepth) this.titleDepth = -1;
    if (depth === this.jsonLdDepth) {
      this.jsonLdDepth = -1;
      readJsonLd(this.jsonLd, this.fromJsonLd);
      this.jsonLd = "";
    }
    if (depth === this.nameCaptureDepth) {
      this.nameCaptureDepth = -1;
      const name = collapse(this.nameText);
      if (name !== "") this.fromMicrodata.channel ??= name;
    }
    if (this.authorScope?.depth === depth) this.authorScope = undefined;
    if (this.counterScope?.depth === depth) {
      applyCounter(this.fromMicrodata, this.counterScope.interactionType, this.counterScope.count);
      this.counterScope = undefined;
    }
    if (name === "head") this.inHead = false;
    else if (name === "svg" && this.svg > 0) this.svg--;
    this.depth--;
  }

  /** htmlparser2 handler. */
  ontext(text: string): void {
    if (this.titleDepth !== -1) this.title += text;
    if (this.jsonLdDepth !== -1) this.jsonLd += text;
    if (this.nameCaptureDepth !== -1) this.nameText += text;
    if (this.hidden > 0 || this.inHead) return;
    if (this.headOpen) this.head += text;
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
  }

  private readMeta(attribs: Record<string, string>): void {
    const key = (attribs.property ?? attribs.name)?.trim().toLowerCase();
    const content = attribs.content?.trim();
    if (key === undefined || content === undefined || content === "") return;
    this.meta[key] ??= content;
  }

  /** Microdata: `itemprop=author` scopes name the channel; InteractionCounters and a few counts. */
  private readItemprop(attribs: Record<string, string>): void {
    const props = attribs.itemprop?.toLowerCase().split(/\s+/) ?? [];
    const value = attribs.content ?? attribs.href;
    const scoped = attribs.itemscope !== undefined;
    const into = this.fromMicrodata;
    for (const prop of props) {
      if (this.counterScope !== undefined) {
        if (prop === "interactiontype") this.counterScope.interactionType = value;
        else if (prop === "userinteractioncount") this.counterScope.count = value;
        continue;
      }
      switch (prop) {
        case "author":
          if (scoped && this.authorScope === undefined) this.authorScope = { depth: this.depth };
          break;
        case "name":
          if (this.authorScope !== undefined && into.channel === undefined) {
            if (attribs.content !== undefined && attribs.content.trim() !== "") into.channel = attribs.content.trim();
            else if (this.nameCaptureDepth === -1) {
              this.nameCaptureDepth = this.depth;
              this.nameText = "";
            }
          }
          break;
        case "interactionstatistic":
          if (scoped) this.counterScope = { depth: this.depth };
          break;
        case "duration":
          into.durationSeconds ??= parseIsoDuration(value);
          break;
        case "commentcount":
          into.comments ??= parseCount(value);
          break;
        case "upvotecount":
          into.score ??= parseInteger(value);
          break;
        case "datepublished":
          into.publishedAt ??= parseDate(value);
          break;
      }
    }
  }
}
