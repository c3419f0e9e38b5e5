/** `trawl resume <id>`: lets a paused crawl fetch again. */
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { write } from "../output.js";

export const resumeCommand: Command = {
  name: "resume",
  summary: "resume a paused crawl",
  usage: ["resume <id>"],
  options: {},
  positionals: { min: 1, max: 1, name: "<id>" },
  async run({ positionals }, context) {
    const job = await context.api.jobs.resume.mutate({ id: positionals[0] as string }, { signal: context.signal });
    await write(context.stdout, `Job ${job.job_id} is ${job.status} (${job.counters.pages_done} pages done).\n`);
    return ExitCode.OK;
  },
};
