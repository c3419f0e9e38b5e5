/**
 * The `trawl` command against the real stack, run as a real process (pipes,
 * so never a TTY): `start` follows a crawl to the end and its summary holds
 * the job's true numbers; a failed job exits 1; list/get find jobs and
 * filter them; `follow --json` prints a job's events in order up to its
 * end; pause/resume/cancel steer a slow crawl; `export` writes exactly the
 * REST export's bytes; mistakes exit 2 naming the problem, an unreachable
 * gateway exits 3; and a follow survives the gateway being killed and
 * restarted on the same port.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { JobEventJson } from "@trawl/proto";
import { afterAll, describe, expect, it } from "vitest";
import { startLargeSite, type LargeSite } from "../fixture/large-site.js";
import { type CliResult, useCli } from "../support/cli.js";
import { getJson, postJson } from "../support/http.js";
import { truthFor } from "../support/jobs.js";
import { startGateway } from "../support/stack.js";
import { useStack } from "../support/suite.js";
import { waitFor } from "../support/wait.js";

const scratch = mkdtempSync(join(tmpdir(), "trawl-cli-"));
const scanRoot = join(scratch, "scan-root");
mkdirSync(join(scanRoot, "docs", "nested"), { recursive: true });

const suite = useStack({ scraperEnv: { SCAN_ROOTS: scanRoot } });
const cli = useCli(() => suite.stack.gateway.url);

let largeSite: LargeSite | undefined;
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await largeSite?.close();
});

interface Counters {
  pages_done: number;
  pages_total: number;
  success_count: number;
  error_count: number;
  items: number;
}
interface RestJob {
  job_id: string;
  status: string;
  error: string | null;
  platform: string;
  counters: Counters;
  last_seq: number;
}

async function restJob(jobId: string): Promise<RestJob> {
  const response = await getJson<RestJob>(`${suite.stack.gateway.url}/api/jobs/${jobId}`);
  expect(response.status, response.text).toBe(200);
  return response.body;
}

async function waitForStatus(jobId: string, statuses: readonly string[]): Promise<RestJob> {
  return waitFor(`job ${jobId} to be ${statuses.join(" or ")}`, async () => {
    const job = await restJob(jobId);
    return statuses.includes(job.status) && job;
  });
}

/** A crawl started over REST, slowed down per request so it lasts long enough to act on mid-way. */
async function startSlowCrawl(extra: Record<string, unknown> = {}): Promise<string> {
  const response = await postJson<{ job_id: string }>(`${suite.stack.gateway.url}/api/scrape`, {
    url: suite.stack.site.url("/"),
    platform: "web",
    depth: 10,
    per_host_concurrency: 1,
    per_host_delay_ms: 100,
    ...extra,
  });
  expect(response.status, response.text).toBe(200);
  return response.body.job_id;
}

async function control(jobId: string, action: "pause" | "resume" | "cancel"): Promise<void> {
  const response = await postJson(`${suite.stack.gateway.url}/api/jobs/${jobId}/${action}`, {});
  expect(response.status, response.text).toBe(200);
}

function expectNoControlCodes(text: string, what: string): void {
  expect(/[\r\x1b]/.test(text), `${what} holds no carriage return or escape code:\n${JSON.stringify(text.slice(0, 500))}`).toBe(false);
}

function expectNoStackTrace(result: CliResult): void {
  expect(result.stderr, "no stack trace").not.toMatch(/\n\s+at /);
}

/** The job id `start` announces on stderr. */
function startedJobId(result: CliResult): string {
  const match = /Started job (\S+)/.exec(result.stderr);
  expect(match, `stderr names the job:\n${result.stderr}`).not.toBeNull();
  return match?.[1] ?? "";
}

function ndjson(text: string): JobEventJson[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as JobEventJson);
}

const kindOf = (event: JobEventJson): string => ["started", "progress", "itemScraped", "pageFailed", "pageSkipped", "taskStarted", "taskFinished", "taskFailed", "paused", "resumed", "completed", "failed", "cancelled"].find((kind) => kind in event) ?? "?";

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

