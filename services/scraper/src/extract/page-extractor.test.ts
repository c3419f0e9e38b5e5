import { describe, expect, it } from "vitest";
import { cosineSimilarity, embedText } from "./embedding.js";
import { PageExtractor, TEXT_EXCERPT_LENGTH, type PageExtract } from "./page-extractor.js";

const PAGE = "http://example.com/dir/page";

function extract(html: string, url = PAGE, chunkSize = 0): PageExtract {
  const extractor = new PageExtractor();
  extractor.reset(url);
  if (chunkSize > 0) for (let i = 0; i < html.length; i += chunkSize) extractor.write(html.slice(i, i + chunkSize));
  else extractor.write(html);
  return extractor.end();
}

const tweet = `<!DOCTYPE html><html><head>
<meta charset="utf-8"><title>Ada on X: "Shipping the crawler today" / X</title>
<meta property="og:title" content="Ada (@ada)">
<meta property="og:description" content="Shipping the crawler today">
<meta name="twitter:creator" content="@ada">
<meta property="article:published_time" content="2025-11-18T19:30:00Z">
<link rel="canonical" href="https://x.com/ada/status/1790000000000000001">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"SocialMediaPosting",
 "author":{"@type":"Person","name":"Ada Lovelace"},"datePublished":"2024-01-01T00:00:00Z",
 "interactionStatistic":[
  {"@type":"InteractionCounter","interactionType":"https://schema.org/LikeAction","userInteractionCount":1200},
  {"@type":"InteractionCounter","interactionType":{"@type":"ShareAction"},"userInteractionCount":"3,400"},
  {"@type":"InteractionCounter","interactionType":"https://schema.org/CommentAction","userInteractionCount":56}]}</script>
</head><body><article><p>Shipping the crawler today</p><a href="/ada">@ada</a></article></body></html>`;

const video = `<html><head><title>Big Buck Bunny - YouTube</title>
<meta name="description" content="An open movie.">
<script type="application/ld+json">[{"@context":"https://schema.org","@type":"VideoObject","name":"Big Buck Bunny",
 "author":{"@type":"Person","name":"Blender Studio"},"duration":"PT9M56S","uploadDate":"2008-05-20",
 "interactionStatistic":{"@type":"InteractionCounter","interactionType":"http://schema.org/WatchAction","userInteractionCount":"51234567"}}]</script>
</head><body><div id="player"></div><p>Watch later</p></body></html>`;

const microdataVideo = `<html><head><title>Clip</title></head><body>
<div itemscope itemtype="http://schema.org/VideoObject">
 <meta itemprop="duration" content="PT1H2M3S">
 <span itemprop="author" itemscope itemtype="http://schema.org/Person"><link itemprop="url" href="/@chan"><link itemprop="name" content="Clip Channel"></span>
 <div itemprop="interactionStatistic" itemscope itemtype="https://schema.org/InteractionCounter">
  <meta itemprop="interactionType" content="https://schema.org/WatchAction"><meta itemprop="userInteractionCount" content="777">
 </div>
 <div itemprop="interactionStatistic" itemscope itemtype="https://schema.org/InteractionCounter">
  <meta itemprop="interactionType" content="https://schema.org/LikeAction"><meta itemprop="userInteractionCount" content="12">
 </div>
</div><p>Clip body</p></body></html>`;

const redditPost = `<html><head><title>What is your favourite crawler? : r/programming</title>
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},
 {"@type":"DiscussionForumPosting","headline":"What is your favourite crawler?","author":{"@type":"Person","name":"u/spider"},
  "upvoteCount":-4,"commentCount":42,"datePublished":"2025-02-03T04:05:06.000Z"}]}</script>
</head><body><shreddit-post>Post body text</shreddit-post></body></html>`;

