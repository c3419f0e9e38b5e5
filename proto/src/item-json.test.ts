import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ItemSchema } from "./gen/trawl/v1/scraper_pb.js";
import { csvField, ITEM_CSV_COLUMNS, itemCsvHeader, itemCsvRow, itemJson } from "./item-json.js";

describe("itemJson", () => {
  it("leaves out what the page did not carry", () => {
    const json = itemJson(create(ItemSchema, { id: "page_1", url: "http://a/", wordCount: 3, linksFound: 2 }));
    expect(json).toEqual({ id: "page_1", url: "http://a/", word_count: 3, links_found: 2, depth: 0 });
  });

  it("turns 64-bit counts into numbers and times into ISO strings", () => {
    const json = itemJson(
      create(ItemSchema, { id: "1", url: "u", likes: 185n, retweets: 0n, score: -3n, publishedAt: timestampFromDate(new Date("2025-11-18T19:30:05Z")) }),
    );
    expect(json).toMatchObject({ likes: 185, retweets: 0, score: -3, published_at: "2025-11-18T19:30:05.000Z" });
  });

  it("includes the embedding only when asked", () => {
    const item = create(ItemSchema, { id: "1", url: "u", embedding: [0.5, -0.5] });
    expect(itemJson(item).embedding).toBeUndefined();
    expect(itemJson(item, { embedding: true }).embedding).toEqual([0.5, -0.5]);
  });
});

describe("csv", () => {
  it.each([
    { value: undefined, expected: "" },
    { value: 42, expected: "42" },
    { value: "plain", expected: "plain" },
    { value: "a,b", expected: '"a,b"' },
    { value: 'say "hi"', expected: '"say ""hi"""' },
    { value: "two\nlines", expected: '"two\nlines"' },
  ])("quotes $value as RFC 4180 requires", ({ value, expected }) => {
    expect(csvField(value)).toBe(expected);
  });

  it("writes a header and rows with one field per column", () => {
    expect(itemCsvHeader()).toBe(`${ITEM_CSV_COLUMNS.join(",")}\r\n`);
    const row = itemCsvRow(itemJson(create(ItemSchema, { id: "x", url: "http://a/?q=1,2", title: "T" })));
    expect(row.startsWith('x,"http://a/?q=1,2",,T,')).toBe(true);
    expect(row.endsWith("\r\n")).toBe(true);
  });
});
