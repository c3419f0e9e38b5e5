/**
 * API tokens and tenants on every edge, against the real processes: a
 * scraper requiring tokens (the gateway presents its admin token), a gateway
 * with tokens for two tenants and an admin, and the fixture site.
 *
 * Each edge refuses a missing or unknown token in its own form (HTTP 401
 * JSON, WebSocket close 1008, Socket.IO connect_error, tRPC UNAUTHORIZED),
 * a read token trying to control with 403 / FORBIDDEN, and shows a tenant
 * its own jobs only — another tenant's job is "unknown".
 */
import { createTRPCClient, createWSClient, httpBatchLink, TRPCClientError, wsLink } from "@trpc/client";
import type { AppRouter } from "@trawl/realtime";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type FixtureSite, startFixtureSite } from "../fixture/site.js";
import { type GatewayProcess, type ScraperProcess, startGateway, startScraper } from "../support/stack.js";
import { waitFor } from "../support/wait.js";

const TOKENS = {
  aRead: "acme-read-token-000001",
  aControl: "acme-control-token-0001",
  bControl: "beta-control-token-0001",
  admin: "ops-admin-token-0000001",
  scraper: "gateway-to-scraper-admin-1",
};
const ALLOWED_ORIGIN = "https://dashboard.example.com";

let site: FixtureSite;
let scraper: ScraperProcess;
let gateway: GatewayProcess;
let acmeJob = "";
let betaJob = "";

async function http(path: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set("authorization", `Bearer ${init.token}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const response = await fetch(`${gateway.url}${path}`, { ...init, headers });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>), headers: response.headers };
}

async function startCrawl(token: string): Promise<string> {
  const started = await http("/api/scrape", { method: "POST", token, body: JSON.stringify({ url: site.url("/"), depth: 1, max_pages: 5 }) });
  expect(started.status).toBe(200);
  return String(started.body.job_id);
}

/** A raw WebSocket: resolves with its first message (or none) and its close code and reason. */
function rawSocket(path: string, options: { token?: string; protocols?: string[]; origin?: string } = {}) {
  const url = `${gateway.wsUrl}${path}${options.token === undefined ? "" : `${path.includes("?") ? "&" : "?"}token=${options.token}`}`;
  const ws = new WebSocket(url, options.protocols ?? [], options.origin === undefined ? {} : { origin: options.origin });
  const messages: Array<Record<string, unknown>> = [];
  ws.on("message", (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    ws.once("error", reject);
  });
  return { ws, messages, closed, opened };
}

function trpcOverWs(token?: string) {
  const client = createWSClient({
    url: `${gateway.wsUrl}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    ...(token === undefined ? {} : { connectionParams: { token } }),
  });
  return { api: createTRPCClient<AppRouter>({ links: [wsLink({ client })] }), close: () => client.close() };
}

