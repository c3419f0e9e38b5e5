import { createTRPCClient, createWSClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError, wsLink, type TRPCClient } from "@trpc/client";
import { EventSource } from "undici";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import type { Gateway } from "../gateway.js";
import { startGatewayWithDouble } from "../test-support/gateway-with-double.js";
import type { ScriptedScraper } from "../test-support/scripted-scraper.js";
import { item } from "../test-support/events.js";
import type { AppRouter } from "./router.js";

type Json = Record<string, unknown>;
type Client = TRPCClient<AppRouter>;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Booted {
  gateway: Gateway;
  double: ScriptedScraper;
  base: string;
  /** httpBatchLink for queries and mutations, httpSubscriptionLink (SSE) for subscriptions. */
  http: Client;
  /** A fresh client over one WebSocket; `close` ends it. */
  ws(): { client: Client; close(): Promise<void> };
}

async function boot(): Promise<Booted> {
  const { gateway, double, url, port } = await startGatewayWithDouble(cleanups);
  const http = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url: `${url}/trpc`, EventSource }),
        false: httpBatchLink({ url: `${url}/trpc` }),
      }),
    ],
  });
  return {
    gateway,
    double,
    base: url,
    http,
    ws() {
      const wsClient = createWSClient({ url: `ws://127.0.0.1:${port}/trpc`, WebSocket: WebSocket as unknown as typeof globalThis.WebSocket });
      const close = () => wsClient.close();
      cleanups.push(close);
      return { client: createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] }), close };
    },
  };
}

async function rest(base: string, path: string): Promise<Json> {
  return (await (await fetch(`${base}${path}`)).json()) as Json;
}

/** Resolves with the rejection of `promise` (failing when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as TRPCClientError<AppRouter>;
}

interface Received {
  events: Array<{ id: string; data: Json }>;
  errors: unknown[];
  stop(): void;
}

function watchEvents(client: Client, input: Parameters<Client["events"]["watch"]["subscribe"]>[0]): Received {
  const received: Received = { events: [], errors: [], stop: () => undefined };
  const subscription = client.events.watch.subscribe(input, {
    onData: (envelope) => received.events.push({ id: envelope.id, data: envelope.data as Json }),
    onError: (error) => received.errors.push(error),
  });
  received.stop = () => subscription.unsubscribe();
  cleanups.push(() => subscription.unsubscribe());
  return received;
}

const progress = { case: "progress", value: { counters: {} } } as const;

/** Appends `count` progress events to `jobId` and waits until the gateway applied them. */
async function appendProgress(booted: Booted, jobId: string, count: number): Promise<bigint> {
  let last = 0n;
  for (let index = 0; index < count; index++) last = booted.double.append(jobId, progress).offset;
  await vi.waitFor(() => expect(booted.gateway.state.scrapers.get(booted.double.address)?.lastOffset).toBe(last));
  return last;
}

