import { describe, expect, it } from "vitest";
import { runCli, version } from "./cli.js";
import type { Api } from "./client.js";
import type { OutputStream } from "./command.js";
import { ExitCode } from "./exit-codes.js";
import { jobJson } from "./test-support/jobs.js";

class Capture implements OutputStream {
  text = "";
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  once(): this {
    return this;
  }
  removeListener(): this {
    return this;
  }
}

interface Run {
  code: ExitCode;
  stdout: string;
  stderr: string;
  gateway: URL | undefined;
  calls: Array<[string, unknown]>;
}

/** Runs the CLI with a fake API whose procedures answer from `answers` and record their input. */
async function run(argv: string[], options: { env?: Record<string, string>; answers?: Record<string, (input: unknown) => unknown> } = {}): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture();
  const calls: Array<[string, unknown]> = [];
  let gateway: URL | undefined;
  const procedure = (path: string) => async (input: unknown) => {
    calls.push([path, input]);
    const answer = options.answers?.[path];
    if (answer === undefined) throw new Error(`unexpected call ${path}`);
    return answer(input);
  };
  const api = {
    jobs: {
      get: { query: procedure("jobs.get") },
      list: { query: procedure("jobs.list") },
      items: { query: procedure("jobs.items") },
      pause: { mutate: procedure("jobs.pause") },
      start: { mutate: procedure("jobs.start") },
    },
  } as unknown as Api;
  const code = await runCli(argv, {
    env: options.env ?? {},
    stdout,
    stderr,
    signal: new AbortController().signal,
    now: () => Date.parse("2025-11-22T12:00:00Z"),
    createClient: (url) => {
      gateway = url;
      return { api, close: async () => undefined };
    },
  });
  return { code, stdout: stdout.text, stderr: stderr.text, gateway, calls };
}

