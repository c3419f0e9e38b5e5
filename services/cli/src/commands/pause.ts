/** `trawl pause <id>`: stops a crawl from fetching until it is resumed. */
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { write } from "../output.js";

export const pauseCommand: Command = {
  name: "pause",
  summary: "pause a running crawl",
  usage: ["pause <id>"],
  options: {},
  positionals: { min: 1, max: 1, name: "<id>" },
  async run({ positionals }, context) {
    const job = await context.api.jobs.pause.mutate({ id: positionals[0] as string }, { signal: context.signal });
    await write(context.stdout, `Job ${job.job_id} is ${job.status} (${job.counters.pages_done} pages done).\n`);
    return ExitCode.OK;
  },
};
