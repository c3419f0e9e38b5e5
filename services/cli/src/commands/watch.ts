/** `trawl watch <id>`: follows an existing job with the progress line, as `start` does for a new one. */
import { flag } from "../args.js";
import type { Command } from "../command.js";
import { watchJob } from "../watch-job.js";

export const watchCommand: Command = {
  name: "watch",
  summary: "follow a running job with a progress line until it ends",
  usage: ["watch <id> [--json]"],
  description: "Shows the job's progress on stderr until it ends, then prints a summary (exit code as for start).",
  options: {
    json: { type: "boolean", help: "print the job's final state as JSON instead of the summary" },
  },
  positionals: { min: 1, max: 1, name: "<id>" },
  run({ positionals, values }, context) {
    return watchJob(positionals[0] as string, context, { json: flag(values, "json") });
  },
};
