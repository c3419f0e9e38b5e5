/** `trawl cancel <id>`: stops a job for good; what it scraped so far stays exportable. */
import { stringOption } from "../args.js";
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { write } from "../output.js";

export const cancelCommand: Command = {
  name: "cancel",
  summary: "cancel a job",
  usage: ["cancel <id> [--reason TEXT]"],
  options: {
    reason: { type: "string", value: "TEXT", help: "why, recorded as the job's error" },
  },
  positionals: { min: 1, max: 1, name: "<id>" },
  async run({ positionals, values }, context) {
    const reason = stringOption(values, "reason");
    const job = await context.api.jobs.cancel.mutate({ id: positionals[0] as string, ...(reason === undefined ? {} : { reason }) }, { signal: context.signal });
    await write(context.stdout, `Job ${job.job_id} is ${job.status} (${job.counters.pages_done} pages done).\n`);
    return ExitCode.OK;
  },
};
