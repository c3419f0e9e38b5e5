/**
 * Fetches one page with undici: manual redirect following (so every hop is
 * seen, counted, checked and scheduled), a per-page timeout, the body size
 * limit enforced while the body streams, the content-type check, and
 * failures classified into the contract's PageErrorKind. The body is handed
 * to a sink chunk by chunk as it arrives, so parsing overlaps the download.
 *
 * Every hop waits at `gate` (the job's host scheduler) before it starts and
 * holds its host until its response is consumed; the timeout only runs
 * while a request is under way, not while it waits at the gate. URLs that
 * are not http(s) or that carry credentials (`user:pass@host`) are refused
 * with INVALID_URL before anything is sent: a crawler has no business
 * sending a password it found in a link. The SSRF guard itself lives in the
 * dispatcher (guarded-agent.ts), which refuses the connection.
 *
 * Bodies may come gzip-, deflate- or brotli-encoded (decode-body.ts); the
 * body limit applies to the decoded text as well as to the bytes on the
 * wire, so a compression bomb fails TOO_LARGE after a few kilobytes of work.
 *
 * A request whose connection closes before its response starts (a reused
 * keep-alive connection the server was closing) is sent again on another
 * connection within the same hop (up to MAX_RESENDS times), as browsers do;
 * failures after the response began are the page's outcome.
 */
import { TextDecoder } from "node:util";
import { PageErrorKind } from "@trawl/proto";
import type { Dispatcher } from "undici";
import { request } from "undici";
import type { Release } from "./host-scheduler.js";
import { ACCEPT_ENCODING, BodyLimitError, ContentDecodingError, decodeBody, parseContentEncoding, type Coding } from "./decode-body.js";
import { MAX_URL_LENGTH, normalizeUrl } from "./normalize-url.js";
import { parseRetryAfter } from "./retry-policy.js";

/** Redirects followed before a page fails with TOO_MANY_REDIRECTS. */
export const MAX_REDIRECTS = 5;

/** The content types a page must have: HTML. */
export const HTML_TYPES: ReadonlySet<string> = new Set(["text/html", "application/xhtml+xml"]);

const HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1";

export interface FetchOptions {
  dispatcher: Dispatcher;
  userAgent: string;
  /** Limit for the whole page — every hop, headers and body — not counting waits at the gate. */
  timeoutMs: number;
  /** Limit of the body, decoded (and of its bytes on the wire when it is compressed). */
  maxBodyBytes: number;
  /** The job's signal: aborting it aborts the fetch, which then reports `aborted`. */
  signal: AbortSignal;
  /**
   * Called before every request (each redirect hop too); the request starts
   * once it resolves and releases when done, passing a 429/503's Retry-After.
   */
  gate?: (url: string) => Promise<Release>;
  /** Accepted content types; undefined accepts any. Default: HTML. */
  contentTypes?: ReadonlySet<string> | undefined;
  /** A body over the limit is cut there instead of failing TOO_LARGE (robots.txt). */
  truncate?: boolean;
  /** The Accept header. */
  accept?: string;
}

/** Receives the decoded body of an accepted response as it streams. */
export interface BodySink<T> {
  /** Called before the first chunk with the URL the body comes from; again if the page is fetched again. */
  start(finalUrl: string): void;
  write(chunk: string): void;
  end(): T;
}

interface Measured {
  finalUrl: string;
  redirects: string[];
  /** Body bytes received, as sent (compressed bytes for an encoded body). */
  bytes: number;
  /** Time spent on requests (waits at the gate excluded). */
  elapsedMs: number;
}

export type FetchOutcome<T> =
  | ({ kind: "ok"; status: number; result: T } & Measured)
  | ({ kind: "error"; errorKind: PageErrorKind; status: number; message: string; retryAfterMs?: number } & Measured)
  | { kind: "aborted" };

export type FetchError = Extract<FetchOutcome<unknown>, { kind: "error" }>;

