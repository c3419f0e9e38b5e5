/**
 * Seed 003 (Semantik) as assertions: the exact key sets and order of every
 * `/ws/{job_id}` and `/ws/scan/{scan_id}` message, a job stream's order and
 * numbers, a scan root with known files and known warnings (and the truth
 * about them, read from the file system independently of the scanner), and
 * the seed's example clients run as child processes.
 */
import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { waitFor } from "./wait.js";
import type { Frame, RecordingClient } from "./ws-client.js";

/** Each `/ws/{job_id}` message type and its keys, in the seed's order. */
export const FILE_JOB_KEYS = {
  job_started: ["type", "total_files"],
  file_processing: ["type", "current_file", "processed_files", "total_files", "status"],
  file_completed: ["type", "processed_files", "total_files"],
  job_completed: ["type", "message"],
  error: ["type", "message"],
} as const;
export type FileJobType = keyof typeof FILE_JOB_KEYS;

/** Each `/ws/scan/{scan_id}` message type and its keys, in the seed's order. */
export const SCAN_KEYS = {
  progress: ["type", "scanned", "total", "current_path"],
  completed: ["type", "files", "count", "total_size", "warnings"],
  error: ["type", "message"],
} as const;
export const SCAN_FILE_KEYS = ["path", "size", "modified", "extension"] as const;

/** A page failure's error message; every other error ends the job. */
export const PAGE_ERROR_PREFIX = "Failed to process ";

/** The gateway's answer to any text on `/ws/{job_id}` (used as an ordering barrier). */
const PONG = "pong";

export interface FileJobStream {
  readonly all: readonly Frame[];
  readonly started: Frame;
  /** file_processing and file_completed, in order. */
  readonly progress: readonly Frame[];
  readonly pageErrors: readonly Frame[];
  readonly terminal: Frame;
}

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

export function isTerminalFileMessage(frame: Frame): boolean {
  return frame.type === "job_completed" || (frame.type === "error" && !String(frame.message).startsWith(PAGE_ERROR_PREFIX));
}

/** Waits for the terminal message of a `/ws/{job_id}` client. */
export async function waitForFileJobEnd(client: RecordingClient, timeoutMs = 120_000): Promise<Frame> {
  return client.waitForFrame("job_completed or the job's error", isTerminalFileMessage, { timeoutMs });
}

/** Sends text and waits for the pong: every frame the gateway sent before has arrived. */
export async function pongBarrier(client: RecordingClient): Promise<void> {
  const before = client.ofType(PONG).length;
  client.send("ping");
  await client.waitUntil("the pong barrier", () => client.ofType(PONG).length > before);
}

/**
 * Checks a `/ws/{job_id}` stream as one client received it: only the seed's
 * types with exactly their keys in order, integer counts, job_started first
 * and once, processed_files never decreasing and never above total_files,
 * status "Processing", exactly one terminal message and it is the last.
 * A scan counts the directory entries it examines while it runs, and its
 * result's files at the end: for `kind: "scan"` the final counts may be
 * below the last running ones.
 */
