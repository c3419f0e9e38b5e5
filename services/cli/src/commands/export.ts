/**
 * `trawl export <id>`: a job's items in the REST export's exact bytes,
 * fetched a thousand at a time with `jobs.items` and written as they come,
 * to stdout or a file.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { ITEM_EXPORT_FORMATS, itemExportEncoding, type ItemExportFormat } from "@trawl/proto";
import { flag, oneOf, stringOption } from "../args.js";
import type { Command, OutputStream } from "../command.js";
import { UsageError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { write } from "../output.js";

/** The largest page `jobs.items` serves. */
export const ITEMS_PAGE_SIZE = 1000;

/** Opens `path` for writing; a path that cannot be written fails here, before anything is fetched. */
async function openFile(path: string): Promise<WriteStream> {
  const file = createWriteStream(path);
  await once(file, "open");
  return file;
}

export const exportCommand: Command = {
  name: "export",
  summary: "write a job's items as JSON, NDJSON or CSV",
  usage: ["export <id> [--format json|ndjson|csv] [-o FILE]"],
  description: "The output is byte for byte what GET /api/jobs/<id>/export?format=… returns. The item count goes to stderr.",
  options: {
    format: { type: "string", short: "f", value: "FORMAT", help: `${ITEM_EXPORT_FORMATS.join(", ")} (default json)` },
    output: { type: "string", short: "o", value: "FILE", help: "write to FILE instead of stdout (overwritten)" },
    quiet: { type: "boolean", short: "q", help: "do not print the item count" },
  },
  positionals: { min: 1, max: 1, name: "<id>" },
  async run({ positionals, values }, context) {
    const jobId = positionals[0] as string;
    const formatText = stringOption(values, "format");
    const [format] = (oneOf(formatText === undefined ? undefined : [formatText], ITEM_EXPORT_FORMATS, "format") ?? ["json"]) as [ItemExportFormat];
    const path = stringOption(values, "output");
    if (path === "") throw new UsageError("--output needs a file name");
    const { api, signal } = context;

    // Ask before creating the file, so an unknown job leaves nothing behind.
    const job = await api.jobs.get.query({ id: jobId }, { signal });
    if (job.status === "running" || job.status === "paused" || job.status === "pending") {
      context.stderr.write(`Note: job ${jobId} is ${job.status}; the export holds the items stored so far.\n`);
    }

    const file = path === undefined ? undefined : await openFile(path);
    let failure: Error | undefined;
    file?.on("error", (error) => {
      failure = error;
    });
    const out: OutputStream = file ?? context.stdout;
    const put = async (text: string): Promise<void> => {
      await write(out, text);
      if (failure !== undefined) throw failure;
    };
    const encoding = itemExportEncoding(format);
    let count = 0;
    try {
      await put(encoding.begin);
      let pageToken: string | null = "";
      while (pageToken !== null) {
        const page = await api.jobs.items.query({ id: jobId, pageSize: ITEMS_PAGE_SIZE, ...(pageToken === "" ? {} : { pageToken }) }, { signal });
        let chunk = "";
        for (const item of page.items) chunk += encoding.item(item, count++);
        await put(chunk);
        pageToken = page.next_page_token;
      }
      await put(encoding.end);
    } finally {
      if (file !== undefined) {
        file.end();
        await once(file, "close");
      }
    }
    if (!flag(values, "quiet")) context.stderr.write(`Exported ${count} ${count === 1 ? "item" : "items"} of job ${jobId} as ${format}${path === undefined ? "" : ` to ${path}`}.\n`);
    return ExitCode.OK;
  },
};
