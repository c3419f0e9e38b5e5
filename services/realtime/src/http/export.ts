/**
 * Streams a scraper's ExportItems answer to an HTTP response. The first
 * chunk is awaited before any header is sent, so a scraper refusal
 * (unknown job, bad format) still leaves as a JSON error; after that the
 * bytes are piped with backpressure, and a client that goes away cancels
 * the gRPC stream.
 */
import { once } from "node:events";
import type { ClientReadableStream } from "@grpc/grpc-js";
import type { ExportItemsResponse } from "@trawl/proto";
import type { Response } from "express";
import type { Logger } from "pino";
import { fromScraperError } from "./errors.js";

const CONTENT_TYPES = {
  json: "application/json; charset=utf-8",
  ndjson: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8",
} as const;

export type ExportFormatName = keyof typeof CONTENT_TYPES;

export async function pipeExport(
  stream: ClientReadableStream<ExportItemsResponse>,
  res: Response,
  options: { jobId: string; format: ExportFormatName; logger: Logger },
): Promise<void> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<ExportItemsResponse>;
  let next: IteratorResult<ExportItemsResponse>;
  try {
    next = await chunks.next();
  } catch (error) {
    throw fromScraperError(error, { field: "id" });
  }
  // attachment() sets Content-Type from the file extension (octet-stream for
  // .ndjson), so the real type is set after it.
  res.status(200).attachment(`trawl-${options.jobId}.${options.format}`).type(CONTENT_TYPES[options.format]);
  res.on("close", () => {
    if (!res.writableFinished) stream.cancel();
  });
  try {
    while (!next.done) {
      if (!res.write(next.value.data)) await Promise.race([once(res, "drain"), once(res, "close")]);
      if (res.destroyed) return;
      next = await chunks.next();
    }
    res.end();
  } catch (error) {
    options.logger.warn({ jobId: options.jobId, err: error }, "export stream failed after it started");
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}
