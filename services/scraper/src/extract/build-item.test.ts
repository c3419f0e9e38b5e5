import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Platform, type Item } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { buildItem } from "./build-item.js";
import { EMBEDDING_DIMENSIONS } from "./embedding.js";
import { NearDuplicateIndex } from "./near-duplicates.js";
import { PageExtractor } from "./page-extractor.js";
import { pageId } from "./platform.js";

function itemOf(html: string, url: string, platform: Platform, options: { embeddings?: boolean; nearDuplicates?: NearDuplicateIndex } = {}): Item {
  const extractor = new PageExtractor({ embeddings: options.embeddings === true });
  extractor.reset(url);
  // Pages arrive in chunks; split mid-tag to make sure nothing depends on chunk boundaries.
  for (let i = 0; i < html.length; i += 501) extractor.write(html.slice(i, i + 501));
  return buildItem({ platform, url, depth: 1, extract: extractor.end() }, options);
}

/** The seed-000 preview fields and the rest of the Item a test pins. */
interface Expected {
  id: string;
  title?: string;
  description?: string;
  text?: string;
  author?: string;
  channel?: string;
  subreddit?: string;
  likes?: bigint;
  retweets?: bigint;
  views?: bigint;
  score?: bigint;
  comments?: bigint;
  durationSeconds?: number;
  publishedAt?: string;
  canonicalUrl?: string;
  wordCount?: number;
  linksFound?: number;
  source: string;
}

/** Optional fields an item must leave unset unless the page carries them. */
const OPTIONAL = ["author", "channel", "subreddit", "likes", "retweets", "views", "score", "comments", "durationSeconds"] as const;

function expectItem(item: Item, expected: Expected): void {
  const { publishedAt, ...fields } = expected;
  expect(item).toMatchObject(fields);
  for (const field of OPTIONAL) {
    if (!(field in expected)) expect(item[field], `${field} is not on the page, so it stays unset`).toBeUndefined();
  }
  expect(item.publishedAt ? timestampDate(item.publishedAt).toISOString() : undefined).toBe(publishedAt);
  expect(item.embedding).toEqual([]);
  expect(item.nearDuplicateOf).toBe("");
}

// x.com serves a status with OpenGraph and Twitter-card tags, and a
// SocialMediaPosting whose counters are sometimes numbers, sometimes strings.
const tweetPage = (counts: { likes: number | string; shares: number | string }) => `<!DOCTYPE html>
<html dir="ltr" lang="en"><head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Ada Lovelace on X: "The Analytical Engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves." / X</title>
<meta property="og:site_name" content="X (formerly Twitter)">
<meta property="og:type" content="article">
<meta property="og:url" content="https://x.com/ada/status/1858912345678901001">
<meta property="og:title" content="Ada Lovelace on X">
<meta property="og:description" content="&#8220;The Analytical Engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves.&#8221;">
<meta property="og:image" content="https://pbs.twimg.com/profile_images/1/ada_400x400.jpg">
<meta name="twitter:card" content="summary">
<meta name="twitter:site" content="@X">
<meta name="twitter:creator" content="@ada">
<meta property="article:published_time" content="2025-11-18T19:30:05Z">
<link rel="canonical" href="https://x.com/ada/status/1858912345678901001">
<script type="application/ld+json">
{"@context":"https://schema.org","@type":"SocialMediaPosting","@id":"https://x.com/ada/status/1858912345678901001",
 "author":{"@type":"Person","name":"Ada Lovelace","alternateName":"@ada","url":"https://x.com/ada"},
 "datePublished":"2025-11-18T19:30:05.000Z",
 "text":"The Analytical Engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves.",
 "interactionStatistic":[
  {"@type":"InteractionCounter","interactionType":"https://schema.org/LikeAction","userInteractionCount":${JSON.stringify(counts.likes)}},
  {"@type":"InteractionCounter","interactionType":"https://schema.org/ShareAction","userInteractionCount":${JSON.stringify(counts.shares)}},
  {"@type":"InteractionCounter","interactionType":"https://schema.org/CommentAction","userInteractionCount":27}]}
</script>
<script>window.__INITIAL_STATE__={"featureSwitch":{"a":true}};</script>
</head><body>
<div id="react-root"><main role="main">
 <article data-testid="tweet" role="article">
  <a href="/ada" role="link"><span>Ada Lovelace</span></a><span>@ada</span>
  <div data-testid="tweetText" lang="en"><span>The Analytical Engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves.</span></div>
  <a href="/ada/status/1858912345678901001"><time datetime="2025-11-18T19:30:05.000Z">7:30 PM · Nov 18, 2025</time></a>
  <div role="group"><span>65 Reposts</span><span>185 Likes</span></div>
 </article>
</main></div></body></html>`;

