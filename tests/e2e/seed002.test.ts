/**
 * Seed 002 (SmartFamilyTravelScout's flat events) against real crawls of the
 * fixture site: `/ws/scraping/{job_id}?format=flat` with `ws` clients, every
 * event type the seed lists, exact keys, order, and numbers checked against
 * the truth model; a seed 000 client on the same job; the seed's error event
 * for an unknown job; `GET /ws/stats`; and the seed's JavaScript and Python
 * examples run as they are written.
 */
import { describe, expect, it } from "vitest";
import type { CrawlTruth } from "../fixture/truth.js";
import { getJson, postJson } from "../support/http.js";
import { type CrawlPlan, startScrape, truthFor } from "../support/jobs.js";
import { expectInitialState, expectJobStream } from "../support/seed000.js";
import {
  batchTruth,
  ExampleProcess,
  expectFlatStream,
  FLAT_KEYS,
  flatEvents,
  type FlatEvent,
  JOB_METADATA_KEYS,
  JS_EXAMPLE,
  printedEvents,
  PYTHON_EXAMPLE,
  SCRAPER_COUNT_KEYS,
  startBatch,
  SYSTEM_PYTHON,
  waitForTerminalEvent,
} from "../support/seed002.js";
import { useStack } from "../support/suite.js";
import { waitFor } from "../support/wait.js";
import { RecordingClient } from "../support/ws-client.js";

const suite = useStack();

async function flatClient(jobId: string): Promise<RecordingClient> {
  return suite.track(await RecordingClient.connect(`${suite.stack.gateway.wsUrl}/ws/scraping/${encodeURIComponent(jobId)}?format=flat`));
}

const ofType = (events: readonly FlatEvent[], type: string): FlatEvent[] => events.filter((event) => event.event_type === type);
const sum = (events: readonly FlatEvent[], key: string): number => events.reduce((total, event) => total + (event.metadata[key] as number), 0);

/**
 * The start of a stream: job_started, then one scraper_started per start
 * URL, in order, whenever the client connected. Returns the task ids by URL.
 */
function expectStart(events: readonly FlatEvent[], urls: readonly string[], depth: number): Map<string, string> {
  const [started, ...rest] = events;
  expect(started?.event_type, "job_started comes first").toBe("job_started");
  expect(started).toMatchObject({ status: "running", progress: null, results_count: 0 });
  expect(started?.metadata).toEqual({ platform: "web", url: urls[0], depth, total_scrapers: urls.length });
  expect(started?.message).toBe(urls.length === 1 ? `Job started: web crawl of ${urls[0]}, depth ${depth}` : `Job started: web crawl of ${urls.length} start URLs, depth ${depth}`);
  const scrapers = rest.slice(0, urls.length);
  expect(scrapers.map((event) => event.event_type), "one scraper_started per start URL, right after job_started").toEqual(urls.map(() => "scraper_started"));
  const tasks = new Map<string, string>();
  scrapers.forEach((event, i) => {
    expect(Object.keys(event.metadata)).toEqual(["task_id", "url"]);
    expect(event.metadata.url).toBe(urls[i]);
    expect(event.message).toBe(`Scraper started: ${urls[i]}`);
    expect(event.results_count).toBe(0);
    tasks.set(urls[i] as string, String(event.metadata.task_id));
  });
  expect(new Set(tasks.values()).size, "task ids are distinct").toBe(urls.length);
  return tasks;
}

/**
 * After the opening (the first event past the start), results_count rises
 * by exactly one at each results_updated and nowhere else: the client saw
 * every item as it was scraped. Each names a page of the crawl, once.
 */
function expectResults(events: readonly FlatEvent[], truth: CrawlTruth, openingIndex: number): void {
  const seen = new Set<string>();
  for (let i = openingIndex + 1; i < events.length; i++) {
    const event = events[i] as FlatEvent;
    const previous = events[i - 1] as FlatEvent;
    const label = `${event.event_type}#${i}`;
    if (event.event_type !== "results_updated") {
      expect(event.results_count, `${label}: results_count only moves on results_updated`).toBe(previous.results_count);
      continue;
    }
    expect(event.results_count, `${label}: one result more`).toBe(previous.results_count + 1);
    expect(Object.keys(event.metadata)).toEqual(["platform", "url", "item_id", "http_status", "processing_ms"]);
    const url = String(event.metadata.url);
    const page = truth.byUrl.get(url);
    expect(page?.item, `${label}: ${url} is a successful page of the crawl`).toBeDefined();
    expect(page?.item?.ids, `${label}.metadata.item_id`).toContain(event.metadata.item_id);
    expect(seen.has(url), `${label}: ${url} reported once`).toBe(false);
    seen.add(url);
    const status = event.metadata.http_status as number;
    expect(status >= 200 && status < 300, `${label}.metadata.http_status ${status}`).toBe(true);
    expect(Number.isInteger(event.metadata.processing_ms)).toBe(true);
    expect(event.message).toBe(`${event.results_count} ${event.results_count === 1 ? "result" : "results"} so far, latest from ${url}`);
  }
  expect(events.at(-1)?.results_count, "the final results_count is the number of successful pages").toBe(truth.successCount);
}

