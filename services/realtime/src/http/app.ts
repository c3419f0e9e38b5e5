/**
 * The gateway's REST surface (express 5): starting and inspecting jobs, the
 * seed 000/002 status endpoints, health, and the observability endpoints
 * (`/metrics`, `/livez`, `/readyz`). Every error leaves as JSON.
 */
import { DEFAULT_TENANT, ExportFormat, itemJson, JOB_STATUS_NAMES, PLATFORM_NAMES, Role } from "@trawl/proto";
import { GatewayAccess } from "../auth/gateway-access.js";
import { originGuard, principalOf, requireRole } from "../auth/http-access.js";
import { assertJobVisible } from "../auth/job-access.js";
import { inScope, scopeOf } from "../auth/scope.js";
import express, { type Express, type Request, type RequestHandler } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { Edge, type GatewayMetrics } from "../metrics/gateway-metrics.js";
import type { ReadinessReport } from "../metrics/readiness.js";
import type { ScraperPool } from "../scrapers/scraper-pool.js";
import type { LiveState } from "../state/live-state.js";
import { recordFromJob } from "../state/reducer.js";
import { platformStatsView } from "../state/views.js";
import { errorHandler, fromScraperError, HttpError, invalidRequest, notFound, unknownRoute } from "./errors.js";
import { dashboardRouter } from "./dashboard.js";
import { jobJson } from "./job-json.js";
import { isoInstant, LIST_LIMIT_MESSAGE, listJobsPage, PLATFORMS_MESSAGE, STATUSES_MESSAGE } from "./job-list-query.js";
import { jobStatusJson } from "./job-status.js";
import { pipeExport } from "./export.js";
import { wsStatsHandler } from "./ws-stats.js";
import { fieldOfScraperError, scanRequestSchema, scrapeRequestSchema, startUrls, toScanJobRequest, toStartJobRequest } from "./scrape-request.js";

export interface HttpAppOptions {
  state: LiveState;
  pool: ScraperPool;
  /** WebSocket counts for `/ws/scraping/status`. */
  connections: () => { active: number; jobSubscriptions: number };
  now: () => number;
  logger: Logger;
  /** The tRPC HTTP transport, mounted at `/trpc` (it parses its own bodies). */
  trpc?: RequestHandler;
  /** The built dashboard's folder, served at `/`. */
  dashboardDir?: string;
  /** Served at `/metrics`; also counts the app's error responses. */
  metrics?: GatewayMetrics;
  /** Answers `/readyz` (200 when ready, else 503); without it `/readyz` follows `/health`'s scraper check. */
  readiness?: () => ReadinessReport;
  /** Tokens and origins; without it the app is open (every caller an admin), as on loopback without AUTH_TOKENS. */
  access?: GatewayAccess;
  /** Largest JSON request body (HTTP_MAX_BODY_BYTES, default 64 KiB); more is 413. */
  maxBodyBytes?: number;
}

/** Error statuses → the `kind` of trawl_gateway_errors_total (the `error` codes of errors.ts). */
const ERROR_KINDS: Readonly<Record<number, string>> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "too_many_requests",
  500: "internal",
  503: "unavailable",
};


/** A comma-separated query parameter as a list ("" or absent: empty). */
const commaList = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === "" ? [] : value.split(",").map((part) => part.trim())));

const listQuerySchema = z.object({
  status: commaList.pipe(z.array(z.enum(JOB_STATUS_NAMES, { error: `status must be a comma-separated list that ${STATUSES_MESSAGE}` }))),
  platform: commaList.pipe(z.array(z.enum(PLATFORM_NAMES, { error: `platform must be a comma-separated list that ${PLATFORMS_MESSAGE}` }))),
  created_after: isoInstant("created_after"),
  created_before: isoInstant("created_before"),
  limit: z.coerce.number({ error: LIST_LIMIT_MESSAGE }).int(LIST_LIMIT_MESSAGE).min(1, LIST_LIMIT_MESSAGE).max(500, LIST_LIMIT_MESSAGE).default(50),
  cursor: z.string().max(4000, "cursor is too long").optional(),
});

const itemsQuerySchema = z.object({
  page_size: z.coerce
    .number({ error: "page_size must be an integer from 1 to 1000" })
    .int("page_size must be an integer from 1 to 1000")
    .min(1, "page_size must be an integer from 1 to 1000")
    .max(1000, "page_size must be an integer from 1 to 1000")
    .default(50),
  page_token: z.string().max(200, "page_token is too long").default(""),
  q: z.string().max(200, "q is too long").default(""),
  embeddings: z.enum(["true", "false"], { error: "embeddings must be true or false" }).default("false"),
});

const EXPORT_FORMATS = { json: ExportFormat.JSON, ndjson: ExportFormat.NDJSON, csv: ExportFormat.CSV } as const;
const exportQuerySchema = z.object({
  format: z.enum(["json", "ndjson", "csv"], { error: "format must be json, ndjson or csv" }).default("json"),
});

const cancelBodySchema = z.object({ reason: z.string({ error: "reason must be a string" }).max(500, "reason is too long").optional() });

