import { describe, expect, it } from "vitest";
import { routeUpgrade } from "../ws/routes.js";
import { rawWsDialect } from "./ws-dialect.js";

describe("rawWsDialect", () => {
  it.each([
    ["/ws/scraping", "seed000"],
    ["/ws/stats?interval=2", "seed000"],
    ["/ws/scraping/job-1", "seed000"],
    ["/ws/scraping/job-1?format=flat", "seed002"],
    ["/ws/scraping/job-1?format=xml", "seed000"],
    ["/ws/job-1", "seed003-job"],
    ["/ws/scan/scan-1", "seed003-scan"],
    ["/trpc", undefined],
    ["/socket.io/?EIO=4&transport=websocket", undefined],
    ["/nowhere", undefined],
  ])("labels %s as %s", (url, dialect) => {
    expect(rawWsDialect(routeUpgrade(url))).toBe(dialect);
  });
});