describe("help and version", () => {
  it("--help lists every command and the exit codes on stdout", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(ExitCode.OK);
    for (const name of ["start", "scan", "watch", "list", "get", "pause", "resume", "cancel", "follow", "export"]) expect(result.stdout).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    expect(result.stdout).toContain("130  interrupted");
    expect(result.stderr).toBe("");
  });

  it("no command prints the help on stderr and exits 2", async () => {
    const result = await run([]);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("Usage: trawl <command>");
  });

  it.each([[["start", "--help"]], [["help", "start"]], [["start", "-h"]]])("%j shows the command's options", async (argv) => {
    const result = await run(argv);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toMatch(/^Usage: trawl start <url>/);
    expect(result.stdout).toContain("--max-pages N");
    expect(result.stdout).toContain("--gateway URL");
  });

  it("--version prints the package version", async () => {
    expect((await run(["--version"])).stdout).toBe(`trawl ${version()}\n`);
    expect(version()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("gateway address", () => {
  it("comes from --gateway, else TRAWL_GATEWAY, else the default", async () => {
    const answers = { "jobs.get": () => jobJson() };
    expect((await run(["get", "x", "--gateway", "http://flag:1"], { env: { TRAWL_GATEWAY: "http://env:2" }, answers })).gateway?.href).toBe("http://flag:1/");
    expect((await run(["get", "x"], { env: { TRAWL_GATEWAY: "http://env:2" }, answers })).gateway?.href).toBe("http://env:2/");
    expect((await run(["get", "x"], { answers })).gateway?.href).toBe("http://127.0.0.1:8000/");
  });

  it("must be an http(s) URL; the error names where it came from", async () => {
    const fromEnv = await run(["list"], { env: { TRAWL_GATEWAY: "localhost:8000" } });
    expect(fromEnv.code).toBe(ExitCode.USAGE);
    expect(fromEnv.stderr).toContain("TRAWL_GATEWAY must be an http");
    const fromFlag = await run(["list", "--gateway", "ws://g"]);
    expect(fromFlag.stderr).toContain("--gateway must be an http or https URL");
  });
});

describe("commands", () => {
  it("start sends one URL as url, several as a batch, with the options given", async () => {
    const started = { job_id: "j1", status: "started", url: "http://a/", estimated_time_seconds: 1 };
    const one = await run(["start", "http://a/", "--depth", "3", "--max-pages", "50", "--platform", "web", "--detach"], { answers: { "jobs.start": () => started } });
    expect(one.calls).toEqual([["jobs.start", { url: "http://a/", platform: "web", depth: 3, max_pages: 50 }]]);
    expect(one.stdout).toBe("j1\n");
    const batch = await run(["start", "http://a/", "http://b/", "--platform", "auto", "--detach", "--json"], { answers: { "jobs.start": () => started } });
    expect(batch.calls).toEqual([["jobs.start", { urls: ["http://a/", "http://b/"] }]]);
    expect(JSON.parse(batch.stdout)).toEqual(started);
  });

  it("list passes the filters and pages on with the cursor until the limit", async () => {
    const pages = [
      { jobs: [jobJson({ job_id: "a" }), jobJson({ job_id: "b" })], next_cursor: "c1" },
      { jobs: [jobJson({ job_id: "c" })], next_cursor: "c2" },
    ];
    const result = await run(["list", "--status", "running,paused", "--platform", "web", "--since", "2h", "--limit", "3", "--json"], { answers: { "jobs.list": () => pages.shift() } });
    expect(result.code).toBe(ExitCode.OK);
    expect((JSON.parse(result.stdout) as Array<{ job_id: string }>).map((job) => job.job_id)).toEqual(["a", "b", "c"]);
    expect(result.calls).toEqual([
      ["jobs.list", { statuses: ["running", "paused"], platforms: ["web"], limit: 3, createdAfter: "2025-11-22T10:00:00.000Z" }],
      ["jobs.list", { statuses: ["running", "paused"], platforms: ["web"], limit: 1, createdAfter: "2025-11-22T10:00:00.000Z", cursor: "c1" }],
    ]);
  });

  it("list says so on stderr when nothing matches", async () => {
    const result = await run(["list"], { answers: { "jobs.list": () => ({ jobs: [], next_cursor: null }) } });
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("No jobs match.\n");
  });

  it("export pages through jobs.items a thousand at a time and frames the items", async () => {
    const items = [
      { items: [{ id: "1", url: "http://a/1", word_count: 1, links_found: 0, depth: 0 }], next_page_token: "t1" },
      { items: [{ id: "2", url: "http://a/2", word_count: 2, links_found: 0, depth: 1 }], next_page_token: null },
    ];
    const result = await run(["export", "j1"], { answers: { "jobs.get": () => jobJson({ status: "completed" }), "jobs.items": () => items.shift() } });
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe('[\n{"id":"1","url":"http://a/1","word_count":1,"links_found":0,"depth":0},\n{"id":"2","url":"http://a/2","word_count":2,"links_found":0,"depth":1}\n]\n');
    expect(result.calls.slice(1)).toEqual([
      ["jobs.items", { id: "j1", pageSize: 1000 }],
      ["jobs.items", { id: "j1", pageSize: 1000, pageToken: "t1" }],
    ]);
    expect(result.stderr).toBe("Exported 2 items of job j1 as json.\n");
  });

  it("export warns that a running job's export is partial", async () => {
    const result = await run(["export", "j1", "-f", "ndjson"], { answers: { "jobs.get": () => jobJson(), "jobs.items": () => ({ items: [], next_page_token: null }) } });
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("is running; the export holds the items stored so far");
  });

  it("an unexpected failure exits 1 with its message and no stack trace", async () => {
    const result = await run(["pause", "j1"], { answers: { "jobs.pause": () => Promise.reject(new Error("socket hang up")) } });
    expect(result.code).toBe(ExitCode.FAILED);
    expect(result.stderr).toBe("trawl: socket hang up\n");
  });

  it("TRAWL_DEBUG adds the stack trace", async () => {
    const result = await run(["pause", "j1"], { env: { TRAWL_DEBUG: "1" }, answers: { "jobs.pause": () => Promise.reject(new Error("socket hang up")) } });
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});
