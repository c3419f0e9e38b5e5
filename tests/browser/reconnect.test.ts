/**
 * The connection indicator through a gateway crash, in headless Chromium
 * against the real stack: the gateway is SIGKILLed mid-crawl and a new one
 * starts on the same port (the page's origin), the page shows it
 * reconnecting then connected again — without reloading — and the live card
 * of the crawl catches up to the site's true final counts (the client
 * resumes its subscription from the last event id; the gateway replays what
 * was missed).
 */
import { describe, expect, it } from "vitest";
import { chromiumGate, readConnection, tid, until, untilCard, untilConnected, untilJobFinished, useBrowserStack } from "../support/browser.js";
import { startScrape, truthFor } from "../support/jobs.js";

const gate = chromiumGate();

interface ConnectionLog {
  states: string[];
  marker: string;
}

describe.skipIf(gate.skip)("dashboard connection status", () => {
  const suite = useBrowserStack({ fixedGatewayPort: true });

  it("goes from connected to reconnecting and back to connected when the gateway restarts, and the live card still ends on the true counts", async () => {
    const { site } = suite.stack;
    const plan = { path: "/", depth: 10, platform: "web" as const, maxPages: 60 };
    const truth = truthFor(site, plan);
    const page = await suite.open("/");
    await untilConnected(page);

    const { job_id: jobId } = await startScrape(suite.stack.gateway, site, plan, { per_host_delay_ms: 100, per_host_concurrency: 1 });
    const activeJobs = page.locator(tid("active-jobs"));
    const before = await untilCard(activeJobs, jobId, "running with pages done", (view) => view.status === "running" && view.done >= 3);

    // Record every data-state the indicator takes from here on, and mark this document to prove it is never reloaded.
    await page.evaluate(() => {
      const scope = globalThis as unknown as {
        document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null };
        MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, unknown>): void };
        __connectionLog: ConnectionLog;
      };
      const element = scope.document.querySelector('[data-testid="connection-status"]');
      const log: ConnectionLog = { states: [element?.getAttribute("data-state") ?? "missing"], marker: "before-restart" };
      scope.__connectionLog = log;
      new scope.MutationObserver(() => {
        const state = scope.document.querySelector('[data-testid="connection-status"]')?.getAttribute("data-state") ?? "missing";
        if (log.states.at(-1) !== state) log.states.push(state);
      }).observe(scope.document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
    });
    const origin = suite.origin;

    const replacement = await suite.stack.restartGateway();
    expect(replacement.url, "the new gateway is on the page's origin").toBe(origin);

    const log = await until(
      "the indicator to leave connected and come back",
      async () => {
        const seen = await page.evaluate(() => (globalThis as unknown as { __connectionLog?: ConnectionLog }).__connectionLog);
        if (seen === undefined) throw new Error("the page was reloaded: the connection log is gone");
        const left = seen.states.findIndex((state) => state !== "connected");
        return left > 0 && seen.states.at(-1) === "connected" && seen.states.slice(left).includes("connected") ? seen : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(log.marker).toBe("before-restart");
    expect(log.states[0]).toBe("connected");
    expect(log.states.some((state) => state === "connecting" || state === "disconnected"), `states seen: ${log.states.join(" → ")}`).toBe(true);
    const connection = await readConnection(page);
    expect(connection).toMatchObject({ state: "connected" });
    expect(connection.text).toMatch(/connected/i);
    expect(connection.text).not.toMatch(/disconnected|connecting/i);

    // The card, fed by the resumed subscription, keeps going and ends exactly on the truth.
    const finished = await untilJobFinished(suite.origin, jobId);
    expect(finished.status).toBe("completed");
    const card = await untilCard(activeJobs, jobId, "completed with the true counts", (view) => view.status === "completed" && view.success === truth.successCount && view.errors === truth.errorCount, { timeoutMs: 90_000 });
    expect(card.done).toBeGreaterThan(before.done);
    expect({ done: card.done, total: card.total }).toEqual({ done: truth.pagesDone, total: truth.pagesTotal });
  });
});
