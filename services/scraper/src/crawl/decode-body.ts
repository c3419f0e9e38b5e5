/**
 * Content-Encoding of response bodies: the crawler asks for gzip, deflate
 * and brotli (a fraction of the bytes on the wire) and decodes them here,
 * as a pull-driven chain of async iterables, so a decoder only runs when the
 * page's parser wants more text and stops as soon as the reader does.
 *
 * A compression bomb (a few kilobytes that inflate to gigabytes) is bounded
 * by what the decoders *produce*, not by Content-Length: every stage's
 * output — the compressed bytes, each intermediate decoding — is limited
 * to the page's body limit, and the reader limits the final text. So no
 * more than a few zlib chunks (16 KB) past the limit are ever decoded.
 */
import { Readable } from "node:stream";
import { constants, createBrotliDecompress, createGunzip, createInflate, createInflateRaw, type BrotliOptions, type ZlibOptions } from "node:zlib";

/** The Accept-Encoding the crawler sends: what {@link decodeBody} can decode (zstd needs Node 22.15+). */
export const ACCEPT_ENCODING = "gzip, deflate, br";

/** Most content codings one response may stack ("gzip, br"): more is refused, as it only multiplies a bomb. */
export const MAX_ENCODINGS = 2;

/** A content coding the crawler decodes. */
export type Coding = "gzip" | "deflate" | "br";

const CODINGS: Readonly<Record<string, Coding>> = { gzip: "gzip", "x-gzip": "gzip", deflate: "deflate", br: "br" };

/** A stage of a body produced more than the body limit; fetch-page reports it as TOO_LARGE. */
export class BodyLimitError extends Error {
  readonly code = "ERR_TRAWL_BODY_LIMIT";
  override name = "BodyLimitError";
}

/** A body whose compressed data is corrupt; classified as a NETWORK failure (a broken transfer). */
export class ContentDecodingError extends Error {
  readonly code = "ERR_TRAWL_CONTENT_DECODING";
  override name = "ContentDecodingError";
}

/**
 * The codings of a Content-Encoding header, in the order to undo them
 * (the last applied first), or the reason the body cannot be read.
 * `identity` and empty entries are no coding at all.
 */
export function parseContentEncoding(header: string | undefined): { codings: Coding[] } | { refusal: string } {
  if (header === undefined) return { codings: [] };
  const codings: Coding[] = [];
  for (const raw of header.split(",")) {
    const name = raw.trim().toLowerCase();
    if (name === "" || name === "identity") continue;
    const coding = CODINGS[name];
    if (coding === undefined) return { refusal: `content-encoding ${name.slice(0, 40)} is not supported (only ${ACCEPT_ENCODING})` };
    codings.push(coding);
  }
  if (codings.length > MAX_ENCODINGS) return { refusal: `more than ${MAX_ENCODINGS} content-encodings (${codings.length})` };
  return { codings: codings.reverse() };
}

// A truncated stream yields what it decoded instead of failing, as browsers do.
const ZLIB: ZlibOptions = { finishFlush: constants.Z_SYNC_FLUSH };
const BROTLI: BrotliOptions = { finishFlush: constants.BROTLI_OPERATION_FLUSH };

/** Fails once `source` has yielded more than `limit` bytes; `what` names the stage in the message. */
async function* limited(source: AsyncIterable<Buffer>, limit: number, what: string): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > limit) throw new BodyLimitError(`${what} exceeds ${limit} bytes`);
    yield chunk;
  }
}

/** Runs `source` through one zlib decoder, pulling input only as output is read. */
async function* through(source: AsyncIterable<Buffer>, decoder: NodeJS.ReadWriteStream & Readable, coding: Coding): AsyncGenerator<Buffer> {
  const input = Readable.from(source, { objectMode: false });
  // An error of the input (a limit, an abort, a reset connection) passes through unchanged.
  let inputError: unknown;
  input.once("error", (err) => {
    inputError = err;
    decoder.destroy(err);
  });
  input.pipe(decoder);
  try {
    for await (const chunk of decoder as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if (inputError !== undefined) throw inputError;
    const message = err instanceof Error ? err.message : String(err);
    throw new ContentDecodingError(`content-encoding ${coding}: ${message}`, { cause: err });
  } finally {
    input.destroy();
    decoder.destroy();
  }
}

/** HTTP "deflate" is meant to be zlib-wrapped, but some servers send raw deflate: look at the first two bytes. */
async function* inflate(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) return;
  const head = first.value;
  const [cmf = 0, flg = 0] = head;
  const wrapped = head.length >= 2 && (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  yield* through(rest(), wrapped ? createInflate(ZLIB) : createInflateRaw(ZLIB), "deflate");
}

function decodeOne(source: AsyncIterable<Buffer>, coding: Coding): AsyncIterable<Buffer> {
  switch (coding) {
    case "gzip":
      return through(source, createGunzip(ZLIB), coding);
    case "br":
      return through(source, createBrotliDecompress(BROTLI), coding);
    case "deflate":
      return inflate(source);
  }
}

/**
 * The decoded body: `body` itself when it has no coding, else the chain of
 * decoders. Every stage before the last is limited to `limit` bytes (a
 * {@link BodyLimitError} once over); the caller limits what it reads.
 */
export function decodeBody(body: AsyncIterable<Buffer>, codings: readonly Coding[], limit: number): AsyncIterable<Buffer> {
  let stage = body;
  for (const [i, coding] of codings.entries()) {
    stage = decodeOne(limited(stage, limit, i === 0 ? "compressed body" : "decoded body"), coding);
  }
  return stage;
}
