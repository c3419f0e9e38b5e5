/**
 * The scraper's small HTTP listener for operators (METRICS_PORT): `GET
 * /metrics` (Prometheus text exposition), `GET /livez` (the process answers)
 * and `GET /readyz` (200 when ready, else 503 naming what is not). gRPC is
 * HTTP/2-only, so these need a port of their own; it binds to SCRAPER_HOST.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { ReadinessReport } from "./readiness.js";

export interface ObservabilityServerOptions {
  host: string;
  port: number;
  metrics: { exposition(): Promise<{ contentType: string; body: string }> };
  readiness: () => ReadinessReport;
  logger: Logger;
}

export interface ObservabilityServer {
  /** Binds host:port; resolves with the URL actually bound. */
  listen(): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

export function createObservabilityServer(options: ObservabilityServerOptions): ObservabilityServer {
  const { logger } = options;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, "observability request failed");
      if (!res.headersSent) json(res, 500, { error: "internal", message: "internal error" });
      else res.destroy();
    });
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://scraper.invalid").pathname;
    if (path !== "/metrics" && path !== "/livez" && path !== "/readyz") {
      return json(res, 404, { error: "not_found", field: "path", message: `no route for ${req.method ?? "GET"} ${path}` });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD");
      return json(res, 405, { error: "method_not_allowed", message: `${path} answers GET` });
    }
    if (path === "/livez") return json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      const report = options.readiness();
      return json(res, report.ready ? 200 : 503, report.body);
    }
    const { contentType, body } = await options.metrics.exposition();
    res.writeHead(200, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
    res.end(req.method === "HEAD" ? undefined : body);
  };

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port, options.host, () => {
          server.off("error", reject);
          server.on("error", (err) => logger.error({ err }, "observability server error"));
          const { port } = server.address() as AddressInfo;
          const host = options.host.includes(":") ? `[${options.host}]` : options.host;
          resolve({ url: `http://${host}:${port}`, port });
        });
      });
    },
    close() {
      if (!server.listening) return Promise.resolve();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
