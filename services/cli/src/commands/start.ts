/** `trawl start <url>...`: starts a crawl (several URLs make one batch job) and follows it unless --detach. */
import { PLATFORM_NAMES } from "@trawl/proto";
import { flag, intOption, oneOf, stringOption } from "../args.js";
import type { Command } from "../command.js";
import { UsageError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { write, writeJson } from "../output.js";
import { watchJob } from "../watch-job.js";

const PLATFORMS = ["auto", ...PLATFORM_NAMES] as const;

/** An absolute http(s) URL, or a usage error naming the argument. */
export function checkUrl(text: string): string {
  if (!URL.canParse(text)) throw new UsageError(`not a URL: "${text}" (give absolute http:// or https:// URLs)`);
  const { protocol } = new URL(text);
  if (protocol !== "http:" && protocol !== "https:") throw new UsageError(`not an http(s) URL: "${text}"`);
  return text;
}

export const FOLLOW_OPTIONS = {
  detach: { type: "boolean", short: "d", help: "print the job id and return at once instead of following the job" },
  json: { type: "boolean", help: "print JSON: the start response with --detach, else the job's final state" },
} as const;

export const startCommand: Command = {
  name: "start",
  summary: "start a crawl and follow it to the end",
  usage: ["start <url> [<url>...] [--depth N] [--max-pages N] [--platform P] [--detach] [--json]"],
  description:
    "Starts a crawl of the given URLs (several URLs make one batch job) and shows its progress on stderr until it ends, " +
    "then prints a summary. Ctrl-C stops following; the job keeps running.",
  options: {
    depth: { type: "string", value: "N", help: "link depth to follow from the start URLs (default 1)" },
    "max-pages": { type: "string", value: "N", help: "stop after N pages (default: the scraper's limit)" },
    platform: { type: "string", value: "P", help: `${PLATFORMS.join("|")} (default auto: detected from the URL)` },
    ...FOLLOW_OPTIONS,
  },
  positionals: { min: 1, max: 1000, name: "<url>" },
  async run({ positionals, values }, context) {
    const urls = positionals.map(checkUrl);
    const depth = intOption(values, "depth", { min: 0 });
    const maxPages = intOption(values, "max-pages", { min: 1 });
    const platformText = stringOption(values, "platform");
    const [platform] = oneOf(platformText === undefined ? undefined : [platformText], PLATFORMS, "platform") ?? ["auto"];
    const json = flag(values, "json");
    // No abort signal: once asked for, the job starts, and Ctrl-C only stops following it, with its id printed.
    const started = await context.api.jobs.start.mutate({
      ...(urls.length === 1 ? { url: urls[0] } : { urls }),
      ...(platform === undefined || platform === "auto" ? {} : { platform }),
      ...(depth === undefined ? {} : { depth }),
      ...(maxPages === undefined ? {} : { max_pages: maxPages }),
    });
    if (flag(values, "detach")) {
      if (json) await writeJson(context.stdout, started);
      else {
        await write(context.stdout, `${started.job_id}\n`);
        await write(context.stderr, `Started job ${started.job_id}. Follow it with: trawl watch ${started.job_id}\n`);
      }
      return ExitCode.OK;
    }
    await write(context.stderr, `Started job ${started.job_id} (Ctrl-C stops following; the job keeps running)\n`);
    return watchJob(started.job_id, context, { json });
  },
};
