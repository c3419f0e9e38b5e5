import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { createClient, JobProgressSchema, JobStatus, ScraperService, type WatchEventsResponse } from "@trawl/proto";
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { createScraperServer, SHUTDOWN_REASON } from "./server.js";
import { linkPage, startSite, type Site } from "./test-support/http-site.js";

// The test site is on 127.0.0.1 and answers nothing but "/" at once (robots.txt would hang).
const config = (env: Record<string, string> = {}) =>
  loadConfig({ SCRAPER_PORT: "0", CRAWL_ALLOW_ADDRESSES: "127.0.0.1", CRAWL_RESPECT_ROBOTS: "false", CRAWL_PER_HOST_DELAY_MS: "0", ...env });

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

  it("on close, cancels running jobs and ends watch streams after their terminal events", async () => {
    const server = createScraperServer(config());
    const { address } = await server.listen();
    const client = createClient(ScraperService, address);
    const { job } = await client.startJob({ crawl: { urls: [`${site.origin}/`], depth: 1 } });
    const stream = client.watchEvents({});
    const received: WatchEventsResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on("data", (m: WatchEventsResponse) => received.push(m));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    while (held.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));

    await server.close();
    await ended;
    client.close();

    const last = received.at(-1);
    expect(last?.message.case === "event" && last.message.value.kind.case).toBe("cancelled");
    expect(last?.message.case === "event" && last.message.value.kind.case === "cancelled" && last.message.value.kind.value.reason).toBe(SHUTDOWN_REASON);
    expect(server.jobs.get(job?.id ?? "")?.status).toBe(JobStatus.CANCELLED);
    expect(server.jobs.get(job?.id ?? "")?.counters.pagesDone).toBe(1);
  });

  it("delivers every event, in order, to a client that stops reading for a while", async () => {
    const server = createScraperServer(config());
    const { address } = await server.listen();
    const client = createClient(ScraperService, address);
    const total = 20_000;
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
