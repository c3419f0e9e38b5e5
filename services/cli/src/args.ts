/**
 * Command-line parsing with node:util parseArgs: finding the subcommand
 * among global options, then parsing its own options strictly. Every
 * mistake becomes a UsageError naming the option or argument at fault.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.js";
import type { Command, OptionSpec } from "./command.js";

export type OptionValues = Readonly<Record<string, string | boolean | ReadonlyArray<string | boolean> | undefined>>;

/** Options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  gateway: { type: "string", value: "URL", help: "gateway base URL (default: $TRAWL_GATEWAY, else http://127.0.0.1:8000)" },
  help: { type: "boolean", short: "h", help: "show help" },
};

export interface CommandLine {
  /** The subcommand's name, if one was given. */
  readonly command: string | undefined;
  /** The arguments without the subcommand's name. */
  readonly rest: readonly string[];
}

/** Options of GLOBAL_OPTIONS that take a value, so their value is not mistaken for the command. */
const VALUE_FLAGS = new Set(["--gateway"]);

/** Splits off the subcommand: the first argument that is neither an option nor a global option's value. */
export function splitCommand(argv: readonly string[]): CommandLine {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") break;
    if (VALUE_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") continue;
    return { command: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: undefined, rest: argv };
}

/** parseArgs's own messages, reworded for a user ("Unknown option '--x'" and friends). */
function usageMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- .*$/, "");
}

/** Parses `argv` (without the command name) against `options`, strictly. */
export function parseOptions(argv: readonly string[], options: Readonly<Record<string, OptionSpec>>): { values: OptionValues; positionals: string[] } {
  const config = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [name, { type: spec.type, ...(spec.short === undefined ? {} : { short: spec.short }), ...(spec.multiple === true ? { multiple: true } : {}) }]),
  );
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true });
    return { values: values as OptionValues, positionals };
  } catch (error) {
    throw new UsageError(usageMessage(error));
  }
}

/** Parses a command's arguments and checks how many positionals it got. */
export function parseCommandArgs(command: Command, argv: readonly string[]): { values: OptionValues; positionals: string[] } {
  const parsed = parseOptions(argv, { ...GLOBAL_OPTIONS, ...command.options });
  if (parsed.values.help === true) return parsed;
  const { min, max, name } = command.positionals;
  if (parsed.positionals.length < min) throw new UsageError(`${command.name}: missing ${name}`);
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals.slice(max).join(" ");
    throw new UsageError(max === 0 ? `${command.name} takes no arguments, got: ${extra}` : `${command.name}: unexpected argument: ${extra}`);
  }
  return parsed;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/** An integer option within bounds; `--max-pages 0` is an error that names the option. */
export function intOption(values: OptionValues, name: string, bounds: { min: number; max?: number }): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const max = bounds.max ?? 4_294_967_295;
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < bounds.min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${bounds.min} to ${max}, got "${text}"`);
  }
  return value;
}

/** A repeatable option whose values may also be comma-separated: `--status running,paused --status failed`. */
export function listOption(values: OptionValues, name: string): string[] | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const items = (Array.isArray(raw) ? raw : [raw]).flatMap((value) => String(value).split(",")).map((value) => value.trim());
  if (items.some((item) => item === "")) throw new UsageError(`--${name} has an empty value`);
  return items;
}

/** Checks every value of a list option against the allowed ones. */
export function oneOf<T extends string>(items: readonly string[] | undefined, allowed: readonly T[], name: string): T[] | undefined {
  if (items === undefined) return undefined;
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}; got "${item}"`);
  }
  return items as T[];
}