export function expectFileJobStream(frames: readonly Frame[], kind: "crawl" | "scan" = "crawl"): FileJobStream {
  const all = frames.filter((frame) => frame.type !== PONG);
  expect(all.length, "messages").toBeGreaterThan(0);
  const lastProgress = all.findLast((frame) => frame.type === "file_processing" || frame.type === "file_completed");
  let processed = 0;
  all.forEach((frame, index) => {
    const label = `${frame.type}#${index}`;
    expect(Object.keys(FILE_JOB_KEYS), `${label}: a type the seed lists`).toContain(frame.type);
    expect(Object.keys(frame), `${label}: the seed's keys, in its order`).toEqual([...FILE_JOB_KEYS[frame.type as FileJobType]]);
    if (frame.type === "job_started") expect(isCount(frame.total_files), `${label}.total_files`).toBe(true);
    if (frame.type === "file_processing" || frame.type === "file_completed") {
      expect(isCount(frame.processed_files) && isCount(frame.total_files), `${label}: integer counts`).toBe(true);
      if (kind === "crawl" || frame !== lastProgress) expect(frame.processed_files as number, `${label}: processed_files never goes back`).toBeGreaterThanOrEqual(processed);
      expect(frame.processed_files as number, `${label}: processed_files ≤ total_files`).toBeLessThanOrEqual(frame.total_files as number);
      processed = frame.processed_files as number;
    }
    if (frame.type === "file_processing") {
      expect(frame.status, `${label}.status`).toBe("Processing");
      expect(typeof frame.current_file === "string" && frame.current_file !== "", `${label}.current_file`).toBe(true);
    }
    if (frame.type === "error" || frame.type === "job_completed") expect(typeof frame.message === "string" && frame.message !== "", `${label}.message`).toBe(true);
  });
  expect(all[0]?.type, "job_started comes first").toBe("job_started");
  expect(all.filter((frame) => frame.type === "job_started"), "job_started once").toHaveLength(1);
  const terminals = all.filter(isTerminalFileMessage);
  expect(terminals, "exactly one terminal message").toHaveLength(1);
  expect(all.at(-1), "the terminal message is the last").toBe(terminals[0]);
  return {
    all,
    started: all[0] as Frame,
    progress: all.filter((frame) => frame.type === "file_processing" || frame.type === "file_completed"),
    pageErrors: all.filter((frame) => frame.type === "error" && !isTerminalFileMessage(frame)),
    terminal: terminals[0] as Frame,
  };
}