function trpcOverHttp(token?: string) {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${gateway.url}/trpc`, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })] });
}

async function trpcCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (error) {
    if (error instanceof TRPCClientError) return String((error.data as { code?: string } | undefined)?.code);
    throw error;
  }
}

beforeAll(async () => {
  site = await startFixtureSite();
  scraper = await startScraper({ AUTH_TOKENS: `ops:admin:${TOKENS.scraper}` });
  gateway = await startGateway([scraper.address], {
    AUTH_TOKENS: `acme:read:${TOKENS.aRead},acme:control:${TOKENS.aControl},beta:control:${TOKENS.bControl},ops:admin:${TOKENS.admin}`,
    SCRAPER_TOKEN: TOKENS.scraper,
    ALLOWED_ORIGINS: ALLOWED_ORIGIN,
  });
  await waitFor("the gateway to be ready", async () => (await fetch(`${gateway.url}/readyz`)).status === 200, { timeoutMs: 15_000 });
  acmeJob = await startCrawl(TOKENS.aControl);
  betaJob = await startCrawl(TOKENS.bControl);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await scraper?.stop();
  await site?.close();
});

describe("REST", () => {
  it("answers a missing or unknown token with 401 JSON naming authorization, and leaves the probes open", async () => {
    for (const token of [undefined, "not-a-known-token-0000"]) {
      const answer = await http("/api/jobs", token === undefined ? {} : { token });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: "unauthorized", field: "authorization" });
      expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect((await http("/livez")).status).toBe(200);
    expect((await http("/readyz")).status).toBe(200);
    expect((await http("/metrics")).status).toBe(401);
    expect((await http("/metrics", { token: TOKENS.aControl })).status).toBe(403);
    const metrics = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.admin}` } });
    expect(metrics.status).toBe(200);
    // The refusals above are counted.
    expect(await metrics.text()).toMatch(/trawl_gateway_auth_failures_total\{edge="http",reason="unauthorized"\} [1-9]/);
  });

  it("refuses control to a read token with 403, and to anyone a job of another tenant as unknown (404)", async () => {
    const refused = await http("/api/scrape", { method: "POST", token: TOKENS.aRead, body: JSON.stringify({ url: site.url("/") }) });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: "forbidden", field: "authorization", message: expect.stringContaining("needs control") });
    expect((await http(`/api/jobs/${acmeJob}`, { token: TOKENS.aRead })).body).toMatchObject({ job_id: acmeJob });
    for (const [path, method] of [[`/api/jobs/${acmeJob}`, "GET"], [`/api/jobs/${acmeJob}/items`, "GET"], [`/api/jobs/${acmeJob}/cancel`, "POST"], [`/api/jobs/${acmeJob}/export`, "GET"], [`/ws/scraping/${acmeJob}/status`, "GET"]] as const) {
      const answer = await http(path, { method, token: TOKENS.bControl });
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
  });

  it("lists each tenant's jobs only; an admin lists both", async () => {
    const ids = async (token: string) => ((await http("/api/jobs?limit=100", { token })).body.jobs as Array<{ job_id: string }>).map((job) => job.job_id);
    expect(await ids(TOKENS.aRead)).toContain(acmeJob);
    expect(await ids(TOKENS.aRead)).not.toContain(betaJob);
    expect(await ids(TOKENS.bControl)).toEqual([betaJob]);
    expect(await ids(TOKENS.admin)).toEqual(expect.arrayContaining([acmeJob, betaJob]));
  });

  it("refuses a browser origin that is not allowed, and answers the allowed one's preflight", async () => {
    const refused = await http("/api/jobs", { token: TOKENS.admin, headers: { origin: "https://evil.example" } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: "forbidden", field: "origin" });
    const preflight = await fetch(`${gateway.url}/api/scrape`, { method: "OPTIONS", headers: { origin: ALLOWED_ORIGIN, "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
  });
});

describe("raw WebSocket", () => {
  it("closes 1008 with the reason when the token is missing or unknown", async () => {
    for (const token of [undefined, "not-a-known-token-0000"]) {
      const socket = rawSocket("/ws/scraping", token === undefined ? {} : { token });
      await socket.opened;
      expect(await socket.closed).toEqual({ code: 1008, reason: expect.stringMatching(/^unauthorized: /) });
    }
  });

  it("takes the token as ?token= or as the bearer subprotocol (answering 'bearer'), and shows the tenant's jobs only", async () => {
    const byQuery = rawSocket("/ws/scraping", { token: TOKENS.bControl });
    const byProtocol = rawSocket("/ws/scraping", { protocols: ["bearer", TOKENS.aRead] });
    await Promise.all([byQuery.opened, byProtocol.opened]);
    expect(byProtocol.ws.protocol).toBe("bearer");
    await waitFor("initial_state on both sockets", () => byQuery.messages.length > 0 && byProtocol.messages.length > 0);
    const activeOf = (message: Record<string, unknown> | undefined) => Object.keys((message?.data as { active_jobs: object }).active_jobs);
    expect(byQuery.messages[0]?.type).toBe("initial_state");
    expect(activeOf(byQuery.messages[0])).not.toContain(acmeJob);
    expect(activeOf(byProtocol.messages[0])).not.toContain(betaJob);
    // A new acme crawl streams to the acme socket, never to the beta one.
    const another = await startCrawl(TOKENS.aControl);
    await waitFor("acme's job_complete", () => byProtocol.messages.some((m) => (m.data as { job_id?: string })?.job_id === another && m.type === "job_complete"), { timeoutMs: 30_000 });
    expect(byQuery.messages.some((m) => JSON.stringify(m).includes(another))).toBe(false);
    byQuery.ws.close();
    byProtocol.ws.close();
  });

  it("answers another tenant's job as unknown (job_error, 1008), and refuses an origin not allowed at the upgrade", async () => {
    const socket = rawSocket(`/ws/scraping/${acmeJob}`, { token: TOKENS.bControl });
    await socket.opened;
    expect(await socket.closed).toMatchObject({ code: 1008 });
    expect(socket.messages[0]).toMatchObject({ type: "job_error", data: { job_id: acmeJob } });
    await expect(rawSocket("/ws/scraping", { token: TOKENS.admin, origin: "https://evil.example" }).opened).rejects.toThrow(/HTTP 403/);
    const allowed = rawSocket("/ws/scraping", { token: TOKENS.admin, origin: ALLOWED_ORIGIN });
    await allowed.opened;
    allowed.ws.close();
  });
});

describe("Socket.IO (seed 004)", () => {
  it("refuses a connection without a token with connect_error, accepts auth.token, and hides another tenant's job", async () => {
    const refused = io(gateway.url, { transports: ["websocket"], reconnection: false, forceNew: true });
    const error = await new Promise<Error>((resolve) => refused.once("connect_error", resolve));
    expect(error.message).toBe("unauthorized");
    refused.close();

    const socket = io(gateway.url, { transports: ["websocket"], reconnection: false, forceNew: true, auth: { token: TOKENS.bControl } });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
    const answer = await new Promise<Record<string, unknown>>((resolve) => socket.emit("subscribe:job", { job_id: acmeJob }, resolve));
    expect(answer).toMatchObject({ job_id: acmeJob, status: "ABORTED", message: `Unknown job: ${acmeJob}` });
    const own = await new Promise<Record<string, unknown>>((resolve) => socket.emit("subscribe:job", { job_id: betaJob }, resolve));
    expect(own).toEqual({ job_id: betaJob });
    socket.close();
  });
});

describe("tRPC", () => {
  it("answers UNAUTHORIZED without a token, FORBIDDEN for control with a read token, over WebSocket and HTTP", async () => {
    const anonymous = trpcOverWs();
    expect(await trpcCode(anonymous.api.jobs.list.query({}))).toBe("UNAUTHORIZED");
    anonymous.close();
    expect(await trpcCode(trpcOverHttp().stats.overview.query())).toBe("UNAUTHORIZED");
    const reader = trpcOverWs(TOKENS.aRead);
    expect(await trpcCode(reader.api.jobs.start.mutate({ url: site.url("/") }))).toBe("FORBIDDEN");
    expect(await trpcCode(reader.api.jobs.get.query({ id: betaJob }))).toBe("NOT_FOUND");
    expect((await reader.api.jobs.get.query({ id: acmeJob })).job_id).toBe(acmeJob);
    reader.close();
    expect(await trpcCode(trpcOverHttp(TOKENS.bControl).jobs.cancel.mutate({ id: acmeJob }))).toBe("NOT_FOUND");
  });

  it("streams a tenant's own events only", async () => {
    const beta = trpcOverWs(TOKENS.bControl);
    const seen: string[] = [];
    const subscription = beta.api.events.watch.subscribe({}, { onData: (event) => seen.push(event.data.jobId ?? "") });
    const ours = (await beta.api.jobs.start.mutate({ url: site.url("/"), max_pages: 3 })).job_id;
    const theirs = await startCrawl(TOKENS.aControl);
    await waitFor("beta's own events", () => seen.includes(ours), { timeoutMs: 30_000 });
    await waitFor("acme's job to end", async () => ((await http(`/api/jobs/${theirs}`, { token: TOKENS.admin })).body.status as string) !== "running", { timeoutMs: 30_000 });
    subscription.unsubscribe();
    beta.close();
    expect(seen).not.toContain(theirs);
    expect(new Set(seen)).not.toContain(acmeJob);
  });
});