class PageTimeout extends Error {
  override name = "PageTimeout";
}
class JobAborted extends Error {
  override name = "JobAborted";
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_NODATA", "EAI_FAIL", "ENODATA"]);
const BLOCKED_CODE = "ERR_TRAWL_BLOCKED_ADDRESS";

/** The PageErrorKind and message of an error thrown by undici, the resolver, the guard or the socket. */
export function classifyError(err: unknown): { errorKind: PageErrorKind; message: string } {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === BLOCKED_CODE) return { errorKind: PageErrorKind.BLOCKED_ADDRESS, message };
  const labelled = code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
  if (code !== undefined && TIMEOUT_CODES.has(code)) return { errorKind: PageErrorKind.TIMEOUT, message };
  if (code !== undefined && DNS_CODES.has(code)) return { errorKind: PageErrorKind.DNS, message: labelled };
  return { errorKind: PageErrorKind.NETWORK, message: labelled };
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** Times a hop's request is sent again after its connection closed before the response began. */
export const MAX_RESENDS = 2;

/** Errors of a connection that closed before its response began: what a request sent on a stale keep-alive socket gets. */
const CLOSED_CONNECTION_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

function isClosedConnection(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && CLOSED_CONNECTION_CODES.has(code);
}

/** Why the crawler will not request `url`, or undefined when it may. */
export function refuseUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "not a valid URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return `${parsed.protocol.slice(0, -1)} URLs are not fetched`;
  if (parsed.username !== "" || parsed.password !== "") return "URLs with credentials are refused";
  if (parsed.href.length > MAX_URL_LENGTH) return `URL of ${parsed.href.length} characters is longer than ${MAX_URL_LENGTH}`;
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
 * The page's time budget: runs only while armed (a request under way), and
 * aborts `controller` with a PageTimeout once spent.
 *
 * The abort waits for the poll phase of the event loop that ran the expiry:
 * when the crawler's own process was busy (a long parse, a GC pause, a slow
 * synchronous write) past the deadline, Node runs timers before it reads the
 * sockets, so a response that had already arrived would otherwise be
 * thrown away as a server timeout.
 */
class Budget {
  private remaining: number;
  private armedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private expiring: NodeJS.Immediate | undefined;
  elapsed = 0;

  constructor(
    private readonly limitMs: number,
    private readonly controller: AbortController,
  ) {
    this.remaining = limitMs;
  }

  private get armed(): boolean {
    return this.timer !== undefined || this.expiring !== undefined;
  }

  arm(): void {
    if (this.armed) return;
    this.armedAt = performance.now();
    const abort = (): void => {
      this.expiring = undefined;
      this.controller.abort(new PageTimeout(`timed out after ${this.limitMs} ms`));
    };
    const expire = (): void => {
      this.timer = undefined;
      this.expiring = setImmediate(abort);
    };
    if (this.remaining <= 0) expire();
    else this.timer = setTimeout(expire, this.remaining);
  }

  disarm(): void {
    if (!this.armed) return;
    clearTimeout(this.timer);
    clearImmediate(this.expiring);
    this.timer = undefined;
    this.expiring = undefined;
    const spent = performance.now() - this.armedAt;
    this.remaining -= spent;
    this.elapsed += spent;
  }
}

/**
 * Reads `body` — decoded as `codings` say — into `write`, at most
 * `maxBodyBytes` of it once decoded; `received` is told the size of each
 * chunk as it came off the wire. Over the limit the body fails TOO_LARGE,
 * or with `truncate` ends there; corrupt compressed data fails NETWORK.
 * Resolves undefined once the body is read, else with the failure.
 */
async function streamBody(
  body: Dispatcher.ResponseData["body"],
  codings: readonly Coding[],
  { maxBodyBytes: limit, truncate = false }: FetchOptions,
  received: (bytes: number) => void,
  write: (chunk: Buffer) => void,
): Promise<{ errorKind: PageErrorKind; message: string } | undefined> {
  const coded = codings.length > 0;
  const onWire = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      received(chunk.length);
      yield chunk;
    }
  };
  const source = coded ? decodeBody(onWire(), codings, limit) : (body as AsyncIterable<Buffer>);
  let read = 0;
  try {
    for await (const chunk of source) {
      if (read + chunk.length > limit) {
        abandon(body);
        const head = truncate ? chunk.subarray(0, limit - read) : chunk;
        if (!coded) received(head.length);
        if (!truncate) return { errorKind: PageErrorKind.TOO_LARGE, message: `${coded ? "decoded body" : "body"} exceeds ${limit} bytes` };
        write(head);
        return undefined;
      }
      read += chunk.length;
      if (!coded) received(chunk.length);
      write(chunk);
    }
  } catch (err) {
    if (!(err instanceof BodyLimitError || err instanceof ContentDecodingError)) throw err;
    abandon(body);
    if (err instanceof ContentDecodingError) return { errorKind: PageErrorKind.NETWORK, message: err.message };
    // Truncating (robots.txt): what was decoded before the limit is the body.
    if (!truncate) return { errorKind: PageErrorKind.TOO_LARGE, message: err.message };
  }
  return undefined;
}

/**
 * GETs `url`. A pooled keep-alive connection the server closed while it sat
 * idle fails the next request on it before any response byte; RFC 9110
 * §9.2.2 lets a client send an idempotent request again, as browsers do.
 * The pool may hold more than one such connection (a server closes its idle
 * ones together), hence up to MAX_RESENDS tries.
 */
async function get(url: string, options: FetchOptions, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  for (let resends = 0; ; resends++) {
    try {
      return await request(url, {
        dispatcher: options.dispatcher,
        method: "GET",
        headers: { "user-agent": options.userAgent, accept: options.accept ?? HTML_ACCEPT, "accept-encoding": ACCEPT_ENCODING },
        signal,
      });
    } catch (err) {
      if (signal.aborted || resends >= MAX_RESENDS || !isClosedConnection(err)) throw err;
    }
  }
}

