import { describe, expect, it } from "vitest";
import { readiness, ServerState } from "./readiness.js";

const up = (address: string) => ({ address, connected: true, last_offset: 0 });
const down = (address: string) => ({ address, connected: false, last_offset: 0 });

describe("readiness", () => {
  it.each([
    { server: ServerState.LISTENING, scrapers: [up("a:1")], ready: true, notReady: [] },
    { server: ServerState.LISTENING, scrapers: [down("a:1"), up("b:2")], ready: true, notReady: [] },
    { server: ServerState.LISTENING, scrapers: [down("a:1")], ready: false, notReady: ["scrapers"] },
    { server: ServerState.LISTENING, scrapers: [], ready: false, notReady: ["scrapers"] },
    { server: ServerState.STARTING, scrapers: [up("a:1")], ready: false, notReady: ["server"] },
    { server: ServerState.SHUTTING_DOWN, scrapers: [down("a:1")], ready: false, notReady: ["server", "scrapers"] },
  ])("is $ready for a $server server and $scrapers.length scraper(s)", ({ server, scrapers, ready, notReady }) => {
    const report = readiness(server, scrapers);
    expect(report.ready).toBe(ready);
    expect(report.body.status).toBe(ready ? "ok" : "not_ready");
    expect(report.body.not_ready).toEqual(notReady);
  });

  it("names the disconnected scrapers and counts the connected ones", () => {
    expect(readiness(ServerState.LISTENING, [down("a:1"), up("b:2"), down("c:3")]).body.scrapers).toEqual({ connected: 1, total: 3, disconnected: ["a:1", "c:3"] });
  });
});