export function createHttpApp(options: HttpAppOptions): Express {
  const { state, pool, now, logger } = options;
  const app = express();
  app.disable("x-powered-by");
  const { metrics } = options;
  if (metrics !== undefined) app.use(countErrors(metrics));
  const access = options.access ?? new GatewayAccess({ authTokens: [], allowedOrigins: [] });
  const read = requireRole(access, Role.READ);
  const control = requireRole(access, Role.CONTROL);
  /** The job must be the caller's tenant's (404 otherwise, as for a job that does not exist). */
  const visible = (res: Parameters<typeof principalOf>[0], jobId: string, field = "id") => assertJobVisible(pool, state, jobId, scopeOf(principalOf(res)), field);

  app.get("/livez", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", (_req, res) => {
    const report = options.readiness?.();
    if (report !== undefined) {
      res.status(report.ready ? 200 : 503).json(report.body);
      return;
    }
    const ready = pool.health().some((scraper) => scraper.connected);
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "not_ready" });
  });

  // Probes carry no credentials; everything below is checked for origin, and all but /health for a token.
  app.use(originGuard(access));

  if (metrics !== undefined) {
    app.get("/metrics", requireRole(access, Role.ADMIN), async (_req, res) => {
      const { contentType, body } = await metrics.exposition();
      res.set("Content-Type", contentType).send(body);
    });
  }

  if (options.trpc !== undefined) app.use("/trpc", options.trpc);
  app.use(express.json({ limit: options.maxBodyBytes ?? 65_536 }));

  app.post("/api/scrape", control, async (req, res) => {
    const body = parseBody(req, scrapeRequestSchema);
    access.assertCanStart(state, principalOf(res).tenant);
    let started;
    try {
      started = await pool.startJob({ ...toStartJobRequest(body), tenant: principalOf(res).tenant });
    } catch (error) {
      throw fromScraperError(error, { invalidField: fieldOfScraperError });
    }
    const jobId = started.response.job?.id ?? "";
    const urls = startUrls(body);
    logger.info({ jobId, scraper: started.address, tasks: urls.length }, "job started");
    res.json({
      job_id: jobId,
      status: "started",
      url: urls[0],
      ...(body.urls === undefined ? {} : { urls }),
      estimated_time_seconds: started.response.estimatedTimeSeconds,
      message: `Scraping job started. Connect to /ws/scraping/${jobId} for real-time updates.`,
    });
  });

  app.post("/api/scan", control, async (req, res) => {
    const body = parseBody(req, scanRequestSchema);
    access.assertCanStart(state, principalOf(res).tenant);
    const started = await pool.startJob({ ...toScanJobRequest(body), tenant: principalOf(res).tenant }).catch((error: unknown) => {
      throw fromScraperError(error, { field: "path", invalidField: fieldOfScraperError });
    });
    const jobId = started.response.job?.id ?? "";
    logger.info({ jobId, scraper: started.address }, "scan started");
    res.json({
      job_id: jobId,
      status: "started",
      path: body.path,
      estimated_time_seconds: started.response.estimatedTimeSeconds,
      message: `Directory scan started. Connect to /ws/scraping/${jobId} for real-time updates.`,
    });
  });

  app.get("/ws/scraping/status", read, (_req, res) => {
    const connections = options.connections();
    const scope = scopeOf(principalOf(res));
    let activeJobs = 0;
    for (const id of state.active) if (inScope(state.jobs.get(id)?.tenant ?? "", scope)) activeJobs++;
    res.json({
      active_connections: connections.active,
      active_jobs: activeJobs,
      job_subscriptions: connections.jobSubscriptions,
      platform_stats: platformStatsView(state, scope),
    });
  });

  app.get("/ws/stats", read, wsStatsHandler(options));

  app.get("/ws/scraping/:job_id/status", read, async (req, res) => {
    const jobId = param(req, "job_id");
    let job = state.jobs.get(jobId);
    if (job === undefined) {
      const found = await pool.getJob(jobId).catch((error: unknown) => {
        throw fromScraperError(error);
      });
      job = state.jobs.get(jobId) ?? (found === undefined ? undefined : recordFromJob(found.job, found.address));
    }
    if (job === undefined || !inScope(job.tenant, scopeOf(principalOf(res)))) throw notFound("job_id", `Unknown job: ${jobId}`);
    res.json(jobStatusJson(job, now()));
  });

  app.get("/api/jobs", read, async (req, res) => {
    const query = listQuerySchema.safeParse(req.query);
    if (!query.success) throw zodError(query.error, "query");
    const { status, platform, created_after, created_before, limit, cursor } = query.data;
    const page = await listJobsPage(pool, { statuses: status, platforms: platform, createdAfter: created_after, createdBefore: created_before, limit, cursor, tenant: scopeOf(principalOf(res)) }, now()).catch(
      (error: unknown) => {
        throw fromScraperError(error);
      },
    );
    res.json(page);
  });

  app.get("/api/jobs/:id", read, async (req, res) => {
    const found = await pool.getJob(param(req, "id")).catch((error: unknown) => {
      throw fromScraperError(error, { field: "id" });
    });
    if (found === undefined || !inScope(found.job.tenant || DEFAULT_TENANT, scopeOf(principalOf(res)))) throw notFound("id", `Unknown job: ${param(req, "id")}`);
    res.json(jobJson(found.job, found.address, now()));
  });

  app.post("/api/jobs/:id/cancel", control, async (req, res) => {
    const body = req.body === undefined ? {} : parseBody(req, cancelBodySchema);
    await visible(res, param(req, "id"));
    const cancelled = await pool.cancelJob(param(req, "id"), body.reason ?? "").catch((error: unknown) => {
      throw fromScraperError(error, { field: "id" });
    });
    logger.info({ jobId: param(req, "id") }, "job cancel requested");
    res.json(jobJson(cancelled.job, cancelled.address, now()));
  });

  for (const action of ["pause", "resume"] as const) {
    app.post(`/api/jobs/:id/${action}`, control, async (req, res) => {
      await visible(res, param(req, "id"));
      const call = action === "pause" ? pool.pauseJob(param(req, "id")) : pool.resumeJob(param(req, "id"));
      const changed = await call.catch((error: unknown) => {
        throw fromScraperError(error, { field: "id" });
      });
      logger.info({ jobId: param(req, "id") }, `job ${action} requested`);
      res.json(jobJson(changed.job, changed.address, now()));
    });
  }

  app.get("/api/jobs/:id/items", read, async (req, res) => {
    const query = itemsQuerySchema.safeParse(req.query);
    if (!query.success) throw zodError(query.error, "query");
    await visible(res, param(req, "id"));
    const { page_size, page_token, q, embeddings } = query.data;
    const page = await pool.listItems({ jobId: param(req, "id"), pageSize: page_size, pageToken: page_token, query: q }).catch((error: unknown) => {
      throw fromScraperError(error, { field: "id", invalidField: (details) => (/page_token/i.test(details) ? "page_token" : "query") });
    });
    res.json({
      job_id: param(req, "id"),
      total: page.total,
      items: page.items.map((item) => itemJson(item, { embedding: embeddings === "true" })),
      next_page_token: page.nextPageToken === "" ? null : page.nextPageToken,
    });
  });

  app.get("/api/jobs/:id/export", read, async (req, res) => {
    const query = exportQuerySchema.safeParse(req.query);
    if (!query.success) throw zodError(query.error, "query");
    await visible(res, param(req, "id"));
    const stream = await pool.exportItems(param(req, "id"), EXPORT_FORMATS[query.data.format]).catch((error: unknown) => {
      throw fromScraperError(error, { field: "id" });
    });
    await pipeExport(stream, res, { jobId: param(req, "id"), format: query.data.format, logger });
  });

  app.get("/health", (_req, res) => {
    const scrapers = pool.health();
    const healthy = scrapers.every((scraper) => scraper.connected);
    res.status(healthy ? 200 : 503).json({ status: healthy ? "ok" : "degraded", scrapers });
  });

  if (options.dashboardDir !== undefined) app.use(dashboardRouter(options.dashboardDir));
  app.use(unknownRoute);
  app.use(errorHandler(logger));
  return app;
}