// What x.com serves a client without JavaScript: an app shell whose only
// readable copy of the post is in the meta tags.
const tweetShell = `<!DOCTYPE html><html><head>
<meta property="og:type" content="article">
<meta property="og:title" content="Grace Hopper on X">
<meta property="og:description" content="A ship in port is safe, but that is not what ships are built for.">
<meta name="twitter:creator" content="@grace">
<title>X</title>
<script>window.__SCRIPTS_LOADED__ = {};</script></head>
<body><noscript><div>JavaScript is not available.</div></noscript><div id="react-root"></div></body></html>`;

// A watch page: OpenGraph video tags and a VideoObject; `author` is an object or a list.
const watchPage = (author: string, stats: string) => `<!DOCTYPE html><html lang="en"><head>
<title>Building a Crawler in TypeScript - YouTube</title>
<meta name="title" content="Building a Crawler in TypeScript">
<meta name="description" content="We build a polite, resumable crawler from scratch.">
<meta property="og:site_name" content="YouTube">
<meta property="og:url" content="https://www.youtube.com/watch?v=aqz-KE-bpKQ">
<meta property="og:title" content="Building a Crawler in TypeScript">
<meta property="og:type" content="video.other">
<meta property="og:video:url" content="https://www.youtube.com/embed/aqz-KE-bpKQ">
<meta property="og:video:secure_url" content="https://www.youtube.com/embed/aqz-KE-bpKQ">
<meta property="og:video:type" content="text/html"><meta property="og:video:width" content="1280"><meta property="og:video:height" content="720">
<meta name="twitter:card" content="player"><meta name="twitter:player" content="https://www.youtube.com/embed/aqz-KE-bpKQ">
<link rel="canonical" href="https://www.youtube.com/watch?v=aqz-KE-bpKQ">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"VideoObject","name":"Building a Crawler in TypeScript",
 "description":"We build a polite, resumable crawler from scratch.","thumbnailUrl":["https://i.ytimg.com/vi/aqz-KE-bpKQ/hqdefault.jpg"],
 "uploadDate":"2025-03-03","duration":"PT1H2M3S","embedUrl":"https://www.youtube.com/embed/aqz-KE-bpKQ",
 "author":${author},"interactionStatistic":${stats}}</script>
</head><body><div id="content"><h1>Building a Crawler in TypeScript</h1>
<a href="/@CodeWithKim">Code with Kim</a><div id="info">51,234,567 views</div>
<section id="related"><h2>Up next</h2><a href="/watch?v=abcdefghijk">Rate limiting done right</a></section></div></body></html>`;

// Older watch pages carry the same facts as microdata only.
const microdataWatchPage = `<!DOCTYPE html><html><head><title>Tiny Clip - YouTube</title></head><body>
<div id="watch7-content" itemscope itemtype="http://schema.org/VideoObject">
 <link itemprop="url" href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">
 <meta itemprop="name" content="Tiny Clip">
 <meta itemprop="duration" content="PT4M13S">
 <span itemprop="author" itemscope itemtype="http://schema.org/Person">
  <link itemprop="url" href="https://www.youtube.com/@tinyclips"><link itemprop="name" content="Tiny Clips">
 </span>
 <h1>Tiny Clip</h1>
 <div class="watch-view-count" itemprop="interactionCount">1,234 views</div>
 <meta itemprop="uploadDate" content="2009-10-25">
</div></body></html>`;

// A Reddit thread: a DiscussionForumPosting (here inside @graph) whose score is its LikeAction count.
const redditThread = `<!DOCTYPE html><html lang="en"><head>
<title>What is your favourite crawler? : r/programming</title>
<meta property="og:site_name" content="Reddit"><meta property="og:type" content="website">
<meta property="og:title" content="r/programming on Reddit: What is your favourite crawler?">
<meta property="og:description" content="Posted by u/spider - 312 votes and 42 comments">
<link rel="canonical" href="https://www.reddit.com/r/programming/comments/1gxyz12/what_is_your_favourite_crawler/">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
 {"@type":"WebPage","name":"What is your favourite crawler?","author":{"@type":"Organization","name":"Reddit"}},
 {"@type":"DiscussionForumPosting","headline":"What is your favourite crawler?",
  "url":"https://www.reddit.com/r/programming/comments/1gxyz12/what_is_your_favourite_crawler/",
  "author":{"@type":"Person","name":"spider","url":"https://www.reddit.com/user/spider/"},
  "datePublished":"2025-02-03T04:05:06.000Z","commentCount":42,
  "interactionStatistic":[{"@type":"InteractionCounter","interactionType":"https://schema.org/LikeAction","userInteractionCount":312},
   {"@type":"InteractionCounter","interactionType":"https://schema.org/CommentAction","userInteractionCount":42}],
  "comment":[{"@type":"Comment","author":{"@type":"Person","name":"someone_else"},"upvoteCount":9,"text":"Scrapy."}]}]}</script>
</head><body><shreddit-post post-title="What is your favourite crawler?" score="312" comment-count="42">
<h1>What is your favourite crawler?</h1><p>Posted by <a href="/user/spider/">u/spider</a></p>
<p>Mine is the one I wrote last weekend.</p></shreddit-post>
<div class="comment"><a href="/user/someone_else/">u/someone_else</a><p>Scrapy.</p></div></body></html>`;