/** The tail of a finished stream: task outcomes, the final job_progress with the scraper counts, the terminal event. */
function expectEnd(events: readonly FlatEvent[], truth: CrawlTruth, scrapers: { successful: number; failed: number }): FlatEvent {
  const outcomes = scrapers.successful + scrapers.failed;
  const tail = events.slice(-(outcomes + 2));
  expect(tail.map((event) => event.event_type).slice(0, outcomes).every((type) => type === "scraper_completed" || type === "scraper_failed"), "every task ends before the job").toBe(true);
  const [finalProgress, terminal] = tail.slice(-2) as [FlatEvent, FlatEvent];
  const totals = { platform: "web", pages_done: truth.pagesDone, pages_total: truth.pagesTotal, success_count: truth.successCount, error_count: truth.errorCount };
  const counts = { successful_scrapers: scrapers.successful, failed_scrapers: scrapers.failed };
  expect(finalProgress.event_type).toBe("job_progress");
  expect(finalProgress.metadata).toEqual({ ...totals, ...counts });
  expect(terminal).toMatchObject({ event_type: "job_completed", status: "completed", progress: 100, results_count: truth.successCount });
  expect(Object.keys(terminal.metadata)).toEqual([...JOB_METADATA_KEYS, ...SCRAPER_COUNT_KEYS, "elapsed_seconds"]);
  expect(terminal.metadata).toMatchObject({ ...totals, ...counts });
  const elapsed = terminal.metadata.elapsed_seconds as number;
  expect(Number.isFinite(elapsed) && elapsed >= 0).toBe(true);
  expect(terminal.message).toBe(
    `Job completed: ${truth.successCount} ${truth.successCount === 1 ? "result" : "results"} from ${truth.pagesDone} pages (${truth.errorCount} failed) in ${elapsed} s`,
  );
  // Every job event before the last tasks ended carries no scraper counts: they are not known yet.
  for (const event of events.slice(0, -(outcomes + 2))) {
    if (event.event_type === "job_progress") expect(Object.keys(event.metadata), `job_progress before the tasks ended`).toEqual([...JOB_METADATA_KEYS]);
  }
  return terminal;
}

