/** `trawl get <id>`: one job's state and counters. */
import { flag } from "../args.js";
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { jobDetails } from "../job-text.js";
import { writeJson, writeLines } from "../output.js";

export const getCommand: Command = {
  name: "get",
  summary: "show one job",
  usage: ["get <id> [--json]"],
  options: {
    json: { type: "boolean", help: "print the job as JSON (the REST /api/jobs/:id shape)" },
  },
  positionals: { min: 1, max: 1, name: "<id>" },
  async run({ positionals, values }, context) {
    const job = await context.api.jobs.get.query({ id: positionals[0] as string }, { signal: context.signal });
    if (flag(values, "json")) await writeJson(context.stdout, job);
    else await writeLines(context.stdout, jobDetails(job));
    return ExitCode.OK;
  },
};