// A news article: a WebPage whose mainEntity is the NewsArticle; the publisher is not the author.
const newsArticle = `<!DOCTYPE html><html lang="en"><head>
<title>Open crawler passes the 5,000-page test | The Daily Byte</title>
<meta name="description" content="A new open-source crawler keeps its memory flat on large sites.">
<meta property="og:type" content="article"><meta property="og:title" content="Open crawler passes the 5,000-page test">
<meta property="article:section" content="Technology">
<link rel="canonical" href="https://news.example.com/2025/11/open-crawler-5000-pages#top">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"WebPage","url":"https://news.example.com/2025/11/open-crawler-5000-pages",
 "mainEntity":{"@type":"NewsArticle","headline":"Open crawler passes the 5,000-page test",
  "datePublished":"2025-11-20T08:00:00+01:00","dateModified":"2025-11-20T09:30:00+01:00",
  "author":[{"@type":"Person","name":"Jane Writer","url":"https://news.example.com/staff/jane"},{"@type":"Person","name":"John Editor"}],
  "publisher":{"@type":"NewsMediaOrganization","name":"The Daily Byte"}}}</script>
</head><body><header><nav><a href="/">Home</a><a href="/tech/">Tech</a></nav></header>
<article><h1>Open crawler passes the 5,000-page test</h1><p class="byline">By Jane Writer</p>
<p>The crawler kept its memory flat.</p></article>
<footer><a href="https://twitter.com/dailybyte">Follow us</a></footer></body></html>`;

const plainPage = `<html><head><title>About us</title></head><body><h1>About</h1><p>We make things.</p><a href="/contact">Contact</a></body></html>`;