describe("PageExtractor", () => {
  it("reads a tweet-shaped page: twitter meta, OpenGraph and SocialMediaPosting counts", () => {
    const page = extract(tweet, "https://x.com/ada/status/1790000000000000001");
    expect(page).toMatchObject({
      title: 'Ada on X: "Shipping the crawler today" / X',
      description: "Shipping the crawler today",
      author: "@ada",
      canonicalUrl: "https://x.com/ada/status/1790000000000000001",
      likes: 1200n,
      retweets: 3400n,
      comments: 56n,
      text: "Shipping the crawler today @ada",
      wordCount: 5,
    });
    expect(page.publishedAt?.toISOString()).toBe("2025-11-18T19:30:00.000Z");
    expect(page.views).toBeUndefined();
    expect([...page.links]).toEqual(["https://x.com/ada"]);
  });

  it("reads a VideoObject: channel, views and duration from JSON-LD", () => {
    const page = extract(video, "https://www.youtube.com/watch?v=aqz-KE-bpKQ");
    expect(page).toMatchObject({
      title: "Big Buck Bunny - YouTube",
      description: "An open movie.",
      channel: "Blender Studio",
      author: "Blender Studio",
      views: 51234567n,
      durationSeconds: 596,
      text: "Watch later",
      wordCount: 2,
    });
    expect(page.likes).toBeUndefined();
    expect(page.publishedAt).toBeUndefined();
  });

  it("reads microdata: itemprop=author name as channel, InteractionCounters and duration", () => {
    expect(extract(microdataVideo)).toMatchObject({ channel: "Clip Channel", views: 777n, likes: 12n, durationSeconds: 3723 });
  });

  it("reads a @graph DiscussionForumPosting: score may be negative, comments, author", () => {
    const page = extract(redditPost, "https://www.reddit.com/r/programming/comments/abc123/title/");
    expect(page).toMatchObject({ author: "u/spider", score: -4n, comments: 42n, text: "Post body text", wordCount: 3 });
    expect(page.publishedAt?.toISOString()).toBe("2025-02-03T04:05:06.000Z");
  });

  it.each<[string, string, Partial<PageExtract>]>([
    ["og:title when there is no <title>", `<meta property="og:title" content="OG">`, { title: "OG" }],
    ["og:description when there is no meta description", `<meta property="og:description" content="ogd">`, { description: "ogd" }],
    ["meta description over og:description", `<meta property="og:description" content="ogd"><meta name="Description" content="plain">`, { description: "plain" }],
    ["meta author when there is no twitter:creator", `<meta name="author" content="Jane Doe">`, { author: "Jane Doe" }],
    ["JSON-LD author when there is no meta author", `<script type="application/ld+json">{"@type":"Article","author":[{"name":"JL"}]}</script>`, { author: "JL" }],
    ["a collapsed title", `<title>\n  Two\n   words </title>`, { title: "Two words" }],
    ["entities decoded", `<title>Fish &amp; Chips</title><body>caf&eacute; &lt;b&gt;</body>`, { title: "Fish & Chips", text: "café <b>" }],
    ["the first <title> only, not an SVG one", `<title>Page</title><body><svg><title>icon</title></svg>x</body>`, { title: "Page", text: "x" }],
    ["canonical among several rel tokens", `<link rel="alternate canonical" href="/canon#frag">`, { canonicalUrl: "http://example.com/canon" }],
    ["a relative canonical resolved", `<link rel="canonical" href="other">`, { canonicalUrl: "http://example.com/dir/other" }],
  ])("uses %s", (_name, html, expected) => {
    expect(extract(html)).toMatchObject(expected);
  });

  it("leaves every optional field unset on a bare page", () => {
    const page = extract("<html><body><p>Just text.</p></body></html>");
    expect(page).toEqual({
      title: "",
      description: "",
      text: "Just text.",
      wordCount: 2,
      links: new Set(),
      canonicalUrl: "",
      source: "html",
    });
  });

  it("ignores malformed JSON-LD and invalid counts rather than guessing", () => {
    const html = `<script type="application/ld+json">{"@type": "VideoObject", broken</script>
      <script type="application/ld+json">{"@type":"VideoObject","duration":"soon","interactionStatistic":{"interactionType":"LikeAction","userInteractionCount":"many"}}</script>
      <meta property="article:published_time" content="not a date">`;
    const page = extract(html);
    expect(page.likes).toBeUndefined();
    expect(page.durationSeconds).toBeUndefined();
    expect(page.publishedAt).toBeUndefined();
  });

  describe("visible text", () => {
    it.each<[string, string, string, number]>([
      ["excludes script, style, noscript and head", `<head><title>T</title><style>p{}</style></head><body><script>var a = 1;</script><noscript>enable js</noscript><p>shown</p></body>`, "shown", 1],
      ["collapses whitespace", `<body><p>  a\n\n b\t c  </p></body>`, "a b c", 3],
      ["separates block elements", `<body><p>one</p><p>two</p><div>three<br>four</div></body>`, "one two three four", 4],
      ["joins inline elements", `<body><p>un<b>believ</b>able <a href="#">link</a></p></body>`, "unbelievable link", 2],
      ["counts text without a <body> tag", `<p>no body tag here</p>`, "no body tag here", 4],
      ["treats non-breaking spaces as spaces", `<body>a&nbsp;b</body>`, "a b", 2],
    ])("%s", (_name, html, text, words) => {
      expect(extract(html)).toMatchObject({ text, wordCount: words });
    });

    it(`keeps the first ${TEXT_EXCERPT_LENGTH} characters and counts every word`, () => {
      const words = Array.from({ length: 200 }, (_, i) => `word${i}`);
      const page = extract(`<body><p>${words.join("   ")}</p></body>`);
      expect(page.text).toBe(words.join(" ").slice(0, TEXT_EXCERPT_LENGTH));
      expect(page.wordCount).toBe(200);
    });

    it("gives the same result however the body is chunked", () => {
      const whole = extract(tweet);
      for (const size of [1, 7, 64]) expect(extract(tweet, PAGE, size)).toEqual(whole);
    });
  });

  describe("links", () => {
    it("keeps distinct normalised http(s) targets of any origin, in document order", () => {
      const page = extract(`<body>
        <a href="/a">a</a><a href="/a#x">a again</a><a href="b?q=1">b</a><a href="HTTP://Other.COM:80/">other</a>
        <a href="mailto:x@example.com">mail</a><a href="javascript:void(0)">js</a><a>no href</a><a href="https://other.com/">tls</a></body>`);
      expect([...page.links]).toEqual(["http://example.com/a", "http://example.com/dir/b?q=1", "http://other.com/", "https://other.com/"]);
    });

    it("honours <base href>", () => {
      const page = extract(`<head><base href="https://cdn.example.net/root/"></head><body><a href="x">x</a><a href="/y">y</a></body>`);
      expect([...page.links]).toEqual(["https://cdn.example.net/root/x", "https://cdn.example.net/y"]);
    });
  });

  it("is reusable: reset clears everything from the previous page", () => {
    const extractor = new PageExtractor();
    extractor.reset("http://a.test/");
    extractor.write(tweet);
    extractor.end();
    extractor.reset("http://b.test/");
    extractor.write("<p>fresh</p>");
    expect(extractor.end()).toEqual({ title: "", description: "", text: "fresh", wordCount: 1, links: new Set(), canonicalUrl: "", source: "html" });
  });
});

