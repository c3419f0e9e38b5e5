/** Writing to stdout/stderr (or a file) with backpressure, so a large export never piles up in memory. */
import type { OutputStream } from "./command.js";

/**
 * Writes `text`, waiting for 'drain' when the stream's buffer is full.
 * Resolves early if the stream closes or errors (a reader that went away).
 */
export function write(stream: OutputStream, text: string): Promise<void> {
  if (stream.write(text)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.removeListener("drain", done);
      stream.removeListener("close", done);
      stream.removeListener("error", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
    stream.once("error", done);
  });
}

/** Lines, each ended with "\n". */
export function writeLines(stream: OutputStream, lines: readonly string[]): Promise<void> {
  return write(stream, lines.length === 0 ? "" : `${lines.join("\n")}\n`);
}

/** Pretty JSON for humans who asked for --json; still one JSON document. */
export function writeJson(stream: OutputStream, value: unknown): Promise<void> {
  return write(stream, `${JSON.stringify(value, null, 2)}\n`);
}
