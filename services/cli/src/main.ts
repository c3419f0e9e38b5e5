#!/usr/bin/env node
/**
 * The `trawl` executable: runs the command line against the real process.
 * The first Ctrl-C asks the running command to stop (a followed job keeps
 * running); a second one exits at once. A reader that closes stdout early
 * (`trawl follow --json | head`) ends the command quietly.
 */
import { runCli } from "./cli.js";
import { ExitCode } from "./exit-codes.js";

const controller = new AbortController();

process.on("SIGINT", () => {
  if (controller.signal.aborted) process.exit(ExitCode.INTERRUPTED);
  controller.abort(new Error("interrupted"));
});

process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  // Nobody is reading any more: stop, like a process killed by SIGPIPE would.
  process.exitCode = ExitCode.OK;
  controller.abort(error);
});

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
