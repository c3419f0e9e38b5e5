import { describe, expect, it } from "vitest";
import { Frontier } from "./frontier.js";

describe("Frontier", () => {
  it("hands URLs out first in, first out, each at most once", () => {
    const frontier = new Frontier(10);
    expect(["/a", "/b", "/a", "/c"].map((url) => frontier.offer(url, 1, 0))).toEqual([true, true, false, true]);
    expect([frontier.next()?.url, frontier.next()?.url]).toEqual(["/a", "/b"]);
    expect(frontier.offer("/a", 2, 0)).toBe(false);
    expect(frontier.next()).toMatchObject({ url: "/c", depth: 1, task: 0 });
    expect(frontier.next()).toBeUndefined();
    expect(frontier.accepted).toBe(3);
  });

  it("stops accepting at its page budget", () => {
    const frontier = new Frontier(2);
    expect(["/a", "/b", "/c"].map((url) => frontier.offer(url, 0, 0))).toEqual([true, true, false]);
    expect(frontier.full).toBe(true);
    expect(frontier.accepted).toBe(2);
  });

  it("never queues a URL marked seen", () => {
    const frontier = new Frontier(5);
    frontier.markSeen("/final");
    expect(frontier.offer("/final", 1, 0)).toBe(false);
    expect(frontier.accepted).toBe(0);
  });

  it("keeps its order across internal compaction", () => {
    const frontier = new Frontier(10_000);
    for (let i = 0; i < 5_000; i++) frontier.offer(`/${i}`, 0, 0);
    const order: string[] = [];
    for (let entry = frontier.next(); entry !== undefined; entry = frontier.next()) {
      order.push(entry.url);
      if (order.length === 2_500) frontier.offer("/late", 1, 0);
    }
    expect(order).toHaveLength(5_001);
    expect(order.at(-1)).toBe("/late");
    expect(order.slice(0, 3)).toEqual(["/0", "/1", "/2"]);
    expect(frontier.queued).toBe(0);
  });
});
