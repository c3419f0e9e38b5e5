import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BodyLimitError, ContentDecodingError, decodeBody, MAX_ENCODINGS, parseContentEncoding } from "./decode-body.js";

async function* chunks(...buffers: Buffer[]): AsyncGenerator<Buffer> {
  yield* buffers;
}

async function collect(source: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(chunk);
  return Buffer.concat(parts).toString();
}

describe("parseContentEncoding", () => {
  it.each([
    [undefined, { codings: [] }],
    ["", { codings: [] }],
    ["identity", { codings: [] }],
    ["GZIP", { codings: ["gzip"] }],
    ["x-gzip", { codings: ["gzip"] }],
    // Applied gzip first, then br: undone br first.
    ["gzip, br", { codings: ["br", "gzip"] }],
    [" deflate ,identity,", { codings: ["deflate"] }],
  ])("reads %j", (header, expected) => {
    expect(parseContentEncoding(header)).toEqual(expected);
  });

  it.each([
    ["zstd", /content-encoding zstd is not supported/],
    ["compress", /content-encoding compress is not supported/],
    ["gzip, gzip, gzip", new RegExp(`more than ${MAX_ENCODINGS} content-encodings \\(3\\)`)],
  ])("refuses %j", (header, refusal) => {
    expect(parseContentEncoding(header)).toEqual({ refusal: expect.stringMatching(refusal) });
  });
});

describe("decodeBody", () => {
  it("decodes a gzip body split across chunks", async () => {
    const gz = gzipSync("hello, world");
    expect(await collect(decodeBody(chunks(gz.subarray(0, 5), gz.subarray(5)), ["gzip"], 1_000))).toBe("hello, world");
  });

  it("fails with BodyLimitError when an inner stage produces more than the limit", async () => {
    // 200 empty gzip members (4 KB, decoding to nothing), gzipped again to a few dozen bytes.
    const members = Buffer.concat(Array.from({ length: 200 }, () => gzipSync("")));
    const twice = gzipSync(members);
    expect(twice.length).toBeLessThan(1_000);
    await expect(collect(decodeBody(chunks(twice), ["gzip", "gzip"], 1_000))).rejects.toThrow(BodyLimitError);
    await expect(collect(decodeBody(chunks(twice), ["gzip", "gzip"], 1_000))).rejects.toThrow(/^decoded body exceeds 1000 bytes$/);
  });

  it("fails with BodyLimitError when the compressed bytes alone pass the limit", async () => {
    await expect(collect(decodeBody(chunks(Buffer.alloc(2_000)), ["gzip"], 1_000))).rejects.toThrow(/compressed body exceeds 1000 bytes/);
  });

  it("reports corrupt data as ContentDecodingError, naming the coding", async () => {
    await expect(collect(decodeBody(chunks(Buffer.from("not gzip")), ["gzip"], 1_000))).rejects.toThrow(ContentDecodingError);
    await expect(collect(decodeBody(chunks(Buffer.from("not gzip")), ["gzip"], 1_000))).rejects.toThrow(/^content-encoding gzip: /);
  });

  it("passes an error of the source through unchanged", async () => {
    const failing = async function* (): AsyncGenerator<Buffer> {
      yield gzipSync("x").subarray(0, 4);
      throw new Error("socket reset");
    };
    await expect(collect(decodeBody(failing(), ["gzip"], 1_000))).rejects.toThrow(/^socket reset$/);
  });
});