/**
 * Counts every error response (4xx, 5xx) once it is sent, by kind; 401 and
 * 403 count as auth failures too, 413 as a limit hit. tRPC's HTTP transport
 * counts as the trpc edge.
 */
function countErrors(metrics: GatewayMetrics): RequestHandler {
  return (req, res, next) => {
    const edge = req.path === "/trpc" || req.path.startsWith("/trpc/") ? Edge.TRPC : Edge.HTTP;
    res.once("finish", () => {
      if (res.statusCode < 400) return;
      metrics.error(edge, ERROR_KINDS[res.statusCode] ?? `http_${res.statusCode}`);
      if (res.statusCode === 401 || res.statusCode === 403) metrics.authFailed(edge, ERROR_KINDS[res.statusCode] as string);
      if (res.statusCode === 413) metrics.limitHit(edge, "body_size");
    });
    next();
  };
}

/** Validates the JSON body against `schema`, or throws a 400 naming the first bad field. */
function parseBody<T extends z.ZodType>(req: Request, schema: T): z.infer<T> {
  if (req.body === undefined) throw invalidRequest("body", "expected a JSON object body (Content-Type: application/json)");
  const result = schema.safeParse(req.body);
  if (!result.success) throw zodError(result.error, "body");
  return result.data;
}

function zodError(error: z.ZodError, fallbackField: string): HttpError {
  const issue = error.issues[0];
  const field = typeof issue?.path[0] === "string" ? issue.path[0] : fallbackField;
  const message = issue === undefined ? "invalid request" : issue.path.length === 0 ? `expected a JSON object ${fallbackField}` : issue.message;
  return invalidRequest(field, message);
}

/** A route parameter (express types a route's params loosely once a middleware precedes the handler). */
function param(req: Request, name: string): string {
  return String(req.params[name]);
}