let crawledJobId = "";

describe("start", () => {
  it("follows a crawl to the end; the summary holds the job's counters, which equal the fixture truth", async () => {
    const { site } = suite.stack;
    const plan = { path: "/", depth: 10, platform: "web" as const };
    const truth = truthFor(site, plan);
    const result = await cli.run(["start", site.url("/"), "--depth", "10", "--platform", "web"]);
    expect(result.code, result.stderr).toBe(0);
    expectNoStackTrace(result);
    crawledJobId = startedJobId(result);

    const job = await restJob(crawledJobId);
    expect(job.status).toBe("completed");
    expect(job.counters).toMatchObject({ pages_done: truth.pagesDone, pages_total: truth.pagesTotal, success_count: truth.successCount, error_count: truth.errorCount });
    const c = job.counters;
    expect(result.stdout).toContain(`Job ${crawledJobId} completed in `);
    expect(result.stdout).toContain(`pages  ${c.pages_done} done of ${c.pages_total}, ${c.success_count} ok, ${c.error_count} errors`);
    expect(result.stdout).toContain(`items  ${c.items} (`);

    // Not a terminal: plain progress lines, counts never going back, no control codes.
    expectNoControlCodes(result.stderr, "stderr");
    const progress = result.stderr.split("\n").filter((line) => /^(running|paused|pending|completed): /.test(line));
    expect(progress.length, `progress lines in:\n${result.stderr}`).toBeGreaterThan(0);
    const done = progress.map((line) => Number(/: (\d+)/.exec(line)?.[1]));
    expect(done, "pages done never decreases").toEqual([...done].sort((a, b) => a - b));
    for (const line of progress) expect(line).toMatch(/^\w+: \d+(\/\d+)? pages, \d+ ok, \d+ errors?, [\d.]+ pages\/s, [\dhms. ]+ elapsed/);
  });

  it("--json prints the ended job exactly as GET /api/jobs/:id has it", async () => {
    const result = await cli.run(["start", suite.stack.site.url("/blog/"), "--depth", "1", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as RestJob;
    expect(printed.status).toBe("completed");
    expect(printed).toEqual(await restJob(printed.job_id));
  });

  it("exits 1 and prints the job's error when every start URL fails", async () => {
    const { site } = suite.stack;
    const missing = site.url(site.graph.paths.missing);
    const result = await cli.run(["start", missing, "--depth", "0"]);
    expect(result.code, result.stderr).toBe(1);
    const jobId = startedJobId(result);
    const job = await restJob(jobId);
    expect(job.status).toBe("failed");
    expect(job.error).toContain(missing);
    expect(result.stdout).toContain(`Job ${jobId} failed after `);
    expect(result.stdout).toContain(job.error ?? "?");
    expectNoStackTrace(result);
  });

  it("--detach prints only the job id; the job runs on to completion", async () => {
    const result = await cli.run(["start", suite.stack.site.url("/"), "--depth", "10", "--detach"]);
    expect(result.code, result.stderr).toBe(0);
    const jobId = result.stdout.trim();
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.stderr).toContain(`trawl watch ${jobId}`);
    await waitForStatus(jobId, ["completed"]);
  });
});

describe("scan", () => {
  it("follows a directory scan to the end; --no-recursive and --max-files limit it; a path outside the roots is refused", async () => {
    writeFileSync(join(scanRoot, "docs", "report.pdf"), Buffer.alloc(1000));
    writeFileSync(join(scanRoot, "docs", "notes.txt"), "hello");
    writeFileSync(join(scanRoot, "docs", "nested", "data.csv"), "a,b\n1,2\n");
    const docs = join(scanRoot, "docs");

    const all = await cli.run(["scan", docs]);
    expect(all.code, all.stderr).toBe(0);
    expectNoControlCodes(all.stderr, "stderr");
    expect(all.stdout).toMatch(/^Job \S+ completed in /);
    expect(all.stdout).toContain("files  3 done of 3, 3 ok, 0 errors");
    expect(all.stdout).toContain("size   1.0 kB");

    const flat = await cli.run(["scan", docs, "--no-recursive", "--json"]);
    expect(flat.code, flat.stderr).toBe(0);
    const flatJob = JSON.parse(flat.stdout) as RestJob & { scan: { recursive: boolean }; counters: { files: number } };
    expect(flatJob.scan.recursive).toBe(false);
    expect(flatJob.counters.files).toBe(2);

    const capped = await cli.run(["scan", docs, "--max-files", "1", "--detach", "--json"]);
    expect(capped.code, capped.stderr).toBe(0);
    const cappedJob = await waitForStatus((JSON.parse(capped.stdout) as { job_id: string }).job_id, ["completed"]);
    expect((cappedJob.counters as Counters & { files: number }).files).toBe(1);

    const outside = await cli.run(["scan", "/etc"]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/^trawl: .+ \(field: path\)\n$/);
    expectNoStackTrace(outside);
  });
});

describe("list and get", () => {
  it("list --json holds the crawl; --status, --platform and --since filter it", async () => {
    expect(crawledJobId, "the start test ran first").not.toBe("");
    const ids = async (...args: string[]): Promise<string[]> => {
      const result = await cli.run(["list", "--json", "--limit", "500", ...args]);
      expect(result.code, result.stderr).toBe(0);
      const jobs = JSON.parse(result.stdout) as RestJob[];
      return jobs.map((job) => job.job_id);
    };
    expect(await ids()).toContain(crawledJobId);
    expect(await ids("--status", "completed")).toContain(crawledJobId);
    expect(await ids("--status", "failed,cancelled")).not.toContain(crawledJobId);
    expect(await ids("--status", "running", "--status", "completed")).toContain(crawledJobId);
    expect(await ids("--platform", "web")).toContain(crawledJobId);
    expect(await ids("--platform", "twitter")).not.toContain(crawledJobId);
    expect(await ids("--since", "1h")).toContain(crawledJobId);
    expect(await ids("--since", "2099-01-01T00:00:00Z")).toEqual([]);

    const statuses = JSON.parse((await cli.run(["list", "--json", "--status", "failed"])).stdout) as RestJob[];
    expect(statuses.length, "the failed job of the start tests").toBeGreaterThan(0);
    expect(new Set(statuses.map((job) => job.status))).toEqual(new Set(["failed"]));

    const limited = JSON.parse((await cli.run(["list", "--json", "--limit", "1"])).stdout) as RestJob[];
    expect(limited).toHaveLength(1);
  });

  it("list prints a table with the job's row", async () => {
    const result = await cli.run(["list", "--limit", "500"]);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split("\n");
    expect(header?.split(/\s+/)).toEqual(["ID", "STATUS", "PLATFORM", "PAGES", "ERRORS", "STARTED", "URL"]);
    const job = await restJob(crawledJobId);
    const row = rows.find((line) => line.startsWith(crawledJobId));
    expect(row, result.stdout).toBeDefined();
    expect(row?.split(/\s+/).slice(0, 5)).toEqual([crawledJobId, "completed", "web", `${job.counters.pages_done}/${job.counters.pages_total}`, String(job.counters.error_count)]);
    expect(row).toContain(suite.stack.site.url("/"));
  });

  it("get --json is the REST job; get prints its details", async () => {
    const json = await cli.run(["get", crawledJobId, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await restJob(crawledJobId));

    const human = await cli.run(["get", crawledJobId]);
    expect(human.code, human.stderr).toBe(0);
    const c = (await restJob(crawledJobId)).counters;
    expect(human.stdout).toMatch(new RegExp(`^id\\s+${crawledJobId}$`, "m"));
    expect(human.stdout).toMatch(/^status\s+completed$/m);
    expect(human.stdout).toMatch(new RegExp(`^pages\\s+${c.pages_done} done of ${c.pages_total}, ${c.success_count} ok, ${c.error_count} errors$`, "m"));
  });

  it("get of an unknown job exits 1 with the gateway's message and field", async () => {
    const result = await cli.run(["get", "no-such-job"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Unknown job: no-such-job (field: id)");
    expect(result.stdout).toBe("");
    expectNoStackTrace(result);
  });
});

describe("follow", () => {
  it("--json prints a job's events in seq order, without gaps, up to completed; --types keeps only those kinds", async () => {
    const jobId = await startSlowCrawl({ max_pages: 15 });
    await control(jobId, "pause");
    const all = cli.spawn(["follow", jobId, "--json"]);
    const items = cli.spawn(["follow", jobId, "--json", "--types", "itemScraped"]);
    await all.waitForStderr(/Following job/);
    await items.waitForStderr(/Following job/);
    await control(jobId, "resume");

    const [whole, filtered] = await Promise.all([all.exited, items.exited]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(filtered.code, filtered.stderr).toBe(0);
    const events = ndjson(whole.stdout);
    expect(events.length).toBeGreaterThan(2);
    expect(new Set(events.map((event) => event.jobId))).toEqual(new Set([jobId]));
    const seqs = events.map((event) => Number(event.seq));
    const first = seqs[0] ?? 0;
    expect(seqs, "consecutive seqs").toEqual(seqs.map((_, i) => first + i));
    expect(events.map(kindOf), "the follow began while the job was paused").toContain("resumed");
    expect(kindOf(events.at(-1) as JobEventJson)).toBe("completed");
    const job = await restJob(jobId);
    expect(seqs.at(-1)).toBe(job.last_seq);

    const scraped = ndjson(filtered.stdout);
    expect(new Set(scraped.map(kindOf))).toEqual(new Set(["itemScraped"]));
    expect(scraped).toEqual(events.filter((event) => kindOf(event) === "itemScraped"));
    // Each itemScraped carries the job's success count after it: they run without a gap up to the final count.
    const successCounts = scraped.map((event) => event.itemScraped?.counters?.successCount ?? 0);
    const base = successCounts[0] ?? 0;
    expect(successCounts).toEqual(successCounts.map((_, i) => base + i));
    expect(successCounts.at(-1)).toBe(job.counters.success_count);
  });

  it("prints human one-liners for every job until Ctrl-C, then exits 130", async () => {
    const follower = cli.spawn(["follow", "--types", "started,completed"]);
    await follower.waitForStderr(/Following all jobs/);
    const run = await cli.run(["start", suite.stack.site.url("/docs/"), "--depth", "1", "--detach"]);
    const jobId = run.stdout.trim();
    await waitFor("the follower to print the job's end", () => follower.output().stdout.includes(`${jobId} `) && /completed: /.test(follower.output().stdout));
    follower.interrupt();
    const result = await follower.exited;
    expect(result.code).toBe(130);
    const lines = result.stdout.split("\n").filter((line) => line.includes(jobId));
    expect(lines[0]).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${jobId} #1 started crawl of ${suite.stack.site.url("/docs/")}`));
    expect(lines.at(-1)).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${jobId} #\\d+ completed: \\d+/\\d+ pages, \\d+ ok, \\d+ errors? in `));
    expectNoControlCodes(result.stderr, "stderr");
  });
});

describe("pause, resume, cancel, watch", () => {
  it("steer a slow crawl; Ctrl-C while watching leaves it running", async () => {
    const jobId = await startSlowCrawl();
    await waitFor("a page done", async () => (await restJob(jobId)).counters.pages_done > 0);

    const paused = await cli.run(["pause", jobId]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(new RegExp(`^Job ${jobId} is paused`));
    expect((await restJob(jobId)).status).toBe("paused");

    const again = await cli.run(["pause", jobId]);
    expect(again.code, "pausing a paused job is refused").toBe(1);
    expect(again.stderr, "the gateway's message, verbatim, with its field").toMatch(new RegExp(`^trawl: job ${jobId} is not running.*\\(field: id\\)\n$`));
    expectNoStackTrace(again);

    const resumed = await cli.run(["resume", jobId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^Job ${jobId} is running`));

    const watcher = cli.spawn(["watch", jobId]);
    await watcher.waitForStderr(/^running: \d+\/\d+ pages/m);
    watcher.interrupt();
    const watched = await watcher.exited;
    expect(watched.code, watched.stderr).toBe(130);
    expect(watched.stderr).toContain(`trawl cancel ${jobId}`);
    expect(watched.stdout).toBe("");
    expect((await restJob(jobId)).status, "Ctrl-C left the job running").toBe("running");

    const cancelled = await cli.run(["cancel", jobId, "--reason", "enough of that"]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toContain(`Job ${jobId} is `);
    const job = await waitForStatus(jobId, ["cancelled"]);
    expect(job.error).toBe("enough of that");

    const ended = await cli.run(["watch", jobId]);
    expect(ended.code, "watching a cancelled job exits 1 at once").toBe(1);
    expect(ended.stdout).toContain(`Job ${jobId} cancelled after `);
    expect((await cli.run(["cancel", jobId])).code, "cancelling twice is refused").toBe(1);
  });
});

describe("export", () => {
  const formats = ["json", "ndjson", "csv"] as const;

  async function restExport(jobId: string, format: string): Promise<Buffer> {
    const response = await fetch(`${suite.stack.gateway.url}/api/jobs/${jobId}/export?format=${format}`);
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  }

  it.each(formats)("%s to stdout and to a file is byte for byte the REST export", async (format) => {
    const job = await restJob(crawledJobId);
    const expected = await restExport(crawledJobId, format);
    const toStdout = await cli.run(["export", crawledJobId, "--format", format]);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(toStdout.stdoutBytes.equals(expected), `stdout equals the REST export (${toStdout.stdoutBytes.length} vs ${expected.length} bytes)`).toBe(true);
    expect(toStdout.stderr).toContain(`Exported ${job.counters.items} items`);

    const file = join(scratch, `export.${format}`);
    const toFile = await cli.run(["export", crawledJobId, "--format", format, "-o", file]);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(toFile.stdout).toBe("");
    expect(readFileSync(file).equals(expected), "the file equals the REST export").toBe(true);
  });

  it("pages through more than one jobs.items page (1000 items)", async () => {
    largeSite = await startLargeSite(1500);
    const result = await cli.run(["start", `${largeSite.origin}/`, "--depth", "10", "--max-pages", "1200"]);
    expect(result.code, result.stderr).toBe(0);
    const jobId = startedJobId(result);
    const job = await restJob(jobId);
    expect(job.counters.items).toBeGreaterThan(1000);
    for (const format of formats) {
      const exported = await cli.run(["export", jobId, "--format", format]);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdoutBytes.equals(await restExport(jobId, format)), `${format} equals the REST export`).toBe(true);
      expect(exported.stderr).toContain(`Exported ${job.counters.items} items`);
    }
  });

  it("an unwritable -o path exits 1 before fetching anything", async () => {
    const result = await cli.run(["export", crawledJobId, "-o", join(scratch, "missing-dir", "x.json")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ENOENT");
    expectNoStackTrace(result);
  });
});

describe("mistakes", () => {
  it.each([
    { args: [], says: "Usage: trawl <command>" },
    { args: ["frob"], says: 'unknown command "frob"' },
    { args: ["start"], says: "missing <url>" },
    { args: ["start", "not-a-url"], says: '"not-a-url"' },
    { args: ["start", "ftp://example.com/"], says: '"ftp://example.com/"' },
    { args: ["start", "http://example.com/", "--depth", "deep"], says: "--depth" },
    { args: ["start", "http://example.com/", "--max-pages", "0"], says: "--max-pages" },
    { args: ["start", "http://example.com/", "--platform", "myspace"], says: "--platform" },
    { args: ["start", "http://example.com/", "--bogus"], says: "'--bogus'" },
    { args: ["list", "--status", "sleeping"], says: "--status" },
    { args: ["list", "--since", "yesterday"], says: "--since" },
    { args: ["list", "--limit", "-3"], says: "--limit" },
    { args: ["list", "extra"], says: "extra" },
    { args: ["get"], says: "missing <id>" },
    { args: ["get", "a", "b"], says: "unexpected argument: b" },
    { args: ["follow", "--types", "explosion"], says: "--types" },
    { args: ["export", "x", "--format", "xml"], says: "--format" },
    { args: ["scan", "/tmp", "--max-files", "many"], says: "--max-files" },
    { args: ["list", "--gateway", "ftp://gateway"], says: "--gateway" },
  ])("trawl $args exits 2 naming the problem", async ({ args, says }) => {
    const result = await cli.run(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(says);
    expect(result.stdout).toBe("");
    expectNoStackTrace(result);
  });

  it("a malformed TRAWL_GATEWAY exits 2 naming it", async () => {
    const result = await cli.run(["list"], { gateway: "gateway.local:8000" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("TRAWL_GATEWAY");
  });

  it("a gateway refusal exits 1 with the server's message and field", async () => {
    const result = await cli.run(["start", "http://example.com/", "--max-pages", "999999"]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^trawl: .+ \(field: max_pages\)\n$/);
    expectNoStackTrace(result);
  });

  it.each([
    ["list"],
    ["get", "x"],
    ["start", "http://example.com/"],
    ["follow"],
  ])("trawl %s against a gateway that is not there exits 3", async (...args) => {
    const port = await closedPort();
    const result = await cli.run(args, { gateway: `http://127.0.0.1:${port}` });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(`cannot reach the gateway at http://127.0.0.1:${port}`);
    expectNoStackTrace(result);
  });

  it("a server that is not a Trawl gateway exits 3", async () => {
    const result = await cli.run(["list", "--gateway", suite.stack.site.origin]);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain("not a Trawl gateway");
  });

  it("--help, <command> --help and --version exit 0", async () => {
    const help = await cli.run(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["start", "scan", "watch", "list", "get", "pause", "resume", "cancel", "follow", "export"]) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(help.stdout).toContain("Exit codes:");
    const start = await cli.run(["start", "--help"]);
    expect(start.code).toBe(0);
    expect(start.stdout).toContain("--max-pages N");
    const version = await cli.run(["--version"]);
    expect(version.code).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL("../../services/cli/package.json", import.meta.url), "utf8")) as { version: string };
    expect(version.stdout).toBe(`trawl ${pkg.version}\n`);
  });

  it("is installed as `trawl` by npm: the linked bin runs the built CLI", () => {
    // npm links the committed launcher at install time, before anything is built.
    const bin = fileURLToPath(new URL("../../node_modules/.bin/trawl", import.meta.url));
    const run = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 30_000 });
    expect(run.error, `running ${bin}`).toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^trawl \d+\.\d+\.\d+\n$/);
  });
});

describe("gateway restart", () => {
  it("a follow outlives the gateway being killed and restarted on the same port, missing and repeating nothing", async () => {
    const jobId = await startSlowCrawl({ max_pages: 40, per_host_delay_ms: 60 });
    await control(jobId, "pause");
    const follower = cli.spawn(["follow", jobId, "--json"]);
    await follower.waitForStderr(/Following job/);
    await control(jobId, "resume");
    await waitFor("a few events before the crash", () => ndjson(follower.output().stdout).length >= 5, { detail: () => follower.describe() });

    const old = suite.stack.gateway;
    const port = new URL(old.url).port;
    await old.kill();
    await follower.waitForStderr(/Connection to the gateway lost/);
    suite.stack.gateway = await startGateway([suite.stack.scraper.address], { GATEWAY_PORT: port });
    expect(suite.stack.gateway.url).toBe(old.url);

    const result = await follower.exited;
    expect(result.code, follower.describe()).toBe(0);
    expect(result.stderr).toContain("Reconnected");
    const events = ndjson(result.stdout);
    const seqs = events.map((event) => Number(event.seq));
    const first = seqs[0] ?? 0;
    expect(seqs, "consecutive seqs across the restart").toEqual(seqs.map((_, i) => first + i));
    expect(kindOf(events.at(-1) as JobEventJson)).toBe("completed");
    expect(seqs.at(-1)).toBe((await restJob(jobId)).last_seq);
  });
});