describe("buildItem on real-world page shapes", () => {
  const tweetUrl = "https://x.com/ada/status/1858912345678901001";
  // Inline elements run together, as the contract's visible text has them.
  const tweetText = "Ada Lovelace@ada The Analytical Engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves. 7:30 PM · Nov 18, 2025 65 Reposts185 Likes";
  const watchUrl = "https://www.youtube.com/watch?v=aqz-KE-bpKQ";
  const threadUrl = "https://www.reddit.com/r/programming/comments/1gxyz12/what_is_your_favourite_crawler/";
  const newsUrl = "https://news.example.com/2025/11/open-crawler-5000-pages";

  it.each<[string, string, string, Platform, Expected]>([
    [
      "a tweet with numeric counters",
      tweetPage({ likes: 185, shares: 65 }),
      tweetUrl,
      Platform.TWITTER,
      { id: "1858912345678901001", author: "@ada", text: tweetText, likes: 185n, retweets: 65n, comments: 27n, publishedAt: "2025-11-18T19:30:05.000Z", canonicalUrl: tweetUrl, source: "json-ld:SocialMediaPosting" },
    ],
    [
      "a tweet with counters as strings",
      tweetPage({ likes: "12,345", shares: "1024" }),
      tweetUrl,
      Platform.TWITTER,
      { id: "1858912345678901001", author: "@ada", likes: 12_345n, retweets: 1024n, comments: 27n, publishedAt: "2025-11-18T19:30:05.000Z", source: "json-ld:SocialMediaPosting" },
    ],
    [
      "a script-rendered tweet: the text comes from og:description",
      tweetShell,
      "https://x.com/grace/status/1858912345678902002",
      Platform.TWITTER,
      { id: "1858912345678902002", author: "@grace", text: "A ship in port is safe, but that is not what ships are built for.", title: "X", wordCount: 0, source: "opengraph" },
    ],
    [
      "a watch page: VideoObject with an author object and one counter",
      watchPage(`{"@type":"Person","name":"Code with Kim","url":"https://www.youtube.com/@CodeWithKim"}`, `{"@type":"InteractionCounter","interactionType":{"@type":"WatchAction"},"userInteractionCount":51234567}`),
      watchUrl,
      Platform.YOUTUBE,
      { id: "aqz-KE-bpKQ", title: "Building a Crawler in TypeScript - YouTube", author: "Code with Kim", channel: "Code with Kim", views: 51_234_567n, durationSeconds: 3723, source: "json-ld:VideoObject" },
    ],
    [
      "a watch page: author as a list, counters as strings",
      watchPage(
        `[{"@type":"Person","name":"Code with Kim"},{"@type":"Person","name":"Guest"}]`,
        `[{"@type":"InteractionCounter","interactionType":"http://schema.org/WatchAction","userInteractionCount":"51,234,567"},{"@type":"InteractionCounter","interactionType":"http://schema.org/LikeAction","userInteractionCount":"980"}]`,
      ),
      "https://youtu.be/aqz-KE-bpKQ",
      Platform.YOUTUBE,
      { id: "aqz-KE-bpKQ", author: "Code with Kim", channel: "Code with Kim", views: 51_234_567n, likes: 980n, durationSeconds: 3723, source: "json-ld:VideoObject" },
    ],
    [
      "a microdata-only watch page",
      microdataWatchPage,
      "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
      Platform.YOUTUBE,
      { id: "dQw4w9WgXcQ", title: "Tiny Clip - YouTube", author: "Tiny Clips", channel: "Tiny Clips", views: 1234n, durationSeconds: 253, source: "microdata:VideoObject" },
    ],
    [
      "a Reddit thread: LikeAction is the score, comments from commentCount, not the comment's author",
      redditThread,
      threadUrl,
      Platform.REDDIT,
      { id: "1gxyz12", title: "What is your favourite crawler? : r/programming", subreddit: "programming", author: "spider", score: 312n, likes: 312n, comments: 42n, publishedAt: "2025-02-03T04:05:06.000Z", source: "json-ld:DiscussionForumPosting" },
    ],
    [
      "a Reddit short link: the subreddit from the canonical URL",
      redditThread,
      "https://old.reddit.com/comments/1gxyz12",
      Platform.REDDIT,
      { id: "1gxyz12", subreddit: "programming", author: "spider", score: 312n, likes: 312n, comments: 42n, publishedAt: "2025-02-03T04:05:06.000Z", source: "json-ld:DiscussionForumPosting" },
    ],
    [
      "a news article: WebPage.mainEntity NewsArticle, first of several authors",
      newsArticle,
      newsUrl,
      Platform.WEB,
      {
        id: pageId(newsUrl),
        title: "Open crawler passes the 5,000-page test | The Daily Byte",
        description: "A new open-source crawler keeps its memory flat on large sites.",
        author: "Jane Writer",
        publishedAt: "2025-11-20T07:00:00.000Z",
        canonicalUrl: "https://news.example.com/2025/11/open-crawler-5000-pages",
        wordCount: 18,
        linksFound: 3,
        source: "json-ld:NewsArticle",
      },
    ],
    [
      "a plain page: nothing structured, nothing invented",
      plainPage,
      "https://example.com/about",
      Platform.WEB,
      { id: pageId("https://example.com/about"), title: "About us", description: "", text: "About We make things. Contact", wordCount: 5, linksFound: 1, canonicalUrl: "", source: "html" },
    ],
  ])("%s", (_name, html, url, platform, expected) => {
    expectItem(itemOf(html, url, platform), expected);
  });

  it("keeps the item's url and depth and counts links of every origin", () => {
    const item = itemOf(newsArticle, newsUrl, Platform.WEB);
    expect(item).toMatchObject({ url: newsUrl, depth: 1, linksFound: 3 });
  });

  describe("embeddings", () => {
    it("leaves the embedding unset unless asked for", () => {
      expect(itemOf(plainPage, "https://example.com/a", Platform.WEB).embedding).toEqual([]);
    });

    it("gives a normalised vector of the page's text when asked for", () => {
      const item = itemOf(newsArticle, newsUrl, Platform.WEB, { embeddings: true });
      expect(item.embedding).toHaveLength(EMBEDDING_DIMENSIONS);
      expect(item.embedding.reduce((sum, x) => sum + x * x, 0)).toBeCloseTo(1, 5);
    });

    it("flags the second copy of a page as a near-duplicate of the first", () => {
      const index = new NearDuplicateIndex();
      const first = itemOf(newsArticle, newsUrl, Platform.WEB, { embeddings: true, nearDuplicates: index });
      const copy = itemOf(newsArticle, `${newsUrl}?page=1`, Platform.WEB, { embeddings: true, nearDuplicates: index });
      const other = itemOf(redditThread, threadUrl, Platform.WEB, { embeddings: true, nearDuplicates: index });
      expect(first.nearDuplicateOf).toBe("");
      expect(copy.nearDuplicateOf).toBe(first.id);
      expect(other.nearDuplicateOf).toBe("");
      expect(index.size).toBe(3);
    });
  });
});
