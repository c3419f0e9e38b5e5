/** `trawl list`: jobs, newest first, as a table or JSON, filtered by status, platform and age. */
import { JOB_STATUS_NAMES, PLATFORM_NAMES } from "@trawl/proto";
import { flag, intOption, listOption, oneOf, stringOption } from "../args.js";
import type { JobJson } from "../client.js";
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { formatTable, parseSince } from "../format.js";
import { LIST_COLUMNS, listRow } from "../job-text.js";
import { write, writeJson, writeLines } from "../output.js";

/** The gateway's largest page; longer listings follow `next_cursor`. */
const PAGE_LIMIT = 500;
const DEFAULT_LIMIT = 20;

export const listCommand: Command = {
  name: "list",
  summary: "list jobs, newest first",
  usage: ["list [--status S]... [--platform P]... [--since TIME] [--limit N] [--json]"],
  options: {
    status: { type: "string", multiple: true, value: "S", help: `only jobs in these states (repeat or comma-separate): ${JOB_STATUS_NAMES.join(", ")}` },
    platform: { type: "string", multiple: true, value: "P", help: `only jobs of these platforms: ${PLATFORM_NAMES.join(", ")} (web includes scans)` },
    since: { type: "string", value: "TIME", help: "only jobs created since an ISO-8601 time or a duration ago (30m, 1h, 2d)" },
    limit: { type: "string", value: "N", help: `show at most N jobs (default ${DEFAULT_LIMIT})` },
    json: { type: "boolean", help: "print the jobs as a JSON array (the REST /api/jobs/:id shape)" },
  },
  positionals: { min: 0, max: 0, name: "" },
  async run({ values }, context) {
    const statuses = oneOf(listOption(values, "status"), JOB_STATUS_NAMES, "status") ?? [];
    const platforms = oneOf(listOption(values, "platform"), PLATFORM_NAMES, "platform") ?? [];
    const sinceText = stringOption(values, "since");
    const createdAfter = sinceText === undefined ? undefined : parseSince(sinceText, context.now());
    const limit = intOption(values, "limit", { min: 1, max: 100_000 }) ?? DEFAULT_LIMIT;

    const jobs: JobJson[] = [];
    let cursor: string | null = null;
    do {
      const page: { jobs: JobJson[]; next_cursor: string | null } = await context.api.jobs.list.query(
        { statuses, platforms, limit: Math.min(PAGE_LIMIT, limit - jobs.length), ...(createdAfter === undefined ? {} : { createdAfter }), ...(cursor === null ? {} : { cursor }) },
        { signal: context.signal },
      );
      jobs.push(...page.jobs);
      cursor = page.next_cursor;
    } while (cursor !== null && jobs.length < limit);

    if (flag(values, "json")) {
      await writeJson(context.stdout, jobs);
      return ExitCode.OK;
    }
    if (jobs.length === 0) {
      await write(context.stderr, "No jobs match.\n");
      return ExitCode.OK;
    }
    const tty = context.stdout.isTTY === true;
    const shrink = LIST_COLUMNS.length - 1;
    await writeLines(context.stdout, formatTable(LIST_COLUMNS, jobs.map(listRow), tty ? { maxWidth: context.stdout.columns ?? 80, shrink } : {}));
    return ExitCode.OK;
  },
};
