import { describe, expect, it } from "vitest";
import { parseStatsInterval, routeUpgrade, type WsRoute } from "./routes.js";

describe("routeUpgrade", () => {
  it.each<[string | undefined, WsRoute]>([
    ["/ws/scraping", { kind: "scraping" }],
    ["/ws/scraping/", { kind: "scraping" }],
    ["/ws/scraping?x=1", { kind: "scraping" }],
    ["/ws/scraping/abc-123", { kind: "job", jobId: "abc-123", format: null }],
    ["/ws/scraping/abc-123?format=flat", { kind: "job", jobId: "abc-123", format: "flat" }],
    ["/ws/scraping/a%20b", { kind: "job", jobId: "a b", format: null }],
    ["/ws/scraping/abc/extra", { kind: "not_found" }],
    ["/ws/scraping/%E0%A4%A", { kind: "not_found" }],
    ["/ws/stats", { kind: "stats", interval: null }],
    ["/ws/stats?interval=3", { kind: "stats", interval: "3" }],
    ["/trpc", { kind: "trpc" }],
    ["/trpc?connectionParams=1", { kind: "trpc" }],
    ["/ws/other", { kind: "file-job", jobId: "other" }],
    ["/ws/abc-123/", { kind: "file-job", jobId: "abc-123" }],
    ["/ws/abc/extra", { kind: "not_found" }],
    ["/ws/scan", { kind: "not_found" }],
    ["/ws/scan/", { kind: "not_found" }],
    ["/ws/scan/5f1c", { kind: "scan", scanId: "5f1c" }],
    ["/ws/scan/5f1c/more", { kind: "not_found" }],
    ["/socket.io/?EIO=4&transport=websocket", { kind: "socketio" }],
    ["/socket.io", { kind: "socketio" }],
    ["/socket.iox", { kind: "not_found" }],
    ["/ws", { kind: "not_found" }],
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
