/** `trawl scan <path>`: starts a directory scan on the scraper's machine and follows it unless --detach. */
import { flag, intOption } from "../args.js";
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { write, writeJson } from "../output.js";
import { watchJob } from "../watch-job.js";
import { FOLLOW_OPTIONS } from "./start.js";

export const scanCommand: Command = {
  name: "scan",
  summary: "start a directory scan and follow it to the end",
  usage: ["scan <path> [--no-recursive] [--max-files N] [--detach] [--json]"],
  description: "Scans a directory on the scraper's machine (inside its SCAN_ROOTS); the path is sent as given.",
  options: {
    "no-recursive": { type: "boolean", help: "list only the directory itself, not its subdirectories" },
    "max-files": { type: "string", value: "N", help: "stop after N files" },
    ...FOLLOW_OPTIONS,
  },
  positionals: { min: 1, max: 1, name: "<path>" },
  async run({ positionals, values }, context) {
    const path = positionals[0] as string;
    const maxFiles = intOption(values, "max-files", { min: 1 });
    const json = flag(values, "json");
    // No abort signal: once asked for, the job starts, and Ctrl-C only stops following it, with its id printed.
    const started = await context.api.jobs.scan.mutate({ path, recursive: !flag(values, "no-recursive"), ...(maxFiles === undefined ? {} : { max_files: maxFiles }) });
    if (flag(values, "detach")) {
      if (json) await writeJson(context.stdout, started);
      else {
        await write(context.stdout, `${started.job_id}\n`);
        await write(context.stderr, `Started scan ${started.job_id}. Follow it with: trawl watch ${started.job_id}\n`);
      }
      return ExitCode.OK;
    }
    await write(context.stderr, `Started scan ${started.job_id} (Ctrl-C stops following; the job keeps running)\n`);
    return watchJob(started.job_id, context, { json });
  },
};
