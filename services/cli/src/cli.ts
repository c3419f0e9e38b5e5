/**
 * The whole command line as one function: arguments and environment in,
 * an exit code out, output written to the given streams. `main.ts` wires it
 * to the process (signals, exit code); tests call it directly.
 */
import { readFileSync } from "node:fs";
import { parseCommandArgs, parseOptions, splitCommand, stringOption, GLOBAL_OPTIONS } from "./args.js";
import { createClient, DEFAULT_GATEWAY_URL, parseGatewayUrl, type TrawlClient } from "./client.js";
import type { Command, OutputStream } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { describeError, UsageError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";
import { commandHelp, topHelp, usageReminder } from "./help.js";

export interface CliEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
  readonly now?: () => number;
  /** Replaces the tRPC client (tests). */
  readonly createClient?: (gatewayUrl: URL, token: string | undefined) => TrawlClient;
}

/** The package version, read from package.json next to src/ and dist/. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
  return pkg.version ?? "unknown";
}

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** `trawl`, `trawl --help`, `trawl --version`, `trawl help [<command>]`. */
function runWithoutCommand(argv: readonly string[], io: CliEnvironment): ExitCode {
  const { values, positionals } = parseOptions(argv, { ...GLOBAL_OPTIONS, version: { type: "boolean", help: "" } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals.join(" ")}`);
  if (values.version === true) {
    io.stdout.write(`trawl ${version()}\n`);
    return ExitCode.OK;
  }
  if (values.help === true) {
    io.stdout.write(topHelp(COMMANDS));
    return ExitCode.OK;
  }
  io.stderr.write(topHelp(COMMANDS));
  return ExitCode.USAGE;
}

function runHelp(rest: readonly string[], io: CliEnvironment): ExitCode {
  const { positionals } = parseOptions(rest, GLOBAL_OPTIONS);
  const name = positionals[0];
  if (name === undefined) {
    io.stdout.write(topHelp(COMMANDS));
    return ExitCode.OK;
  }
  const command = findCommand(name);
  if (command === undefined) throw new UsageError(`unknown command "${name}"`);
  io.stdout.write(commandHelp(command));
  return ExitCode.OK;
}

export async function runCli(argv: readonly string[], io: CliEnvironment): Promise<ExitCode> {
  const { command: name, rest } = splitCommand(argv);
  const command = name === undefined ? undefined : findCommand(name);
  let client: TrawlClient | undefined;
  let gatewayUrl = DEFAULT_GATEWAY_URL;
  try {
    if (name === undefined) return runWithoutCommand(rest, io);
    if (name === "help") return runHelp(rest, io);
    if (command === undefined) throw new UsageError(`unknown command "${name}"`);
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help === true) {
      io.stdout.write(commandHelp(command));
      return ExitCode.OK;
    }
    const fromFlag = stringOption(values, "gateway");
    const fromEnv = io.env.TRAWL_GATEWAY === "" ? undefined : io.env.TRAWL_GATEWAY;
    const url = parseGatewayUrl(fromFlag ?? fromEnv ?? DEFAULT_GATEWAY_URL, fromFlag !== undefined ? "--gateway" : fromEnv !== undefined ? "TRAWL_GATEWAY" : "the default gateway URL");
    gatewayUrl = url.toString().replace(/\/$/, "");
    const token = io.env.TRAWL_TOKEN === "" ? undefined : io.env.TRAWL_TOKEN;
    client = (io.createClient ?? ((gateway, apiToken) => createClient({ gatewayUrl: gateway, token: apiToken })))(url, token);
    return await command.run({ values, positionals }, { api: client.api, stdout: io.stdout, stderr: io.stderr, signal: io.signal, now: io.now ?? Date.now });
  } catch (error) {
    if (io.signal.aborted) return ExitCode.INTERRUPTED;
    const described = describeError(error, gatewayUrl);
    io.stderr.write(`trawl: ${described.message}\n`);
    if (described.exitCode === ExitCode.USAGE) io.stderr.write(`${usageReminder(command)}\n`);
    if (io.env.TRAWL_DEBUG !== undefined && error instanceof Error && error.stack !== undefined) io.stderr.write(`${error.stack}\n`);
    return described.exitCode;
  } finally {
    await client?.close();
  }
}
