/** What every `trawl` subcommand is: its help, its options and a run function returning an exit code. */
import type { Api } from "./client.js";
import type { ExitCode } from "./exit-codes.js";
import type { OptionValues } from "./args.js";

/** stdout or stderr: what the commands need of them, so tests can pass in-memory streams. */
export interface OutputStream {
  write(text: string): boolean;
  once(event: "drain" | "close" | "error", listener: () => void): unknown;
  removeListener(event: "drain" | "close" | "error", listener: () => void): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CommandContext {
  readonly api: Api;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Aborted by Ctrl-C. */
  readonly signal: AbortSignal;
  readonly now: () => number;
}

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's placeholder in help: N, URL, FORMAT… */
  readonly value?: string;
  readonly help: string;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly values: OptionValues;
}

export interface Command {
  readonly name: string;
  /** One line, for `trawl --help`. */
  readonly summary: string;
  /** Usage lines after "trawl", e.g. "start <url> [<url>...] [options]". */
  readonly usage: readonly string[];
  /** More explanation for `trawl <command> --help`. */
  readonly description?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Fewest and most positional arguments. */
  readonly positionals: { readonly min: number; readonly max: number; readonly name: string };
  run(args: ParsedArgs, context: CommandContext): Promise<ExitCode>;
}
