/**
 * `trawl follow [<id>]`: prints job events as they happen, as one-liners or
 * NDJSON (each line the event's protobuf JSON, as `events.watch` sends it).
 * With a job id it ends when the job does; without, on Ctrl-C.
 */
import { PLATFORM_NAMES, type JobEventJson } from "@trawl/proto";
import { flag, listOption, oneOf } from "../args.js";
import type { Api } from "../client.js";
import type { Command, CommandContext, OutputStream } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { eventLine } from "../event-line.js";
import { openEventStream, type EventFilter } from "../event-stream.js";
import { EVENT_KINDS } from "../job-events.js";
import { followJob } from "../job-follower.js";
import type { LinkState } from "../progress-bar.js";
import { exitCodeOf } from "../watch-job.js";

/** Writes one event. Not awaited: events come at the gateway's pace, and a slow reader is buffered for. */
function printer(stdout: OutputStream, json: boolean): (event: JobEventJson) => void {
  return (event) => {
    stdout.write(`${json ? JSON.stringify(event) : eventLine(event)}\n`);
  };
}

/** Tells stderr when the connection drops and when it is back. */
function linkNotices(stderr: OutputStream): (link: LinkState) => void {
  let last: LinkState = "connecting";
  return (link) => {
    if (link === last) return;
    if (link === "reconnecting") stderr.write("Connection to the gateway lost; reconnecting…\n");
    else if (link === "live" && last === "reconnecting") stderr.write("Reconnected; missed events follow.\n");
    last = link;
  };
}

/** Every matching event of every job, until Ctrl-C. */
async function followAll(api: Api, context: CommandContext, filter: EventFilter, json: boolean): Promise<ExitCode> {
  // A query first: an unreachable gateway fails here (exit 3) rather than in an endless reconnect.
  await api.stats.platform.query(undefined, { signal: context.signal });
  const notice = linkNotices(context.stderr);
  let announced = false;
  return new Promise<ExitCode>((resolve, reject) => {
    const stream = openEventStream(api, filter, {
      onStarted: () => {
        if (!announced) context.stderr.write("Following all jobs; Ctrl-C to stop.\n");
        announced = true;
      },
      onEvent: printer(context.stdout, json),
      onLink: notice,
      onError: (error) => finish(() => reject(error)),
    });
    const onAbort = (): void => finish(() => resolve(ExitCode.INTERRUPTED));
    let finished = false;
    function finish(settle: () => void): void {
      if (finished) return;
      finished = true;
      context.signal.removeEventListener("abort", onAbort);
      stream.stop();
      settle();
    }
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** One job's events until it ends: exit 0 if it completed, 1 if it failed or was cancelled. */
async function followOne(jobId: string, context: CommandContext, filter: EventFilter, json: boolean): Promise<ExitCode> {
  const notice = linkNotices(context.stderr);
  let announced = false;
  const { state, done } = followJob({
    api: context.api,
    jobId,
    signal: context.signal,
    now: context.now,
    ...filter,
    onEvent: printer(context.stdout, json),
    onChange: () => notice(state.link),
    onSubscribed: () => {
      if (!announced) context.stderr.write(`Following job ${jobId} until it ends; Ctrl-C to stop.\n`);
      announced = true;
    },
  });
  const result = await done;
  if (result.outcome === "interrupted") return ExitCode.INTERRUPTED;
  if (!announced) context.stderr.write(`Job ${jobId} had already ended: ${result.job.status}.\n`);
  return exitCodeOf(result.job);
}

export const followCommand: Command = {
  name: "follow",
  summary: "print job events as they happen",
  usage: ["follow [<id>] [--types K,K...] [--platform P]... [--json]"],
  description:
    "Prints each event on one line (or as NDJSON with --json). With a job id it stops when that job ends " +
    "(exit code as for start); without, it follows every job until Ctrl-C. A dropped connection is resumed " +
    "without losing or repeating events.",
  options: {
    types: { type: "string", multiple: true, value: "K", help: `only these event kinds: ${EVENT_KINDS.join(", ")}` },
    platform: { type: "string", multiple: true, value: "P", help: `only jobs of these platforms: ${PLATFORM_NAMES.join(", ")}` },
    json: { type: "boolean", help: "print each event as one line of JSON (NDJSON)" },
  },
  positionals: { min: 0, max: 1, name: "<id>" },
  run({ positionals, values }, context) {
    const types = oneOf(listOption(values, "types"), EVENT_KINDS, "types");
    const platforms = oneOf(listOption(values, "platform"), PLATFORM_NAMES, "platform");
    const filter = { ...(types === undefined ? {} : { types }), ...(platforms === undefined ? {} : { platforms }) };
    const json = flag(values, "json");
    const jobId = positionals[0];
    return jobId === undefined ? followAll(context.api, context, filter, json) : followOne(jobId, context, filter, json);
  },
};