describe("PageExtractor: microdata", () => {
  const ld = (json: string) => `<script type="application/ld+json">${json}</script>`;

  it.each<[string, string, Partial<PageExtract>]>([
    [
      "text values, interactionCount with its unit",
      `<div itemscope itemtype="https://schema.org/VideoObject"><span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">Chan <b>Nel</b></span></span>
       <span itemprop="interactionCount">12,345 views</span><meta itemprop="duration" content="PT2M"></div>`,
      { channel: "Chan Nel", author: "Chan Nel", views: 12_345n, durationSeconds: 120, source: "microdata:VideoObject" },
    ],
    [
      "interactionStatistic with interactionType as a nested itemscope",
      `<div itemscope itemtype="http://schema.org/VideoObject"><div itemprop="interactionStatistic" itemscope itemtype="https://schema.org/InteractionCounter">
       <meta itemprop="interactionType" itemscope itemtype="https://schema.org/WatchAction"><meta itemprop="userInteractionCount" content="64"></div></div>`,
      { views: 64n, source: "microdata:VideoObject" },
    ],
    [
      "interactionType as a link, legacy UserLikes counts",
      `<article itemscope itemtype="https://schema.org/SocialMediaPosting"><div itemprop="interactionStatistic" itemscope itemtype="https://schema.org/InteractionCounter">
       <link itemprop="interactionType" href="https://schema.org/ShareAction"><span itemprop="userInteractionCount">7</span></div>
       <meta itemprop="interactionCount" content="UserLikes:31"><meta itemprop="interactionCount" content="UserComments:4"></article>`,
      { retweets: 7n, likes: 31n, comments: 4n, source: "microdata:SocialMediaPosting" },
    ],
    [
      "a DiscussionForumPosting: upvoteCount is the score, <time datetime> the date",
      `<div itemscope itemtype="https://schema.org/DiscussionForumPosting"><h1 itemprop="headline">Q</h1><span itemprop="upvoteCount">-2</span>
       <span itemprop="commentCount">5</span><time itemprop="datePublished" datetime="2025-01-02T03:04:05Z">Jan 2</time></div>`,
      { score: -2n, comments: 5n, publishedAt: new Date("2025-01-02T03:04:05Z"), source: "microdata:DiscussionForumPosting" },
    ],
    [
      "properties named by URL",
      `<div itemscope itemtype="https://schema.org/VideoObject"><meta itemprop="https://schema.org/duration" content="PT10S"></div>`,
      { durationSeconds: 10 },
    ],
    [
      "properties outside any item (a duration meta in the head)",
      `<head><meta itemprop="duration" content="PT1M1S"></head><body>x</body>`,
      { durationSeconds: 61, source: "microdata" },
    ],
    [
      "a headline as the title of a page without one",
      `<article itemscope itemtype="https://schema.org/BlogPosting"><h1 itemprop="headline">Post title</h1></article>`,
      { title: "Post title", source: "microdata:BlogPosting" },
    ],
    [
      "JSON-LD before microdata when both carry a field",
      `${ld('{"@type":"VideoObject","duration":"PT1S"}')}<div itemscope itemtype="https://schema.org/VideoObject"><meta itemprop="duration" content="PT2S"><meta itemprop="interactionCount" content="9"></div>`,
      { durationSeconds: 1, views: 9n, source: "json-ld:VideoObject" },
    ],
  ])("reads %s", (_name, html, expected) => {
    expect(extract(html)).toMatchObject(expected);
  });

  it("names a channel only for a video's author, not an article's", () => {
    const page = extract(`<article itemscope itemtype="https://schema.org/Article"><span itemprop="author" itemscope itemtype="https://schema.org/Person"><meta itemprop="name" content="Writer"></span></article>`);
    expect(page.author).toBe("Writer");
    expect(page.channel).toBeUndefined();
  });

  it("keeps a nested item's properties out of its parent", () => {
    const page = extract(`<div itemscope itemtype="https://schema.org/VideoObject"><div itemprop="publisher" itemscope itemtype="https://schema.org/Organization">
      <meta itemprop="duration" content="PT9S"><span itemprop="author">Not the author</span></div></div>`);
    expect(page.durationSeconds).toBeUndefined();
    expect(page.author).toBeUndefined();
  });

  it.each([
    ["<script>", "<script>var x = 1;"],
    ["<style>", "<style>p { color: red }"],
    ["<title>", "<title>never closed"],
    ["<textarea>", "<textarea>never closed"],
    ["a page cut inside a tag", "<div class="],
  ])("parses the next page normally after one that ended in an unclosed %s", (_name, unclosed) => {
    const extractor = new PageExtractor();
    extractor.reset("https://example.com/a");
    extractor.write(`<html><head><title>A</title></head><body>${unclosed}`);
    extractor.end();
    extractor.reset("https://example.com/b");
    extractor.write(`<html><head><title>B</title></head><body><p>second page</p><a href="/c">c</a></body></html>`);
    expect(extractor.end()).toMatchObject({ title: "B", wordCount: 3, links: new Set(["https://example.com/c"]) });
  });

  it("does not crash on unclosed scopes or thousands of items", () => {
    // Thousands of items side by side, then hundreds left open (deeper than MAX_NESTING would stop the parse).
    const many = Array.from({ length: 2000 }, (_, i) => `<div itemscope itemtype="https://schema.org/Thing"><span itemprop="name">${i}</span></div>`).join("");
    const open = Array.from({ length: 300 }, (_, i) => `<div itemscope itemtype="https://schema.org/Thing"><span itemprop="name">${i}</span>`).join("");
    const page = extract(`<body>${many}${open}<div itemscope itemtype="https://schema.org/VideoObject"><meta itemprop="duration" content="PT3S">`);
    expect(page.wordCount).toBe(2300);
  });
});

