/**
 * Fetches one page with undici: manual redirect following (so every hop is
 * seen and counted), a per-page timeout, the body size limit enforced while
 * the body streams, the HTML content-type check, and failures classified
 * into the contract's PageErrorKind. The body is handed to a sink chunk by
 * chunk as it arrives, so parsing overlaps the download.
 */
import { TextDecoder } from "node:util";
import { PageErrorKind } from "@trawl/proto";
import type { Dispatcher } from "undici";
import { request } from "undici";
import { normalizeUrl } from "./normalize-url.js";

/** Redirects followed before a page fails with TOO_MANY_REDIRECTS. */
export const MAX_REDIRECTS = 5;

const HTML_TYPES = new Set(["text/html", "application/xhtml+xml"]);

export interface FetchOptions {
  dispatcher: Dispatcher;
  userAgent: string;
  /** Wall-clock limit for the whole page: every hop, headers and body. */
  timeoutMs: number;
  maxBodyBytes: number;
  /** The job's signal: aborting it aborts the fetch, which then reports `aborted`. */
  signal: AbortSignal;
}

/** Receives the decoded body of an HTML response as it streams. */
export interface BodySink<T> {
  /** Called once, before the first chunk, with the URL the body comes from. */
  start(finalUrl: string): void;
  write(chunk: string): void;
  end(): T;
}

export type FetchOutcome<T> =
  | { kind: "ok"; status: number; finalUrl: string; redirects: string[]; bytes: number; result: T }
  | { kind: "error"; errorKind: PageErrorKind; status: number; message: string; finalUrl: string; redirects: string[]; bytes: number }
  | { kind: "aborted" };

class PageTimeout extends Error {
  override name = "PageTimeout";
}
class JobAborted extends Error {
  override name = "JobAborted";
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/** The PageErrorKind and message of an error thrown by undici or the socket. */
export function classifyError(err: unknown): { errorKind: PageErrorKind; message: string } {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return { errorKind: PageErrorKind.TIMEOUT, message };
  return { errorKind: PageErrorKind.NETWORK, message: code !== undefined && !message.includes(code) ? `${code}: ${message}` : message };
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function mediaType(contentType: string | undefined): { type: string; charset: string | undefined } {
  if (contentType === undefined) return { type: "", charset: undefined };
  const [type = "", ...params] = contentType.split(";");
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq !== -1 && param.slice(0, eq).trim().toLowerCase() === "charset") charset = param.slice(eq + 1).trim().replace(/^"|"$/g, "");
  }
  return { type: type.trim().toLowerCase(), charset };
}

function decoderFor(charset: string | undefined): TextDecoder {
  if (charset !== undefined) {
    try {
      return new TextDecoder(charset);
    } catch {
      // An unknown charset label: decode as UTF-8, what browsers fall back to for HTML.
    }
  }
  return new TextDecoder("utf-8");
}

/** Reads and drops a body we do not use so its connection can be reused. */
async function discard(body: Dispatcher.ResponseData["body"]): Promise<void> {
  try {
    await body.dump();
  } catch {
    // The connection is closed instead of reused; the page's outcome is already decided.
  }
}

/** Stops reading a body we refuse; undici reports the destroy as an error we expect and ignore. */
function abandon(body: Dispatcher.ResponseData["body"]): void {
  body.once("error", () => undefined);
  body.destroy();
}

/**
 * Fetches `url` (normalised http(s)) and streams an HTML body into `sink`.
 * Never throws: every failure is an `error` outcome, and an abort of the job
 * signal is `aborted` (the page is then not counted at all).
 */
export async function fetchPage<T>(url: string, options: FetchOptions, sink: BodySink<T>): Promise<FetchOutcome<T>> {
  const { signal } = options;
  if (signal.aborted) return { kind: "aborted" };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new PageTimeout(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
  const onJobAbort = (): void => controller.abort(new JobAborted("job aborted"));
  signal.addEventListener("abort", onJobAbort, { once: true });

  const redirects: string[] = [];
  let current = url;
  let bytes = 0;
  const fail = (errorKind: PageErrorKind, message: string, status = 0): FetchOutcome<T> => ({
    kind: "error",
    errorKind,
    status,
    message,
    finalUrl: current,
    redirects,
    bytes,
  });

  try {
    for (;;) {
      const response = await request(current, {
        dispatcher: options.dispatcher,
        method: "GET",
        headers: { "user-agent": options.userAgent, accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1" },
        signal: controller.signal,
      });
      const { statusCode: status, headers, body } = response;

      if (status >= 300 && status < 400) {
        await discard(body);
        const location = header(headers.location);
        if (location === undefined) return fail(PageErrorKind.HTTP, `HTTP ${status} without a Location header`, status);
        const next = normalizeUrl(location, current);
        if (next === undefined) return fail(PageErrorKind.HTTP, `HTTP ${status} redirect to a non-http(s) URL`, status);
        if (redirects.length >= MAX_REDIRECTS) return fail(PageErrorKind.TOO_MANY_REDIRECTS, `more than ${MAX_REDIRECTS} redirects`, status);
        redirects.push(next);
        current = next;
        continue;
      }
      if (status >= 400 || status < 200) {
        await discard(body);
        return fail(PageErrorKind.HTTP, `HTTP ${status}`, status);
      }

      const { type, charset } = mediaType(header(headers["content-type"]));
      if (!HTML_TYPES.has(type)) {
        await discard(body);
        return fail(PageErrorKind.NOT_HTML, type === "" ? "no content-type" : `content-type ${type} is not HTML`, status);
      }
      const declared = Number(header(headers["content-length"]));
      if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
        abandon(body);
        return fail(PageErrorKind.TOO_LARGE, `body of ${declared} bytes exceeds ${options.maxBodyBytes}`, status);
      }

      const decoder = decoderFor(charset);
      sink.start(current);
      for await (const chunk of body as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > options.maxBodyBytes) {
          abandon(body);
          return fail(PageErrorKind.TOO_LARGE, `body exceeds ${options.maxBodyBytes} bytes`, status);
        }
        sink.write(decoder.decode(chunk, { stream: true }));
      }
      const tail = decoder.decode();
      if (tail !== "") sink.write(tail);
      return { kind: "ok", status, finalUrl: current, redirects, bytes, result: sink.end() };
    }
  } catch (err) {
    const reason: unknown = controller.signal.reason;
    if (reason instanceof JobAborted) return { kind: "aborted" };
    if (reason instanceof PageTimeout) return fail(PageErrorKind.TIMEOUT, reason.message);
    const { errorKind, message } = classifyError(err);
    return fail(errorKind, message);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onJobAbort);
  }
}