describe("seed 002: /ws/scraping/{job_id}?format=flat", () => {
  it("streams a crawl as the seed's flat events with true numbers, while a seed 000 client of the job gets seed 000 frames", async () => {
    const { site, gateway } = suite.stack;
    const plan: CrawlPlan = { path: "/", depth: 2, platform: "web" };
    const truth = truthFor(site, plan);
    expect(truth.errorCount).toBeGreaterThan(0);
    // The slow page (a timeout) holds the job open while the clients connect.
    expect(truth.byUrl.get(site.url(site.graph.paths.slow))?.outcome).toMatchObject({ ok: false, kind: "TIMEOUT" });
    const { job_id: jobId } = await startScrape(gateway, site, plan);
    const [flat, seed000] = await Promise.all([
      flatClient(jobId),
      RecordingClient.connect(`${gateway.wsUrl}/ws/scraping/${jobId}`).then((client) => suite.track(client)),
    ]);

    const events = await waitForTerminalEvent(flat);
    expectFlatStream(events, jobId);
    const tasks = expectStart(events, [site.url("/")], 2);
    expectResults(events, truth, 2);
    for (const event of ofType(events, "job_progress")) expect(event.status).toBe("running");

    const [completed] = ofType(events, "scraper_completed");
    expect(ofType(events, "scraper_completed")).toHaveLength(1);
    expect(ofType(events, "scraper_failed")).toHaveLength(0);
    expect(completed?.metadata).toEqual({ task_id: tasks.get(site.url("/")), url: site.url("/"), pages: truth.pagesDone, items: truth.successCount, errors: truth.errorCount });
    expect(completed?.message).toBe(`Scraper completed: ${site.url("/")} (${truth.pagesDone} pages, ${truth.successCount} results, ${truth.errorCount} errors)`);
    const terminal = expectEnd(events, truth, { successful: 1, failed: 0 });
    expect(events.findIndex((event) => event.event_type === "job_progress"), "job_progress after the start").toBeGreaterThan(1);

    // The seed 000 client of the same job: initial_state, then seed 000 frames only, with the same truth.
    await seed000.waitForFrame("job_complete", (frame) => frame.type === "job_complete");
    expect(Object.keys(expectInitialState(seed000.frames[0]).active_jobs)).toEqual([jobId]);
    const frames = expectJobStream(seed000.frames.slice(1), jobId, "web");
    expect(frames.terminal.data).toMatchObject({ total_items: truth.pagesDone, success_count: truth.successCount, error_count: truth.errorCount });

    // A client that connects after the end gets the same terminal event, and only it.
    const late = await flatClient(jobId);
    const [lateTerminal] = await waitForTerminalEvent(late);
    expect(lateTerminal).toEqual(terminal);
    expect(late.frames).toHaveLength(1);
    expect(flatEvents(flat), "nothing after the terminal event").toHaveLength(events.length);
  });

  it("streams a batch: its start URLs are the scrapers, a 404 and a timeout among them fail", async () => {
    const { site, gateway } = suite.stack;
    // The slow page also holds the job open (until the request timeout) while the client connects.
    const paths = ["/team/", site.graph.paths.missing, "/docs/", site.graph.paths.slow];
    const urls = paths.map((path) => site.url(path));
    const truth = batchTruth(site, paths, 1);
    const jobId = await startBatch(gateway, site, paths, 1);
    const flat = await flatClient(jobId);

    const events = await waitForTerminalEvent(flat);
    expectFlatStream(events, jobId);
    const tasks = expectStart(events, urls, 1);
    expectResults(events, truth, urls.length + 1);

    const failed = ofType(events, "scraper_failed");
    const [missing, slow] = [urls[1] as string, urls[3] as string];
    expect(failed.map((event) => event.metadata)).toEqual([
      { task_id: tasks.get(missing), url: missing },
      { task_id: tasks.get(slow), url: slow },
    ]);
    expect(failed[0]?.message.startsWith(`Scraper failed: ${missing}`), failed[0]?.message).toBe(true);
    expect(failed[0]?.message).toMatch(/404/);
    expect(failed[1]?.message.startsWith(`Scraper failed: ${slow}`), failed[1]?.message).toBe(true);
    expect(failed[1]?.message).toMatch(/time/i);

    const completed = ofType(events, "scraper_completed");
    expect(completed.map((event) => event.metadata.url)).toEqual([urls[0], urls[2]]);
    for (const event of completed) expect(event.metadata.task_id).toBe(tasks.get(String(event.metadata.url)));
    // Each failed task fetched its start URL only: one page, one error.
    expect(sum(completed, "pages") + failed.length, "pages of all tasks = pages of the job").toBe(truth.pagesDone);
    expect(sum(completed, "items"), "items of all tasks = results of the job").toBe(truth.successCount);
    expect(sum(completed, "errors") + failed.length, "errors of all tasks = errors of the job").toBe(truth.errorCount);
    expectEnd(events, truth, { successful: 2, failed: 2 });
  });

  it("answers an unknown job id with the seed's error event, then closes 1008", async () => {
    const jobId = "00000000-0000-4000-8000-000000000000";
    const client = await flatClient(jobId);
    const close = await client.waitForClose();
    expect(close.code).toBe(1008);
    const events = flatEvents(client);
    expect(events).toHaveLength(1);
    expect(Object.keys(events[0] as FlatEvent)).toEqual(FLAT_KEYS);
    expect(events[0]).toMatchObject({ job_id: jobId, event_type: "error", status: "failed", progress: null, results_count: 0, message: `Unknown job: ${jobId}`, metadata: {} });
  });

  it("runs the seed's JavaScript and Python examples to completion; GET /ws/stats counts them meanwhile", async () => {
    const { site, gateway } = suite.stack;
    // The slow page holds the job open (until the request timeout) so the examples connect while it runs.
    const paths = ["/team/", site.graph.paths.slow];
    const urls = paths.map((path) => site.url(path));
    const truth = batchTruth(site, paths, 1);
    const jobId = await startBatch(gateway, site, paths, 1);
    const paused = await postJson(`${gateway.url}/api/jobs/${jobId}/pause`);
    expect(paused.status, paused.text).toBe(200);
    await waitFor("the gateway to see the job paused", async () => (await getJson<{ status: string }>(`${gateway.url}/ws/scraping/${jobId}/status`)).body.status === "paused");

    const examples = [new ExampleProcess(process.execPath, [JS_EXAMPLE, gateway.wsUrl, jobId]), new ExampleProcess(SYSTEM_PYTHON, [PYTHON_EXAMPLE, gateway.wsUrl, jobId], { PYTHONUNBUFFERED: "1" })];
    try {
      for (const example of examples) await example.waitForLine("the opening job_progress of the paused job", (line) => line.startsWith("[job_progress] Job paused: "));
      // The WebSocket upgrade on /ws/stats still streams seed 000's stats.
      const seed000Stats = suite.track(await RecordingClient.connect(`${gateway.wsUrl}/ws/stats?interval=60`));
      const statsFrame = await seed000Stats.waitForFrame("a seed 000 stats frame", (frame) => frame.type === "stats");
      expect((statsFrame.data as { active_jobs_count: number }).active_jobs_count).toBe(1);
      const expected = { total_connections: 3, active_jobs: 1, redis_connected: false };
      const stats = await waitFor("GET /ws/stats to count the two examples and the stats client", async () => {
        const response = await getJson(`${gateway.url}/ws/stats`);
        expect(response.status).toBe(200);
        return JSON.stringify(response.body) === JSON.stringify(expected) ? response.body : undefined;
      });
      expect(Object.keys(stats)).toEqual(["total_connections", "active_jobs", "redis_connected"]);

      const resumed = await postJson(`${gateway.url}/api/jobs/${jobId}/resume`);
      expect(resumed.status, resumed.text).toBe(200);
      const exits = await Promise.all(examples.map((example) => example.waitForExit()));
      expect(exits, examples.map((example) => example.describe()).join("\n")).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
    } finally {
      for (const example of examples) example.kill();
    }

    const [js, python] = examples as [ExampleProcess, ExampleProcess];
    const checkPrinted = (example: ExampleProcess, nullText: string) => {
      expect(example.stderr, "nothing on stderr").toBe("");
      const { events, other } = printedEvents(example.lines);
      expect(events[0]).toEqual({ type: "job_started", message: `Job started: web crawl of 2 start URLs, depth 1`, progress: nullText, results: "0" });
      expect(events.slice(1, 3)).toEqual(urls.map((url) => ({ type: "scraper_started", message: `Scraper started: ${url}`, progress: nullText, results: "0" })));
      expect(events[3]?.message.startsWith("Job paused: "), "then the job as it is, paused").toBe(true);
      expect(events.some((event) => event.type === "job_progress" && event.message.startsWith("Job resumed: ")), "the resume").toBe(true);
      expect(events.filter((event) => event.type === "scraper_completed").map((event) => event.message)).toEqual([expect.stringMatching(new RegExp(`^Scraper completed: ${urls[0]} `))]);
      expect(events.filter((event) => event.type === "scraper_failed").map((event) => event.message)).toEqual([expect.stringMatching(new RegExp(`^Scraper failed: ${urls[1]}`))]);
      expect(events.at(-1)).toMatchObject({ type: "job_completed", progress: "100", results: String(truth.successCount) });
      expect(events.filter((event) => event.type === "job_completed"), "one terminal event, the last").toHaveLength(1);
      for (const event of events) expect(["job_started", "job_progress", "results_updated", "scraper_started", "scraper_completed", "scraper_failed", "job_completed"]).toContain(event.type);
      return { events, other };
    };

    const printedByJs = checkPrinted(js, "null");
    const ui = printedByJs.other.at(-1) ?? "";
    expect(printedByJs.other.slice(0, -1)).toEqual([`Connected to scraping job ${jobId}`, "Job finished successfully!", "WebSocket closed"]);
    expect(js.lines[0]).toBe(`Connected to scraping job ${jobId}`);
    expect(ui.startsWith("UI calls: ")).toBe(true);
    const calls = JSON.parse(ui.slice("UI calls: ".length)) as { updateProgressBar: Array<number | null>; updateResultsCount: number[] };
    expect(calls.updateProgressBar.map((value) => `${value}`), "updateProgressBar got every event's progress").toEqual(printedByJs.events.map((event) => event.progress));
    expect(calls.updateResultsCount.map(String), "updateResultsCount got every event's results_count").toEqual(printedByJs.events.map((event) => event.results));

    const printedByPython = checkPrinted(python, "None");
    expect(printedByPython.other).toEqual([`Connected to job ${jobId}`]);
    expect(python.lines[0]).toBe(`Connected to job ${jobId}`);
  });
});