describe("tRPC jobs over HTTP (httpBatchLink)", () => {
  it("starts, reads, lists, pauses, resumes and cancels a job with the REST JSON shapes", async () => {
    const booted = await boot();
    const { http, base } = booted;
    const started = await http.jobs.start.mutate({ url: "https://example.test/", depth: 1 });
    expect(started).toMatchObject({ status: "started", url: "https://example.test/" });
    const id = started.job_id;

    const job = await http.jobs.get.query({ id });
    const { elapsed_seconds: _ignored, ...restJob } = await rest(base, `/api/jobs/${id}`);
    expect(job).toMatchObject(restJob);

    const listed = await http.jobs.list.query({ statuses: ["running"], limit: 10 });
    expect(listed.jobs.map((entry) => entry.job_id)).toContain(id);

    expect(await http.jobs.pause.mutate({ id })).toMatchObject({ status: "paused" });
    expect(await http.jobs.resume.mutate({ id })).toMatchObject({ status: "running" });
    const cancelled = await http.jobs.cancel.mutate({ id, reason: "enough" });
    expect(cancelled).toMatchObject(await rest(base, `/api/jobs/${id}`).then(({ elapsed_seconds: _e, ...rest }) => rest));
  });

  it("starts a directory scan", async () => {
    const { http } = await boot();
    const scan = await http.jobs.scan.mutate({ path: "/data/docs" });
    expect(scan).toMatchObject({ status: "started", path: "/data/docs" });
    expect(scan.job_id).not.toBe("");
  });

  it("pages a job's items and filters them by query", async () => {
    const booted = await boot();
    const { job_id: id } = await booted.http.jobs.start.mutate({ url: "https://example.test/" });
    for (const n of [1, 2, 3]) {
      const scraped = item({ url: `https://example.test/${n}`, title: `Page ${n}` });
      booted.double.append(id, { case: "itemScraped", value: { item: scraped, url: scraped.url, counters: {} } });
    }
    const first = await booted.http.jobs.items.query({ id, pageSize: 2 });
    expect(first).toMatchObject({ job_id: id, total: 3, next_page_token: "2" });
    expect(first.items).toHaveLength(2);
    expect(first).toEqual(await rest(booted.base, `/api/jobs/${id}/items?page_size=2`));
    const filtered = await booted.http.jobs.items.query({ id, query: "page 3" });
    expect(filtered.items.map((entry) => (entry as Json).url)).toEqual(["https://example.test/3"]);
  });

  it("refuses a bad start URL with BAD_REQUEST naming the field and keeping zod's field errors", async () => {
    const { http } = await boot();
    const error = await rejection(http.jobs.start.mutate({ url: "ftp://example.test/" }));
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.data?.field).toBe("url");
    expect(error.data?.zodError?.fieldErrors).toMatchObject({ url: ["url must be an absolute http or https URL"] });
  });

  it("refuses limit 0 with BAD_REQUEST naming limit", async () => {
    const { http } = await boot();
    const error = await rejection(http.jobs.list.query({ limit: 0 }));
    expect(error.data).toMatchObject({ code: "BAD_REQUEST", field: "limit", httpStatus: 400 });
  });

  it("answers NOT_FOUND naming id for an unknown job, on get and on control calls", async () => {
    const { http } = await boot();
    expect((await rejection(http.jobs.get.query({ id: "nope" }))).data).toMatchObject({ code: "NOT_FOUND", field: "id", httpStatus: 404 });
    expect((await rejection(http.jobs.pause.mutate({ id: "nope" }))).data).toMatchObject({ code: "NOT_FOUND", field: "id" });
    expect((await rejection(http.jobs.items.query({ id: "nope" }))).data).toMatchObject({ code: "NOT_FOUND", field: "id" });
  });

  it("maps FAILED_PRECONDITION to CONFLICT (resuming a running job)", async () => {
    const { http } = await boot();
    const { job_id: id } = await http.jobs.start.mutate({ url: "https://example.test/" });
    expect((await rejection(http.jobs.resume.mutate({ id }))).data).toMatchObject({ code: "CONFLICT", field: "id", httpStatus: 409 });
  });
});

describe("tRPC stats", () => {
  it("answers platform stats as a query", async () => {
    const booted = await boot();
    await booted.http.jobs.start.mutate({ url: "https://example.test/" });
    await vi.waitFor(() => expect(booted.gateway.state.active.size).toBe(1));
    const stats = await booted.http.stats.platform.query();
    expect(stats.active_jobs_count).toBe(1);
    expect(stats.platform_stats).toEqual((await rest(booted.base, "/ws/scraping/status")).platform_stats);
  });

  it("ticks stats.watch over WebSocket every intervalSeconds", async () => {
    const { ws } = await boot();
    const { client } = ws();
    const ticks: unknown[] = [];
    const subscription = client.stats.watch.subscribe({ intervalSeconds: 1 }, { onData: (data) => ticks.push(data) });
    cleanups.push(() => subscription.unsubscribe());
    await vi.waitFor(() => expect(ticks.length).toBeGreaterThanOrEqual(2), { timeout: 3_000 });
    expect(ticks[0]).toEqual({ platform_stats: {}, active_jobs_count: 0 });
  });

  it("refuses intervalSeconds 0 with BAD_REQUEST naming the field", async () => {
    const { ws } = await boot();
    const { client } = ws();
    const errors: unknown[] = [];
    client.stats.watch.subscribe({ intervalSeconds: 0 }, { onError: (error) => errors.push(error) });
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect((errors[0] as TRPCClientError<AppRouter>).data).toMatchObject({ code: "BAD_REQUEST", field: "intervalSeconds" });
  });
});

