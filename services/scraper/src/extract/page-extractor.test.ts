import { describe, expect, it } from "vitest";
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
    expect(extractor.end()).toEqual({ title: "", description: "", text: "fresh", wordCount: 1, links: new Set(), canonicalUrl: "" });
  });
});
