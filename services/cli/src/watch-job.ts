/**
 * Follows a job to its end with a progress line on stderr, then prints the
 * summary (or, with --json, the job's final JSON) on stdout. Shared by
 * `start`, `scan` and `watch`.
 */
import type { JobJson } from "./client.js";
import type { CommandContext } from "./command.js";
import { ExitCode } from "./exit-codes.js";
import { followJob } from "./job-follower.js";
import { jobSummary } from "./job-text.js";
import { write, writeJson, writeLines } from "./output.js";
import { createProgressReporter, type ProgressReporter } from "./progress-reporter.js";
import type { ProgressView } from "./progress-bar.js";

/** 0 for a completed job, 1 for a failed or cancelled one. */
export function exitCodeOf(job: JobJson): ExitCode {
  return job.status === "completed" ? ExitCode.OK : ExitCode.FAILED;
}

export async function watchJob(jobId: string, context: CommandContext, options: { json: boolean }): Promise<ExitCode> {
  // Created on the first change, which follows the first jobs.get: the view always has a job.
  let reporter: ProgressReporter | undefined;
  const { state, done } = followJob({
    api: context.api,
    jobId,
    signal: context.signal,
    now: context.now,
    onChange: () => {
      reporter ??= createProgressReporter(context.stderr, view, { now: context.now });
      reporter.changed();
    },
  });
  function view(): ProgressView {
    const job = state.job;
    return {
      kind: job.kind,
      status: job.status,
      pagesDone: job.counters.pages_done,
      pagesTotal: job.counters.pages_total,
      successCount: job.counters.success_count,
      errorCount: job.counters.error_count,
      elapsedSeconds: state.elapsedSeconds(),
      link: state.link,
    };
  }
  const result = await done.finally(() => reporter?.stop());
  if (result.outcome === "interrupted") {
    const still = result.job === undefined ? "it keeps running" : `it is still ${result.job.status}`;
    await write(context.stderr, `Stopped following job ${jobId}; ${still}.\n  follow it again: trawl watch ${jobId}\n  cancel it:       trawl cancel ${jobId}\n`);
    return ExitCode.INTERRUPTED;
  }
  if (options.json) await writeJson(context.stdout, result.job);
  else await writeLines(context.stdout, jobSummary(result.job));
  return exitCodeOf(result.job);
}
