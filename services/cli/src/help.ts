/** `trawl --help` and `trawl <command> --help`, generated from the commands' own descriptions. */
import { GLOBAL_OPTIONS } from "./args.js";
import type { Command, OptionSpec } from "./command.js";
import { EXIT_CODES_HELP } from "./exit-codes.js";

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const entries = Object.entries(options).map(([name, spec]) => {
    const flags = `${spec.short === undefined ? "    " : `-${spec.short}, `}--${name}${spec.value === undefined ? "" : ` ${spec.value}`}`;
    return [flags, spec.help] as const;
  });
  const width = Math.max(...entries.map(([flags]) => flags.length));
  return entries.map(([flags, help]) => `  ${flags.padEnd(width)}  ${help}`);
}

const VERSION_OPTION: Readonly<Record<string, OptionSpec>> = { version: { type: "boolean", help: "print the version" } };

export function topHelp(commands: readonly Command[]): string {
  const rows = commands.map((command) => [command.usage[0]?.split(" [-")[0] ?? command.name, command.summary] as const);
  const width = Math.max(...rows.map(([usage]) => usage.length));
  return [
    "trawl: start, follow, list and export Trawl jobs from a terminal, through the gateway's tRPC API.",
    "",
    "Usage: trawl <command> [options]",
    "",
    "Commands:",
    ...rows.map(([usage, summary]) => `  ${usage.padEnd(width)}  ${summary}`),
    "",
    "Global options:",
    ...optionLines({ ...GLOBAL_OPTIONS, ...VERSION_OPTION }),
    "",
    'Run "trawl <command> --help" for a command\'s options.',
    "",
    EXIT_CODES_HELP,
    "",
  ].join("\n");
}

export function commandHelp(command: Command): string {
  return [
    ...command.usage.map((usage, i) => `${i === 0 ? "Usage:" : "      "} trawl ${usage}`),
    "",
    command.description ?? `${command.summary[0]?.toUpperCase() ?? ""}${command.summary.slice(1)}.`,
    ...(Object.keys(command.options).length === 0 ? [] : ["", "Options:", ...optionLines(command.options)]),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    EXIT_CODES_HELP,
    "",
  ].join("\n");
}

/** The short reminder printed after a usage error. */
export function usageReminder(command: Command | undefined): string {
  if (command === undefined) return 'Run "trawl --help" for the commands.';
  return `Usage: ${command.usage.map((usage) => `trawl ${usage}`).join("\n       ")}\nRun "trawl ${command.name} --help" for details.`;
}
