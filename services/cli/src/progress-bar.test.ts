import { describe, expect, it } from "vitest";
import { bar, progressKey, renderProgress, type ProgressView } from "./progress-bar.js";

const view = (overrides: Partial<ProgressView> = {}): ProgressView => ({
  kind: "crawl",
  status: "running",
  pagesDone: 120,
  pagesTotal: 386,
  successCount: 110,
  errorCount: 10,
  elapsedSeconds: 4,
  link: "live",
  ...overrides,
});

describe("bar", () => {
  it.each([
    [0, 10, 10, "[----------]"],
    [5, 10, 10, "[#####-----]"],
    [10, 10, 10, "[##########]"],
    [15, 10, 10, "[##########]"],
    [3, 0, 4, "[----]"],
  ])("%s of %s in %s columns is %s", (done, total, width, text) => {
    expect(bar(done, total, width)).toBe(text);
  });
});

describe("renderProgress for a terminal", () => {
  it("draws the bar and the counts", () => {
    expect(renderProgress(view(), { tty: true, width: 100 })).toBe("[#########---------------------] 120/386 pages  110 ok  10 errors  30.0 pages/s  4.0s");
  });

  it.each([40, 60, 80, 120])("never reaches the last of %s columns, so the line cannot wrap", (width) => {
    expect(renderProgress(view({ link: "reconnecting" }), { tty: true, width }).length).toBeLessThan(width);
  });

  it("narrows the bar, then drops it, before cutting the counts", () => {
    expect(renderProgress(view(), { tty: true, width: 70 })).toBe("[####----------] 120/386 pages  110 ok  10 errors  30.0 pages/s  4.0s");
    expect(renderProgress(view(), { tty: true, width: 60 })).toBe("120/386 pages  110 ok  10 errors  30.0 pages/s  4.0s");
    expect(renderProgress(view(), { tty: true, width: 30 })).toBe("120/386 pages  110 ok  10 er…");
  });

  it("says when the job is paused or the connection is being re-established", () => {
    expect(renderProgress(view({ status: "paused" }), { tty: true, width: 120 })).toMatch(/ {2}paused$/);
    expect(renderProgress(view({ link: "reconnecting" }), { tty: true, width: 140 })).toMatch(/reconnecting…$/);
    expect(renderProgress(view({ link: "connecting" }), { tty: true, width: 140 })).toMatch(/connecting to the gateway…$/);
  });

  it("counts files for a scan and shows an unknown total as a bare count", () => {
    expect(renderProgress(view({ kind: "scan", pagesTotal: 0 }), { tty: true, width: 200 })).toContain("] 120 files  110 ok");
  });
});

describe("renderProgress for a log", () => {
  it("is a plain sentence", () => {
    expect(renderProgress(view(), { tty: false, width: 0 })).toBe("running: 120/386 pages, 110 ok, 10 errors, 30.0 pages/s, 4.0s elapsed");
  });

  it("holds no carriage return or escape code, whatever the state", () => {
    for (const status of ["pending", "running", "paused", "completed", "failed"]) {
      for (const link of ["connecting", "live", "reconnecting"] as const) {
        expect(renderProgress(view({ status, link }), { tty: false, width: 0 })).not.toMatch(/[\r\n\x1b]/);
      }
    }
  });

  it("notes a lost connection but not a finished job's", () => {
    expect(renderProgress(view({ link: "reconnecting" }), { tty: false, width: 0 })).toMatch(/\(gateway connection lost, reconnecting…\)$/);
    expect(renderProgress(view({ status: "completed", link: "connecting" }), { tty: false, width: 0 })).toMatch(/^completed: .* elapsed$/);
  });

  it("says 1 error, not 1 errors", () => {
    expect(renderProgress(view({ errorCount: 1 }), { tty: false, width: 0 })).toContain(" 1 error,");
  });
});

describe("progressKey", () => {
  it("ignores the clock but not the counts, the status or the link", () => {
    expect(progressKey(view({ elapsedSeconds: 9 }))).toBe(progressKey(view()));
    expect(progressKey(view({ pagesDone: 121 }))).not.toBe(progressKey(view()));
    expect(progressKey(view({ status: "paused" }))).not.toBe(progressKey(view()));
    expect(progressKey(view({ link: "reconnecting" }))).not.toBe(progressKey(view()));
  });
});