/**
 * Fetches `url` (normalised http(s)) and streams an accepted body into
 * `sink`. Never throws: every failure is an `error` outcome, and an abort of
 * the job signal is `aborted` (the page is then not counted at all).
 */
export async function fetchPage<T>(url: string, options: FetchOptions, sink: BodySink<T>): Promise<FetchOutcome<T>> {
  const { signal } = options;
  if (signal.aborted) return { kind: "aborted" };
  const contentTypes = "contentTypes" in options ? options.contentTypes : HTML_TYPES;
  const controller = new AbortController();
  const budget = new Budget(options.timeoutMs, controller);
  const onJobAbort = (): void => controller.abort(new JobAborted("job aborted"));
  signal.addEventListener("abort", onJobAbort, { once: true });

  const redirects: string[] = [];
  let current = url;
  let bytes = 0;
  let release: Release | undefined;
  const measured = (): Measured => ({ finalUrl: current, redirects, bytes, elapsedMs: Math.round(budget.elapsed) });
  const fail = (errorKind: PageErrorKind, message: string, status = 0, retryAfterMs?: number): FetchOutcome<T> => ({
    kind: "error",
    errorKind,
    status,
    message,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...measured(),
  });
  const finishHop = (holdOffMs?: number): void => {
    budget.disarm();
    release?.(holdOffMs);
    release = undefined;
  };

  try {
    for (;;) {
      const refusal = refuseUrl(current);
      if (refusal !== undefined) return fail(PageErrorKind.INVALID_URL, refusal);
      if (options.gate !== undefined) release = await options.gate(current);
      if (signal.aborted) return { kind: "aborted" };
      budget.arm();
      const { statusCode: status, headers, body } = await get(current, options, controller.signal);

      if (status >= 300 && status < 400) {
        await discard(body);
        finishHop();
        const location = header(headers.location);
        if (location === undefined) return fail(PageErrorKind.HTTP, `HTTP ${status} without a Location header`, status);
        const next = normalizeUrl(location, current);
        if (next === undefined) {
          const resolved = URL.canParse(location, current) ? new URL(location, current).href : location;
          const why = resolved.length > MAX_URL_LENGTH ? `longer than ${MAX_URL_LENGTH} characters` : "that is not http(s)";
          return fail(PageErrorKind.INVALID_URL, `HTTP ${status} redirect to a URL ${why}`, status);
        }
        if (redirects.length >= MAX_REDIRECTS) return fail(PageErrorKind.TOO_MANY_REDIRECTS, `more than ${MAX_REDIRECTS} redirects`, status);
        redirects.push(next);
        current = next;
        continue;
      }
      if (status >= 400 || status < 200) {
        await discard(body);
        const retryAfterMs = parseRetryAfter(header(headers["retry-after"]));
        // A host that says when to come back is left alone until then, by every request of the job.
        finishHop(status === 429 || status === 503 ? retryAfterMs : undefined);
        return fail(PageErrorKind.HTTP, `HTTP ${status}`, status, retryAfterMs);
      }

      const { type, charset } = mediaType(header(headers["content-type"]));
      if (contentTypes !== undefined && !contentTypes.has(type)) {
        await discard(body);
        finishHop();
        return fail(PageErrorKind.NOT_HTML, type === "" ? "no content-type" : `content-type ${type} is not HTML`, status);
      }
      const declared = Number(header(headers["content-length"]));
      if (!options.truncate && Number.isFinite(declared) && declared > options.maxBodyBytes) {
        abandon(body);
        finishHop();
        return fail(PageErrorKind.TOO_LARGE, `body of ${declared} bytes exceeds ${options.maxBodyBytes}`, status);
      }

      const encoding = parseContentEncoding(header(headers["content-encoding"]));
      if ("refusal" in encoding) {
        abandon(body);
        finishHop();
        return fail(PageErrorKind.NOT_HTML, encoding.refusal, status);
      }
      const decoder = decoderFor(charset);
      sink.start(current);
      const read = await streamBody(body, encoding.codings, options, (n) => (bytes += n), (chunk) => sink.write(decoder.decode(chunk, { stream: true })));
      if (read !== undefined) {
        finishHop();
        return fail(read.errorKind, read.message, status);
      }
      const tail = decoder.decode();
      if (tail !== "") sink.write(tail);
      const result = sink.end();
      finishHop();
      return { kind: "ok", status, result, ...measured() };
    }
  } catch (err) {
    finishHop();
    const reason: unknown = controller.signal.reason;
    if (reason instanceof JobAborted || signal.aborted) return { kind: "aborted" };
    if (reason instanceof PageTimeout) return fail(PageErrorKind.TIMEOUT, reason.message);
    const { errorKind, message } = classifyError(err);
    return fail(errorKind, message);
  } finally {
    finishHop();
    signal.removeEventListener("abort", onJobAbort);
  }
}
