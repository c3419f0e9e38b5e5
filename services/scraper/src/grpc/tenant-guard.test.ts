import * as grpc from "@grpc/grpc-js";
import { bearerInterceptor, createClient, JobStatus, ScraperService, type WatchEventsResponse } from "@trawl/proto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { createScraperServer, type ScraperServer } from "../server.js";
import { linkPage, startSite, type Site } from "../test-support/http-site.js";

const A_READ = "tenant-a-read-token-01";
const A_CONTROL = "tenant-a-control-token";
const B_CONTROL = "tenant-b-control-token";
const ADMIN = "gateway-admin-token-01";

describe("scraper gRPC with API tokens and tenants", () => {
  let site: Site;
  let server: ScraperServer;
  let address = "";
  const clients: Array<{ close(): void }> = [];
  const client = (token?: string) => {
    const made = createClient(ScraperService, address, undefined, token === undefined ? {} : { interceptors: [bearerInterceptor(token)] });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    site = await startSite((req, res) => void res.writeHead(200, { "content-type": "text/html" }).end(linkPage(req.url ?? "/", [])));
    server = createScraperServer(
      loadConfig({
        SCRAPER_PORT: "0",
        DATA_DIR: mkdtempSync(join(tmpdir(), "trawl-tenants-")),
        CRAWL_ALLOW_ADDRESSES: "127.0.0.1",
        CRAWL_RESPECT_ROBOTS: "false",
        CRAWL_PER_HOST_DELAY_MS: "0",
        AUTH_TOKENS: `a:read:${A_READ},a:control:${A_CONTROL},b:control:${B_CONTROL},ops:admin:${ADMIN}`,
      }),
    );
    address = (await server.listen()).address;
  });
  afterAll(async () => {
    for (const made of clients) made.close();
    await server.close();
    await site.close();
  });

  const crawl = () => ({ crawl: { urls: [`${site.origin}/`], depth: 0 } });

  it("refuses calls without a valid token (UNAUTHENTICATED) and control calls from a read token (PERMISSION_DENIED)", async () => {
    await expect(client().listJobs({})).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(client("not-a-token-at-all-000").getStats({})).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(client(A_READ).startJob(crawl())).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  });

  it("gives each tenant its own jobs: started as its tenant, listed, read and controlled only by it; an admin sees all", async () => {
    const a = (await client(A_CONTROL).startJob(crawl())).job!;
    const b = (await client(B_CONTROL).startJob({ ...crawl(), tenant: "a" })).job!;
    expect(a.tenant).toBe("a");
    // A non-admin caller cannot start a job for another tenant: the request's tenant is replaced by its own.
    expect(b.tenant).toBe("b");
    const adminJob = (await client(ADMIN).startJob({ ...crawl(), tenant: "c" })).job!;
    expect(adminJob.tenant).toBe("c");
    await expect(client(ADMIN).startJob({ ...crawl(), tenant: "Not A Tenant" })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining("tenant") });

    const ids = async (token: string, tenant = "") => (await client(token).listJobs({ tenant })).jobs.map((job) => job.id).sort();
    expect(await ids(A_READ)).toEqual([a.id]);
    expect(await ids(B_CONTROL, "a")).toEqual([b.id]);
    expect(await ids(ADMIN)).toEqual([a.id, b.id, adminJob.id].sort());
    expect(await ids(ADMIN, "c")).toEqual([adminJob.id]);

    await expect(client(A_READ).getJob({ jobId: a.id })).resolves.toMatchObject({ job: { id: a.id, tenant: "a" } });
    for (const call of [() => client(B_CONTROL).getJob({ jobId: a.id }), () => client(B_CONTROL).cancelJob({ jobId: a.id }), () => client(B_CONTROL).listItems({ jobId: a.id })]) {
      await expect(call()).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    }
    await expect(client(ADMIN).getJob({ jobId: a.id })).resolves.toMatchObject({ job: { id: a.id } });
  });

  it("streams a tenant's own jobs' events only", async () => {
    const seen = new Set<string>();
    const stream = client(B_CONTROL).watchEvents({ afterOffset: 0n });
    stream.on("data", (message: WatchEventsResponse) => {
      if (message.message.case === "event") seen.add(message.message.value.jobId);
      if (message.message.case === "snapshot") for (const job of message.message.value.jobs) seen.add(job.id);
    });
    stream.on("error", () => undefined);
    const mine = (await client(B_CONTROL).startJob(crawl())).job!;
    const theirs = (await client(A_CONTROL).startJob(crawl())).job!;
    const deadline = Date.now() + 10_000;
    while (!seen.has(mine.id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    // Wait until a's job has ended, so its events were appended before we look.
    while ((await client(ADMIN).getJob({ jobId: theirs.id })).job?.status === JobStatus.RUNNING && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    stream.cancel();
    expect(seen.has(mine.id)).toBe(true);
    const tenants = await Promise.all([...seen].map(async (id) => (await client(ADMIN).getJob({ jobId: id })).job?.tenant));
    expect(new Set(tenants)).toEqual(new Set(["b"]));
  });
});
