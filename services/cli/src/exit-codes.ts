/**
 * The `trawl` command's exit codes, in one place so `--help`, the commands
 * and the tests agree. Scripts branch on these: 1 means "the job or the
 * server said no", 2 "you typed it wrong", 3 "nothing answered".
 */
export const ExitCode = {
  /** Done; for a followed job: it completed. */
  OK: 0,
  /** A followed job failed or was cancelled, or the gateway refused the request. */
  FAILED: 1,
  /** Bad command line: unknown command or option, missing or malformed value. */
  USAGE: 2,
  /** The gateway could not be reached (or what answered is not a Trawl gateway). */
  UNREACHABLE: 3,
  /** Interrupted with Ctrl-C (128 + SIGINT); a followed job keeps running. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit codes as `--help` lists them. */
export const EXIT_CODES_HELP = `Exit codes:
  0    success; a followed job completed
  1    a followed job failed or was cancelled; the gateway refused the request
  2    usage error (unknown command or option, bad value)
  3    gateway unreachable
  130  interrupted (Ctrl-C); a followed job keeps running`;
