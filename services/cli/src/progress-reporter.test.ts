import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ProgressView } from "./progress-bar.js";
import { createProgressReporter, type ProgressStream } from "./progress-reporter.js";

class FakeStream implements ProgressStream {
  readonly writes: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns = 100,
  ) {}
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
  get text(): string {
    return this.writes.join("");
  }
}

let current: ProgressView;
const view = (): ProgressView => current;
const set = (overrides: Partial<ProgressView>): void => {
  current = { ...current, ...overrides };
};

beforeEach(() => {
  vi.useFakeTimers();
  current = { kind: "crawl", status: "running", pagesDone: 0, pagesTotal: 10, successCount: 0, errorCount: 0, elapsedSeconds: 0, link: "live" };
});
afterEach(() => {
  vi.useRealTimers();
});

describe("on a terminal", () => {
  it("redraws one line in place and erases it when stopped", () => {
    const stream = new FakeStream(true);
    const reporter = createProgressReporter(stream, view, { now: Date.now });
    reporter.changed();
    set({ pagesDone: 5, successCount: 5 });
    vi.advanceTimersByTime(300);
    reporter.stop();
    expect(stream.writes).toHaveLength(3);
    expect(stream.writes[0]).toMatch(/^\r\x1b\[K\[-+\] 0\/10 pages/);
    expect(stream.writes[1]).toMatch(/^\r\x1b\[K\[#+-+\] 5\/10 pages/);
    expect(stream.writes[2]).toBe("\r\x1b[K");
    expect(stream.text).not.toContain("\n");
  });

  it("draws at most ten times a second however often things change", () => {
    const stream = new FakeStream(true);
    const reporter = createProgressReporter(stream, view, { now: Date.now });
    for (let i = 1; i <= 100; i++) {
      set({ pagesDone: i % 10, successCount: i });
      reporter.changed();
      vi.advanceTimersByTime(5);
    }
    reporter.stop();
    const draws = stream.writes.filter((write) => write !== "\r\x1b[K");
    expect(draws.length, "half a second: the first draw and at most five more").toBeLessThanOrEqual(6);
  });

  it("ticks the clock while nothing else changes", () => {
    const stream = new FakeStream(true);
    const reporter = createProgressReporter(stream, view, { now: Date.now });
    reporter.changed();
    set({ elapsedSeconds: 12 });
    vi.advanceTimersByTime(1_000);
    reporter.stop();
    expect(stream.writes.some((write) => write.endsWith("12s"))).toBe(true);
  });

  it("erases nothing if it never drew", () => {
    const stream = new FakeStream(true);
    createProgressReporter(stream, view, { now: Date.now }).stop();
    expect(stream.writes).toEqual([]);
  });
});

describe("in a log", () => {
  it("prints plain lines, only when the counts change, at most once a second", () => {
    const stream = new FakeStream(false);
    const reporter = createProgressReporter(stream, view, { now: Date.now });
    reporter.changed();
    set({ pagesDone: 1, successCount: 1 });
    reporter.changed();
    set({ pagesDone: 2, successCount: 2 });
    reporter.changed();
    expect(stream.writes).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(stream.writes).toHaveLength(2);
    expect(stream.writes[1]).toMatch(/^running: 2\/10 pages/);
    vi.advanceTimersByTime(10_000);
    expect(stream.writes, "nothing changed: nothing printed").toHaveLength(2);
    reporter.stop();
    expect(stream.text).not.toMatch(/[\r\x1b]/);
    expect(stream.writes.every((write) => write.endsWith("\n"))).toBe(true);
  });

  it("prints a status or connection change at once", () => {
    const stream = new FakeStream(false);
    const reporter = createProgressReporter(stream, view, { now: Date.now });
    reporter.changed();
    set({ link: "reconnecting" });
    reporter.changed();
    set({ link: "live", status: "paused" });
    reporter.changed();
    expect(stream.writes.map((line) => line.split(":")[0])).toEqual(["running", "running", "paused"]);
    expect(stream.writes[1]).toContain("reconnecting");
    reporter.stop();
  });

  it("prints the last state on stop if it was held back", () => {
    const stream = new FakeStream(false);
    const reporter = createProgressReporter(stream, view, { now: Date.now });
    reporter.changed();
    set({ pagesDone: 10, successCount: 10 });
    reporter.changed();
    reporter.stop();
    expect(stream.writes.at(-1)).toMatch(/^running: 10\/10 pages/);
    vi.advanceTimersByTime(5_000);
    expect(stream.writes, "the clock is stopped").toHaveLength(2);
  });
});