describe("PageExtractor: OpenGraph, Twitter cards and sources", () => {
  it.each<[string, string, Partial<PageExtract>]>([
    ["twitter:title when there is neither <title> nor og:title", `<meta name="twitter:title" content="TT">`, { title: "TT", source: "twitter-card" }],
    ["twitter:description after og:description", `<meta name="twitter:description" content="td">`, { description: "td" }],
    ["the JSON-LD headline as a last resort", `<script type="application/ld+json">{"@type":"NewsArticle","headline":"HL","description":"D"}</script>`, { title: "HL", description: "D", source: "json-ld:NewsArticle" }],
    ["og:video:duration in seconds", `<meta property="og:video:duration" content="754">`, { durationSeconds: 754, source: "opengraph" }],
    ["video:release_date as the date", `<meta property="video:release_date" content="2024-05-06">`, { publishedAt: new Date("2024-05-06T00:00:00Z"), source: "opengraph" }],
    ["article:author when it is a name", `<meta property="article:author" content="Ann Author">`, { author: "Ann Author", source: "opengraph" }],
    ["JSON-LD wrapped in an HTML comment", `<script type="application/ld+json"><!--{"@type":"VideoObject","duration":"PT5S"}--></script>`, { durationSeconds: 5 }],
    ["the content entity's author over the WebPage's", `<script type="application/ld+json">{"@graph":[{"@type":"WebPage","author":"Site"},{"@type":"BlogPosting","author":{"name":"Blogger"}}]}</script>`, { author: "Blogger", source: "json-ld:BlogPosting" }],
    ["an untyped entity as json-ld", `<script type="application/ld+json">{"datePublished":"2020-01-01T00:00:00Z"}</script>`, { source: "json-ld" }],
    ["og:title as the source of the title", `<meta property="og:title" content="OG">`, { title: "OG", source: "opengraph" }],
  ])("uses %s", (_name, html, expected) => {
    expect(extract(html)).toMatchObject(expected);
  });

  it.each<[string, string]>([
    ["article:author as a profile URL", `<meta property="article:author" content="https://facebook.com/someone">`],
    ["abbreviated counts", `<script type="application/ld+json">{"@type":"VideoObject","interactionStatistic":{"interactionType":"WatchAction","userInteractionCount":"1.2K"}}</script>`],
    ["negative counts", `<script type="application/ld+json">{"@type":"SocialMediaPosting","interactionStatistic":{"interactionType":"LikeAction","userInteractionCount":-5}}</script>`],
    ["a bare URL as the author", `<script type="application/ld+json">{"@type":"Article","author":"https://example.com/me"}</script>`],
  ])("invents nothing from %s", (_name, html) => {
    const page = extract(html);
    for (const field of ["author", "likes", "views", "score"] as const) expect(page[field]).toBeUndefined();
  });

  it("keeps only the meta tags it reads", () => {
    const tags = Array.from({ length: 500 }, (_, i) => `<meta name="custom-${i}" content="${i}">`).join("");
    expect(extract(`${tags}<meta name="description" content="kept">`)).toMatchObject({ description: "kept", source: "html" });
  });
});

