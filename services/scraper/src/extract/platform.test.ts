import { createHash } from "node:crypto";
import { Platform } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { detectPlatform, itemId, pageId, subredditFromUrl } from "./platform.js";

describe("detectPlatform", () => {
  it.each([
    ["https://twitter.com/ada/status/1", Platform.TWITTER],
    ["https://mobile.twitter.com/ada", Platform.TWITTER],
    ["https://x.com/ada", Platform.TWITTER],
    ["https://www.youtube.com/watch?v=abc", Platform.YOUTUBE],
    ["https://m.youtube.com/", Platform.YOUTUBE],
    ["https://youtu.be/abc", Platform.YOUTUBE],
    ["https://www.reddit.com/r/programming/", Platform.REDDIT],
    ["https://old.reddit.com/", Platform.REDDIT],
    ["https://example.com/", Platform.WEB],
    ["https://notx.com/", Platform.WEB],
    ["https://x.com.example.org/", Platform.WEB],
    ["http://127.0.0.1:8080/status/1", Platform.WEB],
  ])("%s → %s", (url, platform) => {
    expect(detectPlatform(url)).toBe(platform);
  });
});

describe("itemId", () => {
  const hashed = (url: string) => `page_${createHash("sha256").update(url).digest("hex").slice(0, 12)}`;
  it.each([
    [Platform.TWITTER, "https://x.com/ada/status/1790000000000000001", "1790000000000000001"],
    [Platform.YOUTUBE, "https://www.youtube.com/watch?v=aqz-KE-bpKQ&t=10", "aqz-KE-bpKQ"],
    [Platform.YOUTUBE, "https://youtu.be/aqz-KE-bpKQ", "aqz-KE-bpKQ"],
    [Platform.REDDIT, "https://www.reddit.com/r/programming/comments/1abc2de/title/", "1abc2de"],
    [Platform.TWITTER, "http://127.0.0.1:9000/ada/status/42", "42"],
    [Platform.WEB, "https://x.com/ada/status/1", hashed("https://x.com/ada/status/1")],
    [Platform.TWITTER, "https://x.com/ada", hashed("https://x.com/ada")],
    [Platform.YOUTUBE, "https://www.youtube.com/channel/x", hashed("https://www.youtube.com/channel/x")],
  ])("platform %s, %s → %s", (platform, url, id) => {
    expect(itemId(platform, url)).toBe(id);
  });

  it("hashes to page_ and 12 hex digits", () => {
    expect(pageId("http://example.com/")).toMatch(/^page_[0-9a-f]{12}$/);
  });
});

describe("subredditFromUrl", () => {
  it.each([
    ["https://www.reddit.com/r/programming/comments/abc/t/", "programming"],
    ["https://www.reddit.com/r/node", "node"],
    ["https://www.reddit.com/user/r/x/", undefined],
    ["https://example.com/", undefined],
  ])("%s → %s", (url, subreddit) => {
    expect(subredditFromUrl(url)).toBe(subreddit);
  });
});
