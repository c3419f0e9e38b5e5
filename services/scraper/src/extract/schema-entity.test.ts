import { describe, expect, it } from "vitest";
import { EntityFields, entityTypes } from "./schema-entity.js";

function read(...roots: unknown[]): EntityFields {
  const fields = new EntityFields();
  for (const root of roots) fields.add(root);
  return fields;
}

describe("EntityFields", () => {
  it.each<[string, unknown, Record<string, unknown>, string | undefined]>([
    [
      "a SocialMediaPosting's counters, numbers or strings",
      {
        "@type": "SocialMediaPosting",
        interactionStatistic: [
          { interactionType: "https://schema.org/LikeAction", userInteractionCount: "1,200" },
          { interactionType: { "@type": "ShareAction" }, userInteractionCount: 34 },
        ],
      },
      { likes: 1200n, retweets: 34n },
      "SocialMediaPosting",
    ],
    [
      "a DiscussionForumPosting's likes as its score, upvoteCount first",
      { "@type": "DiscussionForumPosting", upvoteCount: 5, interactionStatistic: { interactionType: "LikeAction", userInteractionCount: 9 } },
      { score: 5n, likes: 9n },
      "DiscussionForumPosting",
    ],
    [
      "@graph members and a nested mainEntity",
      { "@graph": [{ "@type": "WebSite", name: "Site" }, { "@type": "WebPage", mainEntity: { "@type": "VideoObject", duration: "PT1M", author: [{ name: "Chan" }] } }] },
      { durationSeconds: 60, channel: "Chan", author: "Chan" },
      "VideoObject",
    ],
    [
      "schema.org types named by URL",
      { "@type": ["http://schema.org/NewsArticle", "Thing"], headline: "  Big   news ", articleBody: "Body text." },
      { headline: "Big news", body: "Body text." },
      "NewsArticle",
    ],
    [
      "legacy interactionCount on a video",
      { "@type": "VideoObject", interactionCount: ["UserPlays:77", "UserComments:3"] },
      { views: 77n, comments: 3n },
      "VideoObject",
    ],
  ])("reads %s", (_name, root, expected, source) => {
    const fields = read(root);
    expect(fields.fields()).toMatchObject(expected);
    expect(fields.source).toBe(source);
  });

  it("takes a headline, description and body from content entities only", () => {
    const fields = read({ "@type": "Organization", name: "Org", description: "About the org" });
    expect(fields.fields()).toEqual({});
    expect(fields.source).toBeUndefined();
  });

  it("prefers content entities, whatever their order", () => {
    const fields = read({ "@type": "WebPage", author: "The Site", datePublished: "2020-01-01" }, { "@type": "BlogPosting", author: { name: "Blogger" }, datePublished: "2024-02-02" });
    expect(fields.fields()).toMatchObject({ author: "Blogger", publishedAt: new Date("2024-02-02") });
    expect(fields.source).toBe("BlogPosting");
  });

  it("keeps the first value of a field across entities of one kind", () => {
    expect(read({ "@type": "Article", author: "First" }, { "@type": "Article", author: "Second" }).fields().author).toBe("First");
  });

  it("reads a bounded number of entities from hostile input", () => {
    const graph = Array.from({ length: 10_000 }, (_, i) => ({ "@type": "Article", author: `A${i}` }));
    const fields = read({ "@graph": graph });
    expect(fields.fields().author).toBe("A0");
  });

  it("ignores values that are not entities", () => {
    expect(read(null, 42, "text", [[null]]).source).toBeUndefined();
  });
});

describe("entityTypes", () => {
  it.each<[unknown, string[]]>([
    ["VideoObject", ["VideoObject"]],
    ["https://schema.org/VideoObject", ["VideoObject"]],
    [["schema:Article", 5], ["Article"]],
    [undefined, []],
  ])("%j → %j", (type, expected) => {
    expect(entityTypes({ "@type": type })).toEqual(expected);
  });
});
