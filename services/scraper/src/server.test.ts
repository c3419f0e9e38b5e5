import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { createClient, JobProgressSchema, JobStatus, ScraperService, type WatchEventsResponse } from "@trawl/proto";
import { mkdtempSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { createScraperServer } from "./server.js";
import { linkPage, startSite, type Site } from "./test-support/http-site.js";

// The test site is on 127.0.0.1 and answers nothing but "/" at once (robots.txt would hang).
const config = (env: Record<string, string> = {}) =>
  loadConfig({ SCRAPER_PORT: "0", DATA_DIR: mkdtempSync(join(tmpdir(), "trawl-server-")), CRAWL_ALLOW_ADDRESSES: "127.0.0.1", CRAWL_RESPECT_ROBOTS: "false", CRAWL_PER_HOST_DELAY_MS: "0", ...env });

describe("createScraperServer", () => {
  let site: Site;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    site = await startSite((req, res) => {
      if (req.url === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(linkPage("root", ["/hang/1", "/hang/2"]));
      held.push(res);
    });
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await site.close();
  });

  it("listens on an ephemeral port and reports the address it bound", async () => {
    const server = createScraperServer(config());
    const { address, port } = await server.listen();
    expect(port).toBeGreaterThan(0);
    expect(address).toBe(`127.0.0.1:${port}`);
    await server.close();
  });

  it("on close, stops running jobs without ending them; the next start on the same store resumes them", async () => {
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), "trawl-server-")) };
    const server = createScraperServer(config(env));
    const { address } = await server.listen();
    const client = createClient(ScraperService, address);
    const { job } = await client.startJob({ crawl: { urls: [`${site.origin}/`], depth: 1 } });
    const jobId = job?.id ?? "";
    while (held.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await server.close();
    client.close();
    expect(server.jobs.get(jobId)?.status).toBe(JobStatus.RUNNING);

    const again = createScraperServer(config(env));
    const next = await again.listen();
    const client2 = createClient(ScraperService, next.address);
    const resumed = await client2.getJob({ jobId });
    expect(resumed.job?.status).toBe(JobStatus.RUNNING);
    expect(resumed.job?.counters?.pagesDone).toBe(1);
    const events: WatchEventsResponse[] = [];
    const stream = client2.watchEvents({ jobId });
    // Cancelling the call below ends it with CANCELLED: expected, not a failure.
    stream.on("error", (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED) throw error;
    });
    const ended = new Promise<void>((resolve) => {
      stream.on("data", (m: WatchEventsResponse) => {
        events.push(m);
        if (m.message.case === "event" && m.message.value.kind.case === "cancelled") resolve();
      });
    });
    await client2.cancelJob({ jobId, reason: "enough" });
    await ended;
    stream.cancel();
    const kinds = events.flatMap((m) => (m.message.case === "event" ? [m.message.value.kind] : []));
    expect(kinds.filter((k) => k.case === "resumed").map((k) => k.case === "resumed" && k.value.recovered)).toEqual([true]);
    expect(kinds.filter((k) => k.case === "itemScraped")).toHaveLength(1);
    const seqs = events.flatMap((m) => (m.message.case === "event" ? [m.message.value.seq] : []));
    expect(seqs).toEqual(seqs.map((_, i) => BigInt(i + 1)));
    client2.close();
    await again.close();
  });

  it("delivers every event, in order, to a client that stops reading for a while", async () => {
    const server = createScraperServer(config());
    const { address } = await server.listen();
    const client = createClient(ScraperService, address);
    // 5,000 events of ~250 bytes: far past HTTP/2's flow-control windows, so the paused client does hold the stream up.
    const total = 5_000;
    const stream: grpc.ClientReadableStream<WatchEventsResponse> = client.watchEvents({ jobId: "bulk" });
    const offsets: bigint[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on("data", (m: WatchEventsResponse) => {
        if (m.message.case === "event") offsets.push(m.message.value.offset);
        if (offsets.length === total) resolve();
      });
      stream.on("error", reject);
    });
    stream.pause();
    const text = "x".repeat(200);
    for (let i = 0; i < total; i++) {
      server.log.append("bulk", { case: "progress", value: create(JobProgressSchema, { currentItem: { id: `${i}`, text } }) });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(offsets.length).toBeLessThan(total);
    stream.resume();
    await done;
    expect(offsets).toEqual(Array.from({ length: total }, (_, i) => BigInt(i + 1)));
    stream.cancel();
    client.close();
    await server.close();
  });
});