describe("PageExtractor: embeddings", () => {
  const embed = (html: string, chunkSize = 0): Float32Array | undefined => {
    const extractor = new PageExtractor({ embeddings: true });
    extractor.reset(PAGE);
    if (chunkSize > 0) for (let i = 0; i < html.length; i += chunkSize) extractor.write(html.slice(i, i + chunkSize));
    else extractor.write(html);
    return extractor.end().embedding;
  };
  const long = (tail: string) => `<body><p>${"shared opening words ".repeat(40)}</p><p>${tail}</p></body>`;

  it("is absent unless asked for", () => {
    expect(extract("<p>words</p>").embedding).toBeUndefined();
  });

  it("embeds the visible text: the same vector as embedText of it", () => {
    const vector = embed(`<head><title>Not body</title><style>p{}</style></head><body><p>Alpha beta</p><script>var hidden = 1;</script><div>gamma</div></body>`);
    expect(vector).toEqual(embedText("alpha beta gamma"));
  });

  it("covers the whole text, not just the excerpt", () => {
    const a = embed(long("the ending about ships and harbours and the sea"));
    const b = embed(long("a different ending about databases, indexes and query planners"));
    expect(extract(long("x")).text).toBe(extract(long("y")).text.slice(0, TEXT_EXCERPT_LENGTH));
    expect(a).not.toEqual(b);
  });

  it("does not split words at inline markup, and splits them at blocks", () => {
    expect(embed("<p>un<b>believ</b>able</p>")).toEqual(embedText("unbelievable"));
    expect(embed("<p>one</p><p>two</p>")).toEqual(embedText("one two"));
  });

  it("gives the same vector however the page is chunked", () => {
    const html = long("chunk boundaries must not matter to the words");
    const whole = embed(html);
    for (const size of [1, 3, 17, 256]) expect(embed(html, size)).toEqual(whole);
  });

  it("falls back to the title and description of a page without visible text", () => {
    const vector = embed(`<head><title>Only a title</title><meta name="description" content="and a description"></head><body><script>app()</script></body>`);
    expect(vector).toBeDefined();
    expect(cosineSimilarity(vector as Float32Array, embedText("only a title and a description"))).toBeGreaterThan(0.7);
  });

  it("is absent for a page without any words", () => {
    expect(embed("<html><body><img src=x></body></html>")).toBeUndefined();
  });

  it("is reset between pages", () => {
    const extractor = new PageExtractor({ embeddings: true });
    extractor.reset(PAGE);
    extractor.write("<p>first page words</p>");
    extractor.end();
    extractor.reset(PAGE);
    extractor.write("<p>second</p>");
    expect(extractor.end().embedding).toEqual(embedText("second"));
  });
});