describe("tRPC events.watch", () => {
  it("delivers the scripted events in order over WebSocket, as canonical JSON with resumable ids", async () => {
    const booted = await boot();
    const { job_id: id } = await booted.http.jobs.start.mutate({ url: "https://example.test/" });
    await vi.waitFor(() => expect(booted.gateway.state.jobs.has(id)).toBe(true));
    const received = watchEvents(booted.ws().client, { jobId: id });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const last = await appendProgress(booted, id, 3);
    booted.double.append(id, { case: "completed", value: { counters: {}, elapsedMs: 5 } });
    await vi.waitFor(() => expect(received.events).toHaveLength(4));
    expect(received.events.map((event) => event.data.progress === undefined ? Object.keys(event.data).find((key) => key === "completed") : "progress")).toEqual([
      "progress",
      "progress",
      "progress",
      "completed",
    ]);
    expect(received.events[0]?.data).toMatchObject({ jobId: id, offset: String(last - 2n), seq: "2" });
    expect(received.events.map((event) => event.id)).toEqual([2n, 3n, 4n, 5n].map((offset) => `${booted.double.address}|${offset}`));
    expect(received.errors).toEqual([]);
  });

  it("filters by event type and job, and streams over SSE (httpSubscriptionLink)", async () => {
    const booted = await boot();
    const { job_id: a } = await booted.http.jobs.start.mutate({ url: "https://example.test/a" });
    const { job_id: b } = await booted.http.jobs.start.mutate({ url: "https://example.test/b" });
    await vi.waitFor(() => expect(booted.gateway.state.jobs.size).toBe(2));
    const failedOfA = watchEvents(booted.http, { jobId: a, types: ["pageFailed", "failed"] });
    const web = watchEvents(booted.http, { platforms: ["web"], types: ["failed"] });
    const reddit = watchEvents(booted.http, { platforms: ["reddit"] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    booted.double.append(b, { case: "pageFailed", value: { url: "https://example.test/b/x", counters: {} } });
    booted.double.append(a, progress);
    booted.double.append(a, { case: "pageFailed", value: { url: "https://example.test/a/x", counters: {} } });
    booted.double.append(a, { case: "failed", value: { errorMessage: "boom", counters: {} } });
    await vi.waitFor(() => expect(failedOfA.events).toHaveLength(2));
    expect(failedOfA.events.map((event) => Object.keys(event.data).filter((key) => key === "pageFailed" || key === "failed"))).toEqual([["pageFailed"], ["failed"]]);
    await vi.waitFor(() => expect(web.events).toHaveLength(1));
    expect(web.events[0]?.data).toMatchObject({ jobId: a, failed: { errorMessage: "boom" } });
    expect(reddit.events).toEqual([]);
    // The overview keeps those failures for a dashboard that opens later.
    const { recent_errors: recent } = await booted.http.stats.overview.query();
    expect(recent.map((event) => [event.jobId, event.pageFailed?.url ?? event.failed?.errorMessage])).toEqual([
      [b, "https://example.test/b/x"],
      [a, "https://example.test/a/x"],
      [a, "boom"],
    ]);
  });

  it("resumes from the last tracked id with exactly the missed events, once, in order, then live", async () => {
    const booted = await boot();
    const { job_id: id } = await booted.http.jobs.start.mutate({ url: "https://example.test/" });
    await vi.waitFor(() => expect(booted.gateway.state.jobs.has(id)).toBe(true));
    const first = booted.ws();
    const before = watchEvents(first.client, { jobId: id });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await appendProgress(booted, id, 2);
    await vi.waitFor(() => expect(before.events).toHaveLength(2));
    const lastId = before.events.at(-1)?.id ?? "";
    await first.close();

    // Missed while away: three of this job's events and one of another job.
    const other = booted.double.append("other-job", progress).offset;
    const missed = await appendProgress(booted, id, 3);
    expect(other).toBeLessThan(missed);

    const after = watchEvents(booted.ws().client, { jobId: id, lastEventId: lastId });
    await vi.waitFor(() => expect(after.events).toHaveLength(3));
    const live = booted.double.append(id, progress).offset;
    await vi.waitFor(() => expect(after.events).toHaveLength(4));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(after.events.map((event) => event.data.offset)).toEqual([missed - 2n, missed - 1n, missed, live].map(String));
    expect(after.events.map((event) => event.id)).toEqual([missed - 2n, missed - 1n, missed, live].map((offset) => `${booted.double.address}|${offset}`));
    expect(after.errors).toEqual([]);
    // The gap was filled from the scraper's own log, after the cursor's offset.
    expect(booted.double.watchRequests.at(-1)?.afterOffset).toBe(BigInt(lastId.split("|")[1] ?? ""));
  });

  it("resumes over SSE too, where the id travels as Last-Event-ID", async () => {
    const booted = await boot();
    const { job_id: id } = await booted.http.jobs.start.mutate({ url: "https://example.test/" });
    await vi.waitFor(() => expect(booted.gateway.state.jobs.has(id)).toBe(true));
    const startOffset = booted.gateway.state.scrapers.get(booted.double.address)?.lastOffset ?? 0n;
    await appendProgress(booted, id, 2);
    const resumed = watchEvents(booted.http, { jobId: id, lastEventId: `${booted.double.address}|${startOffset}` });
    await vi.waitFor(() => expect(resumed.events).toHaveLength(2));
    expect(resumed.events.map((event) => event.data.offset)).toEqual([startOffset + 1n, startOffset + 2n].map(String));
  });

  it("continues from stats.overview's cursor with exactly the events applied after it", async () => {
    const booted = await boot();
    const { job_id: id } = await booted.http.jobs.start.mutate({ url: "https://example.test/" });
    const seen = await appendProgress(booted, id, 2);
    const overview = await booted.http.stats.overview.query();
    expect(overview.cursor).toBe(`${booted.double.address}|${seen}`);
    expect(overview.active_jobs.map((job) => job.job_id)).toEqual([id]);
    expect(overview.recent_errors).toEqual([]);
    const later = await appendProgress(booted, id, 2);
    const resumed = watchEvents(booted.ws().client, { jobId: id, lastEventId: overview.cursor });
    await vi.waitFor(() => expect(resumed.events).toHaveLength(2));
    expect(resumed.events.map((event) => event.data.offset)).toEqual([later - 1n, later].map(String));
  });

  it("refuses a lastEventId naming a scraper it does not watch", async () => {
    const { ws } = await boot();
    const received = watchEvents(ws().client, { lastEventId: "10.9.9.9:1|5" });
    await vi.waitFor(() => expect(received.errors).toHaveLength(1));
    const error = received.errors[0] as TRPCClientError<AppRouter>;
    expect(error.data).toMatchObject({ code: "BAD_REQUEST" });
    expect(error.message).toMatch(/10\.9\.9\.9:1/);
  });

  it("refuses a lastEventId it did not issue with BAD_REQUEST", async () => {
    const { ws } = await boot();
    const received = watchEvents(ws().client, { lastEventId: "not a cursor" });
    await vi.waitFor(() => expect(received.errors).toHaveLength(1));
    expect((received.errors[0] as TRPCClientError<AppRouter>).data).toMatchObject({ code: "BAD_REQUEST" });
  });
});
