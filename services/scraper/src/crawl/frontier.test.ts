import { describe, expect, it } from "vitest";
import { Frontier } from "./frontier.js";

describe("Frontier", () => {
  it("hands URLs out first in, first out, each at most once", () => {
    const frontier = new Frontier(10);
    expect(["/a", "/b", "/a", "/c"].map((url) => frontier.offer(url, 1, 0))).toEqual(["accepted", "accepted", "seen", "accepted"]);
    expect([frontier.next()?.url, frontier.next()?.url]).toEqual(["/a", "/b"]);
    expect(frontier.offer("/a", 2, 0)).toBe("seen");
    expect(frontier.next()).toMatchObject({ url: "/c", depth: 1, task: 0 });
    expect(frontier.next()).toBeUndefined();
    expect(frontier.accepted).toBe(3);
  });

  it("stops accepting at its page budget", () => {
    const frontier = new Frontier(2);
    expect(["/a", "/b", "/c", "/a"].map((url) => frontier.offer(url, 0, 0))).toEqual(["accepted", "accepted", "full", "seen"]);
    expect(frontier.full).toBe(true);
    expect(frontier.accepted).toBe(2);
  });

  it("never queues a URL marked seen", () => {
    const frontier = new Frontier(5);
    frontier.markSeen("/final");
    expect(frontier.offer("/final", 1, 0)).toBe("seen");
    expect(frontier.accepted).toBe(0);
  });

  it("treats /path/ and /path as one page, fetching whichever came first", () => {
    const frontier = new Frontier(10);
    expect(frontier.offer("http://h/docs/", 1, 0)).toBe("accepted");
    expect(frontier.offer("http://h/docs", 1, 0)).toBe("seen");
    expect(frontier.has("http://h/docs")).toBe(true);
    frontier.markSeen("http://h/about");
    expect(frontier.offer("http://h/about/", 1, 0)).toBe("seen");
    expect(frontier.offer("http://h/", 0, 0)).toBe("accepted");
    expect(frontier.next()?.url).toBe("http://h/docs/");
  });

  it("gives back the budget of a URL it will not fetch, which stays seen", () => {
    const frontier = new Frontier(2);
    frontier.offer("/a", 0, 0);
    frontier.offer("/b", 0, 0);
    expect(frontier.full).toBe(true);
    frontier.release();
    expect(frontier.accepted).toBe(1);
    expect(frontier.offer("/b", 1, 0)).toBe("seen");
    expect(frontier.offer("/c", 1, 0)).toBe("accepted");
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
