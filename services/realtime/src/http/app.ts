/**
 * The gateway's REST surface (express 5): starting and inspecting jobs, the
 * seed 000/002 status endpoints and health. Every error leaves as JSON.
 */
import { ExportFormat, itemJson, JOB_STATUS_NAMES, PLATFORM_NAMES } from "@trawl/proto";
import express, { type Express, type Request, type RequestHandler } from "express";
import type { Logger } from "pino";
import { z } from "zod";
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
}


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
  if (options.trpc !== undefined) app.use("/trpc", options.trpc);
  app.use(express.json({ limit: "64kb" }));

  app.post("/api/scrape", async (req, res) => {
    const body = parseBody(req, scrapeRequestSchema);
    let started;
    try {
      started = await pool.startJob(toStartJobRequest(body));
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

  app.post("/api/scan", async (req, res) => {
    const body = parseBody(req, scanRequestSchema);
    const started = await pool.startJob(toScanJobRequest(body)).catch((error: unknown) => {
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

  app.get("/ws/scraping/status", (_req, res) => {
    const connections = options.connections();
    res.json({
      active_connections: connections.active,
      active_jobs: state.active.size,
      job_subscriptions: connections.jobSubscriptions,
      platform_stats: platformStatsView(state),
    });
  });

  app.get("/ws/stats", wsStatsHandler(options));

  app.get("/ws/scraping/:job_id/status", async (req, res) => {
    const jobId = req.params.job_id;
    let job = state.jobs.get(jobId);
    if (job === undefined) {
      const found = await pool.getJob(jobId).catch((error: unknown) => {
        throw fromScraperError(error);
      });
      job = state.jobs.get(jobId) ?? (found === undefined ? undefined : recordFromJob(found.job, found.address));
    }
    if (job === undefined) throw notFound("job_id", `Unknown job: ${jobId}`);
    res.json(jobStatusJson(job, now()));
  });

  app.get("/api/jobs", async (req, res) => {
    const query = listQuerySchema.safeParse(req.query);
    if (!query.success) throw zodError(query.error, "query");
    const { status, platform, created_after, created_before, limit, cursor } = query.data;
    const page = await listJobsPage(pool, { statuses: status, platforms: platform, createdAfter: created_after, createdBefore: created_before, limit, cursor }, now()).catch(
      (error: unknown) => {
        throw fromScraperError(error);
      },
    );
    res.json(page);
  });

  app.get("/api/jobs/:id", async (req, res) => {
    const found = await pool.getJob(req.params.id).catch((error: unknown) => {
      throw fromScraperError(error, { field: "id" });
    });
    if (found === undefined) throw notFound("id", `Unknown job: ${req.params.id}`);
    res.json(jobJson(found.job, found.address, now()));
  });

  app.post("/api/jobs/:id/cancel", async (req, res) => {
    const body = req.body === undefined ? {} : parseBody(req, cancelBodySchema);
    const cancelled = await pool.cancelJob(req.params.id, body.reason ?? "").catch((error: unknown) => {
      throw fromScraperError(error, { field: "id" });
    });
    logger.info({ jobId: req.params.id }, "job cancel requested");
    res.json(jobJson(cancelled.job, cancelled.address, now()));
  });

  for (const action of ["pause", "resume"] as const) {
    app.post(`/api/jobs/:id/${action}`, async (req, res) => {
      const call = action === "pause" ? pool.pauseJob(req.params.id) : pool.resumeJob(req.params.id);
      const changed = await call.catch((error: unknown) => {
        throw fromScraperError(error, { field: "id" });
      });
      logger.info({ jobId: req.params.id }, `job ${action} requested`);
      res.json(jobJson(changed.job, changed.address, now()));
    });
  }

  app.get("/api/jobs/:id/items", async (req, res) => {
    const query = itemsQuerySchema.safeParse(req.query);
    if (!query.success) throw zodError(query.error, "query");
    const { page_size, page_token, q, embeddings } = query.data;
    const page = await pool.listItems({ jobId: req.params.id, pageSize: page_size, pageToken: page_token, query: q }).catch((error: unknown) => {
      throw fromScraperError(error, { field: "id", invalidField: (details) => (/page_token/i.test(details) ? "page_token" : "query") });
    });
    res.json({
      job_id: req.params.id,
      total: page.total,
      items: page.items.map((item) => itemJson(item, { embedding: embeddings === "true" })),
      next_page_token: page.nextPageToken === "" ? null : page.nextPageToken,
    });
  });

  app.get("/api/jobs/:id/export", async (req, res) => {
    const query = exportQuerySchema.safeParse(req.query);
    if (!query.success) throw zodError(query.error, "query");
    const stream = await pool.exportItems(req.params.id, EXPORT_FORMATS[query.data.format]).catch((error: unknown) => {
      throw fromScraperError(error, { field: "id" });
    });
    await pipeExport(stream, res, { jobId: req.params.id, format: query.data.format, logger });
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
