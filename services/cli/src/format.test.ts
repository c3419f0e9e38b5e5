import { describe, expect, it } from "vitest";
import { UsageError } from "./errors.js";
import { formatBytes, formatDuration, formatRate, formatTable, formatTimestamp, parseDuration, parseSince, rate, truncate } from "./format.js";

describe("formatDuration", () => {
  it.each([
    [0, "0ms"],
    [0.0854, "85ms"],
    [0.9994, "999ms"],
    [1, "1.0s"],
    [1.45, "1.4s"],
    [9.99, "9.9s"],
    [10, "10s"],
    [59.9, "59s"],
    [60, "1m 00s"],
    [185, "3m 05s"],
    [3599, "59m 59s"],
    [3600, "1h 00m"],
    [7_620, "2h 07m"],
    [-3, "0ms"],
    [Number.NaN, "0ms"],
  ])("%s s reads %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("formatRate and rate", () => {
  it.each([
    [0, "0 pages/s"],
    [0.25, "0.25 pages/s"],
    [3.44, "3.4 pages/s"],
    [35.24, "35.2 pages/s"],
    [412.6, "413 pages/s"],
    [Number.POSITIVE_INFINITY, "0 pages/s"],
  ])("%s reads %s", (value, text) => {
    expect(formatRate(value, "pages")).toBe(text);
  });

  it("is zero before any time has passed", () => {
    expect(rate(10, 0)).toBe(0);
    expect(rate(10, 4)).toBe(2.5);
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [999, "999 B"],
    [1_000, "1.0 kB"],
    [1_234, "1.2 kB"],
    [34_000_000, "34 MB"],
    [5e15, "5000 TB"],
  ])("%s bytes read %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe("formatTimestamp", () => {
  it("shows UTC to the second", () => {
    expect(formatTimestamp("2025-11-22T07:05:03.123Z")).toBe("2025-11-22 07:05:03Z");
    expect(formatTimestamp("2025-11-22T08:05:03+01:00")).toBe("2025-11-22 07:05:03Z");
  });

  it("shows - for no time and leaves what it cannot parse alone", () => {
    expect(formatTimestamp(null)).toBe("-");
    expect(formatTimestamp("")).toBe("-");
    expect(formatTimestamp("soon")).toBe("soon");
  });
});

describe("truncate", () => {
  it.each([
    ["hello", 10, "hello"],
    ["hello", 5, "hello"],
    ["hello world", 6, "hello…"],
    ["hello", 1, "…"],
    ["hello", 0, ""],
    ["héllo wörld", 4, "hél…"],
  ])("%s to %s is %s", (text, width, result) => {
    expect(truncate(text, width)).toBe(result);
  });
});

describe("formatTable", () => {
  const columns = [{ header: "ID" }, { header: "PAGES", align: "right" as const }, { header: "URL" }];
  const rows = [
    ["a1", "3/10", "http://example.com/a/very/long/path"],
    ["b22", "120/386", "http://x/"],
  ];

  it("aligns cells under their headers, right-aligned where asked, without trailing spaces", () => {
    expect(formatTable(columns, rows)).toEqual([
      "ID     PAGES  URL",
      "a1      3/10  http://example.com/a/very/long/path",
      "b22  120/386  http://x/",
    ]);
  });

  it("shrinks the chosen column to fit a width", () => {
    const lines = formatTable(columns, rows, { maxWidth: 30, shrink: 2 });
    expect(lines.every((line) => line.length <= 30)).toBe(true);
    expect(lines[1]).toBe("a1      3/10  http://example.…");
  });

  it("never shrinks a column below 8 characters", () => {
    const lines = formatTable(columns, rows, { maxWidth: 5, shrink: 2 });
    expect(lines[1]).toBe("a1      3/10  http://…");
  });

  it("prints only the header for no rows", () => {
    expect(formatTable(columns, [])).toEqual(["ID  PAGES  URL"]);
  });
});

describe("parseDuration and parseSince", () => {
  const now = Date.parse("2025-11-22T12:00:00Z");

  it.each([
    ["90s", 90_000],
    ["15m", 900_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["1w", 604_800_000],
    ["1.5h", 5_400_000],
  ])("%s is %s ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "1", "h", "1x", "-1h", "1h 30m", "yesterday"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("turns a duration into the time that long before now", () => {
    expect(parseSince("1h", now)).toBe("2025-11-22T11:00:00.000Z");
  });

  it("takes ISO-8601 dates and times, normalised to UTC", () => {
    expect(parseSince("2025-11-20", now)).toBe("2025-11-20T00:00:00.000Z");
    expect(parseSince("2025-11-20T10:00:00+02:00", now)).toBe("2025-11-20T08:00:00.000Z");
  });

  it.each(["yesterday", "2025-13-45", "1 hour", "20251120"])("refuses %j with a usage error naming --since", (text) => {
    expect(() => parseSince(text, now)).toThrow(UsageError);
    expect(() => parseSince(text, now)).toThrow(/--since/);
  });
});
