import { describe, expect, it } from "vitest";
import { parseCount, parseDate, parseInteger, parseIsoDuration, parseLabelledCount } from "./values.js";

describe("values", () => {
  it.each<[unknown, bigint | undefined]>([
    [12, 12n],
    ["1,234", 1234n],
    [" 56 ", 56n],
    ["-3", -3n],
    [1.5, undefined],
    ["12k", undefined],
    ["", undefined],
    [null, undefined],
  ])("parseInteger(%j) → %s", (value, expected) => {
    expect(parseInteger(value)).toBe(expected);
  });

  it("parseCount refuses negative counts", () => {
    expect(parseCount("-3")).toBeUndefined();
    expect(parseCount("3")).toBe(3n);
  });

  it.each<[unknown, bigint | undefined]>([
    ["1,234 views", 1234n],
    ["56 comments", 56n],
    ["7", 7n],
    [12, 12n],
    ["12,345,678 Aufrufe", 12_345_678n],
    ["1.2K views", undefined],
    ["1 234 views", undefined],
    ["12,34 views", undefined],
    ["-3 likes", undefined],
    ["views", undefined],
    [null, undefined],
  ])("parseLabelledCount(%j) → %s", (value, expected) => {
    expect(parseLabelledCount(value)).toBe(expected);
  });

  it.each<[unknown, number | undefined]>([
    ["PT9M56S", 596],
    ["PT1H2M3S", 3723],
    ["P1DT1S", 86_401],
    ["PT1.9S", 1],
    ["P", undefined],
    ["PT", undefined],
    ["9:56", undefined],
    [596, undefined],
  ])("parseIsoDuration(%j) → %s", (value, expected) => {
    expect(parseIsoDuration(value)).toBe(expected);
  });

  it("parseDate reads ISO dates and refuses garbage", () => {
    expect(parseDate("2025-11-18T19:30:00Z")?.toISOString()).toBe("2025-11-18T19:30:00.000Z");
    expect(parseDate("yesterday")).toBeUndefined();
  });
});
