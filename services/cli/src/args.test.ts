import { describe, expect, it } from "vitest";
import { intOption, listOption, oneOf, parseCommandArgs, parseOptions, splitCommand } from "./args.js";
import type { Command } from "./command.js";
import { UsageError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";

describe("splitCommand", () => {
  it.each([
    [["list"], "list", []],
    [["list", "--json"], "list", ["--json"]],
    [["--gateway", "http://g:1", "list", "--json"], "list", ["--gateway", "http://g:1", "--json"]],
    [["--gateway=http://g:1", "get", "x"], "get", ["--gateway=http://g:1", "x"]],
    [["--help"], undefined, ["--help"]],
    [[], undefined, []],
    [["--", "list"], undefined, ["--", "list"]],
  ])("%j → command %s", (argv, command, rest) => {
    expect(splitCommand(argv)).toEqual({ command, rest });
  });
});

const command: Command = {
  name: "demo",
  summary: "a demo",
  usage: ["demo <id>"],
  options: { json: { type: "boolean", help: "" }, status: { type: "string", multiple: true, help: "" }, limit: { type: "string", help: "" } },
  positionals: { min: 1, max: 1, name: "<id>" },
  run: async () => ExitCode.OK,
};

describe("parseCommandArgs", () => {
  it("parses the command's options and the global ones", () => {
    const { values, positionals } = parseCommandArgs(command, ["x", "--json", "--status", "a", "--status=b", "--gateway", "http://g"]);
    expect(positionals).toEqual(["x"]);
    expect(values).toMatchObject({ json: true, status: ["a", "b"], gateway: "http://g" });
  });

  it.each([
    [[], "demo: missing <id>"],
    [["x", "y"], "demo: unexpected argument: y"],
    [["x", "--nope"], "Unknown option '--nope'"],
    [["x", "--limit"], "Option '--limit <value>' argument missing"],
    [["x", "--json=yes"], "--json"],
  ])("%j is a usage error: %s", (argv, message) => {
    expect(() => parseCommandArgs(command, argv)).toThrow(UsageError);
    expect(() => parseCommandArgs(command, argv)).toThrow(message);
  });

  it("lets --help through without the positionals", () => {
    expect(parseCommandArgs(command, ["--help"]).values.help).toBe(true);
  });

  it("keeps parseArgs's hint about positionals that start with a dash out of the message", () => {
    expect(() => parseOptions(["-z"], {})).toThrow(/^Unknown option '-z'$/);
  });
});

describe("option readers", () => {
  it.each([
    ["3", 3],
    ["0", 0],
    [" 12 ", 12],
  ])("intOption reads %j as %s", (text, value) => {
    expect(intOption({ n: text }, "n", { min: 0 })).toBe(value);
  });

  it.each(["x", "1.5", "-1", "1e3", "", "99999999999"])("intOption refuses %j, naming the option", (text) => {
    expect(() => intOption({ n: text }, "n", { min: 0, max: 1000 })).toThrow("--n must be an integer from 0 to 1000");
  });

  it("intOption is undefined when the option is absent", () => {
    expect(intOption({}, "n", { min: 0 })).toBeUndefined();
  });

  it("listOption takes repeats and commas", () => {
    expect(listOption({ s: ["a,b", "c"] }, "s")).toEqual(["a", "b", "c"]);
    expect(listOption({}, "s")).toBeUndefined();
    expect(() => listOption({ s: ["a,,b"] }, "s")).toThrow("--s has an empty value");
  });

  it("oneOf names the option and the allowed values", () => {
    expect(oneOf(["web"], ["web", "twitter"], "platform")).toEqual(["web"]);
    expect(() => oneOf(["myspace"], ["web", "twitter"], "platform")).toThrow('--platform must be one of web, twitter; got "myspace"');
  });
});
