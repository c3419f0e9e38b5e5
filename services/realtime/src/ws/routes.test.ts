import { describe, expect, it } from "vitest";
import { parseStatsInterval, routeUpgrade, type WsRoute } from "./routes.js";

describe("routeUpgrade", () => {
  it.each<[string | undefined, WsRoute]>([
    ["/ws/scraping", { kind: "scraping" }],
    ["/ws/scraping/", { kind: "scraping" }],
    ["/ws/scraping?x=1", { kind: "scraping" }],
    ["/ws/scraping/abc-123", { kind: "job", jobId: "abc-123" }],
    ["/ws/scraping/a%20b", { kind: "job", jobId: "a b" }],
    ["/ws/scraping/abc/extra", { kind: "not_found" }],
    ["/ws/scraping/%E0%A4%A", { kind: "not_found" }],
    ["/ws/stats", { kind: "stats", interval: null }],
    ["/ws/stats?interval=3", { kind: "stats", interval: "3" }],
    ["/trpc", { kind: "trpc" }],
    ["/trpc?connectionParams=1", { kind: "trpc" }],
    ["/ws/other", { kind: "not_found" }],
    ["/", { kind: "not_found" }],
    [undefined, { kind: "not_found" }],
  ])("routes %j", (url, expected) => {
    expect(routeUpgrade(url)).toEqual(expected);
  });
});

describe("parseStatsInterval", () => {
  it.each<[string | null, number | undefined]>([
    [null, 5],
    ["1", 1],
    ["60", 60],
    ["2.5", 2.5],
    ["0", undefined],
    ["0.5", undefined],
    ["61", undefined],
    ["-3", undefined],
    ["", undefined],
    ["abc", undefined],
    ["Infinity", undefined],
    ["NaN", undefined],
  ])("reads %j as %j", (raw, expected) => {
    expect(parseStatsInterval(raw)).toBe(expected);
  });
});