/** Checks a scan socket message's keys (and a completed message's files' keys). */
export function expectScanMessage(frame: Frame | undefined, label: string): Frame {
  expect(frame, label).toBeDefined();
  const message = frame as Frame;
  expect(Object.keys(SCAN_KEYS), `${label}: a type the seed lists`).toContain(message.type);
  expect(Object.keys(message), `${label}: the seed's keys, in its order`).toEqual([...SCAN_KEYS[message.type as keyof typeof SCAN_KEYS]]);
  if (message.type === "progress") {
    expect(isCount(message.scanned) && isCount(message.total), `${label}: integer counts`).toBe(true);
    expect(message.scanned as number, `${label}: scanned ≤ total`).toBeLessThanOrEqual(message.total as number);
    expect(message.current_path, `${label}.current_path`).toMatch(/^\//);
  }
  if (message.type === "completed") {
    for (const file of message.files as Record<string, unknown>[]) expect(Object.keys(file), `${label}: file keys`).toEqual([...SCAN_FILE_KEYS]);
  }
  return message;
}

export interface ScannedFile {
  path: string;
  size: number;
  modified: string;
  extension: string;
}

/** The scan root the suite gives the scraper (SCAN_ROOTS), and what scanning it must find. */
export interface ScanTree {
  readonly root: string;
  /** Warnings a scan of /docs must report (in any order). */
  readonly docsWarnings: readonly string[];
  /** Regular files of /big (one per top directory; the rest are directories). */
  readonly bigFiles: number;
}

/**
 * Fills `root` with `docs/` — files of several kinds (upper-case and missing
 * extensions, a dot file, two levels of subdirectories), a symbolic link to
 * a file inside the root (listed), one out of the root and a broken one
 * (both warnings) — and `big/`: `bigDirs` directories of 100 empty
 * subdirectories and one file each, a tree that takes the scanner a while
 * (directories do not count against SCAN_MAX_FILES).
 */
export function createScanTree(root: string, bigDirs = 300): ScanTree {
  const docs = join(root, "docs");
  mkdirSync(join(docs, "nested", "deeper"), { recursive: true });
  writeFileSync(join(docs, "report.pdf"), Buffer.alloc(1000, 1));
  writeFileSync(join(docs, "notes.TXT"), "hello");
  writeFileSync(join(docs, "README"), "read me\n");
  writeFileSync(join(docs, ".hidden"), "");
  writeFileSync(join(docs, "nested", "data.csv"), "a,b\n1,2\n");
  writeFileSync(join(docs, "nested", "deeper", "image.JPEG"), Buffer.alloc(2048, 2));
  symlinkSync(join(docs, "notes.TXT"), join(docs, "shortcut.txt"));
  symlinkSync("/etc", join(docs, "escape"));
  symlinkSync(join(docs, "gone.txt"), join(docs, "dangling"));
  for (let i = 0; i < bigDirs; i++) {
    const dir = join(root, "big", `d${String(i).padStart(3, "0")}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "f.txt"), String(i));
    for (let k = 0; k < 100; k++) mkdirSync(join(dir, `s${k}`));
  }
  return { root, docsWarnings: ["Skipped symlink outside root: /docs/escape", "Skipped broken symlink: /docs/dangling"], bigFiles: bigDirs };
}

/**
 * The files a scan of `dir` (relative to `root`) must list, read from the
 * file system: regular files, and links to files inside the root (shown by
 * the link's name, with the target's size and time); sorted by path.
 * Directories are descended into only when `recursive`.
 */
export function expectedScanFiles(root: string, dir: string, recursive: boolean): ScannedFile[] {
  const realRoot = realpathSync(root);
  const files: ScannedFile[] = [];
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(root, relative))) {
      const path = `${relative}/${name}`;
      const absolute = join(root, path);
      let info = lstatSync(absolute);
      if (info.isDirectory()) {
        if (recursive) walk(path);
        continue;
      }
      if (info.isSymbolicLink()) {
        if (!existsSync(absolute) || !realpathSync(absolute).startsWith(`${realRoot}/`)) continue; // broken, or out of the root: a warning
        info = statSync(absolute);
      }
      if (info.isFile()) files.push({ path, size: info.size, modified: info.mtime.toISOString(), extension: extname(name).toLowerCase() });
    }
  };
  walk(`/${dir.replace(/^\/+/, "")}`);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** What a client example printed and how it exited. */
export interface ClientRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout lines, without the empty last one. */
  readonly lines: readonly string[];
}

const CLIENTS_DIR = fileURLToPath(new URL("../clients/seed003/", import.meta.url));
const TSX_CLI = createRequire(import.meta.url).resolve("tsx/cli");
/** Debian's Python, which has the `websockets` package (the PATH one may not). */
export const PYTHON = "/usr/bin/python3";

/** A running client example: its output so far, and its exit. */
export class ClientProcess {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  readonly exited: Promise<ClientRun>;

  constructor(readonly file: string, args: readonly string[], timeoutMs: number) {
    const path = join(CLIENTS_DIR, file);
    const [command, argv] = file.endsWith(".py") ? [PYTHON, [path, ...args]] : file.endsWith(".mts") ? [process.execPath, [TSX_CLI, path, ...args]] : [process.execPath, [path, ...args]];
    const child = spawn(command, argv, { cwd: CLIENTS_DIR, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => this.out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => this.err.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    timer.unref();
    this.exited = new Promise((resolve, reject) => {
      child.once("error", reject);
      // 'close', not 'exit': all output has been read by then.
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        const stdout = this.stdout;
        resolve({ code, signal, stdout, stderr: Buffer.concat(this.err).toString("utf8"), lines: stdout.split("\n").filter((line) => line !== "") });
      });
    });
  }

  get stdout(): string {
    return Buffer.concat(this.out).toString("utf8");
  }

  /** Resolves once a line of stdout matches `predicate`. */
  async waitForLine(what: string, predicate: (line: string) => boolean): Promise<string> {
    return waitFor(`${this.file} to print ${what}`, () => this.stdout.split("\n").find(predicate), { detail: () => this.stdout.slice(-2000) });
  }
}

/** Starts one of tests/clients/seed003: `.mts` with tsx, `.mjs` with node, `.py` with Debian's Python; killed after `timeoutMs`. */
export function startSeed003Client(file: string, args: readonly string[], timeoutMs = 90_000): ClientProcess {
  return new ClientProcess(file, args, timeoutMs);
}

/** Runs one of tests/clients/seed003 to its exit. */
export function runSeed003Client(file: string, args: readonly string[], timeoutMs = 90_000): Promise<ClientRun> {
  return startSeed003Client(file, args, timeoutMs).exited;
}

/** The run's output, for failure messages. */
export function describeRun(run: ClientRun): string {
  return `exit ${run.code ?? run.signal}\n--- stdout ---\n${run.stdout.slice(-4000)}\n--- stderr ---\n${run.stderr.slice(-4000)}`;
}
