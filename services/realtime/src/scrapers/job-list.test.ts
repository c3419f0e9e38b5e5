import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Job, JobSchema } from "@trawl/proto";
import { describe, expect, it } from "vitest";
import { createdMs, decodeListCursor, encodeListCursor, type ListCursor, mergePages, type ScraperPage } from "./job-list.js";

const job = (id: string, createdMs: number): Job => create(JobSchema, { id, createdAt: timestampFromMs(createdMs) });

/**
 * A scraper holding `jobs` (newest first) that pages them like ListJobs:
 * the token is the index to continue from.
 */
function scraper(address: string, jobs: Job[]) {
  return (position: { token: string; skip: number }, limit: number): ScraperPage => {
    const from = position.token === "" ? 0 : Number(position.token);
    const pageSize = Math.min(500, position.skip + limit);
    const listed = jobs.slice(from, from + pageSize);
    const nextToken = from + pageSize < jobs.length ? String(from + pageSize) : "";
    return { address, jobs: listed.slice(position.skip), position, nextToken };
  };
}

/** Pages through every scraper with `limit` until the cursor ends, as the pool does. */
function listAll(scrapers: Record<string, ReturnType<typeof scraper>>, limit: number): string[][] {
  const pages: string[][] = [];
  let cursor: ListCursor | undefined;
  do {
    const answers = Object.entries(scrapers).flatMap(([address, list]) => {
      const position = cursor === undefined ? { token: "", skip: 0 } : cursor.get(address);
      return position === null || position === undefined ? [] : [list(position, limit)];
    });
    const merged = mergePages(answers, limit);
    pages.push(merged.jobs.map((entry) => entry.job.id));
    cursor = merged.cursor === undefined ? undefined : decodeListCursor(encodeListCursor(merged.cursor));
    if (pages.length > 100) throw new Error("listing does not end");
  } while (cursor !== undefined);
  return pages;
}

describe("mergePages", () => {
  const a = Array.from({ length: 7 }, (_, i) => job(`a${i}`, 1000 - i * 10));
  const b = Array.from({ length: 4 }, (_, i) => job(`b${i}`, 995 - i * 25));
  const everyJobNewestFirst = [...a, ...b].sort((x, y) => createdMs(y) - createdMs(x)).map((j) => j.id);

  it.each([1, 2, 3, 5, 11, 50])("lists every job of two scrapers once, newest first, with limit %i", (limit) => {
    const pages = listAll({ "s1:1": scraper("s1:1", a), "s2:1": scraper("s2:1", b) }, limit);
    expect(pages.flat()).toEqual(everyJobNewestFirst);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(limit);
    expect(pages.at(-1)?.length).toBeGreaterThan(0);
  });

  it("ends with no cursor when every scraper is exhausted", () => {
    const merged = mergePages([scraper("s1:1", a)({ token: "", skip: 0 }, 50)], 50);
    expect(merged.jobs).toHaveLength(7);
    expect(merged.cursor).toBeUndefined();
  });

  it("stops early rather than skip a scraper's unlisted newer jobs", () => {
    // s1 listed one job but has more; s2's next job is older than s1's unlisted ones.
    const merged = mergePages(
      [
        { address: "s1", jobs: [job("new", 100)], position: { token: "", skip: 0 }, nextToken: "t1" },
        { address: "s2", jobs: [job("old", 10)], position: { token: "", skip: 0 }, nextToken: "" },
      ],
      5,
    );
    expect(merged.jobs.map((entry) => entry.job.id)).toEqual(["new"]);
    expect(merged.cursor).toEqual(
      new Map([
        ["s1", { token: "t1", skip: 0 }],
        ["s2", { token: "", skip: 0 }],
      ]),
    );
  });
});

describe("list cursor", () => {
  it("round-trips", () => {
    const cursor: ListCursor = new Map([
      ["127.0.0.1:50051", { token: "abc", skip: 3 }],
      ["127.0.0.1:50052", null],
    ]);
    expect(decodeListCursor(encodeListCursor(cursor))).toEqual(cursor);
  });

  it.each([
    ["not base64 JSON", "%%%"],
    ["a JSON array", Buffer.from("[1]").toString("base64url")],
    ["a negative skip", Buffer.from('{"a":{"token":"","skip":-1}}').toString("base64url")],
    ["a token that is not a string", Buffer.from('{"a":{"token":5,"skip":0}}').toString("base64url")],
    ["a huge skip", Buffer.from('{"a":{"token":"","skip":1e9}}').toString("base64url")],
  ])("rejects %s", (_name, text) => {
    expect(decodeListCursor(text)).toBeUndefined();
  });
});
