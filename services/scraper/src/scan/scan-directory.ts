/**
 * Lists the files under a directory (seed 003's directory scan). Directories
 * are read with `opendir` in small batches, a few directories at once, so
 * memory holds a few batches, the directories still to visit and the files
 * found — never a whole listing.
 * Symbolic links are never followed into directories (no loops), and a link
 * that leads out of the root is skipped with a warning. Unreadable entries
 * become warnings, not failures.
 */
import type { Dir, Dirent } from "node:fs";
import { lstat, opendir, realpath, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { errorCode, ScanRequestError } from "./scan-error.js";
import { isInside, shownPath } from "./scan-paths.js";
import {
  brokenSymlinkWarning,
  fileLimitWarning,
  symlinkDirectoryWarning,
  symlinkOutsideWarning,
  unreadableWarning,
  WarningList,
} from "./scan-warnings.js";

export interface ScannedFileInfo {
  /** Relative to the scan root, "/"-prefixed with "/" separators ("/docs/report.pdf"). */
  path: string;
  size: number;
  modified: Date;
  /** Lower-case, with the dot (".pdf"); "" when the name has none. */
  extension: string;
}

export interface ScanProgressInfo {
  /** Entries looked at so far. */
  scanned: number;
  /** Entries found so far; grows as directories are read. */
  total: number;
  /** The last entry looked at, shown like {@link ScannedFileInfo.path}. */
  currentPath: string;
}

export interface ScanResult {
  /** Sorted by path. */
  files: ScannedFileInfo[];
  count: number;
  totalSize: number;
  warnings: string[];
  /** True when the scan stopped at `maxFiles` with entries left unvisited. */
  truncated: boolean;
}

export interface ScanOptions {
  /** Real path of the root: every path is shown relative to it, and nothing outside it is read. */
  root: string;
  /** Real path of the directory to scan, inside `root` (see resolveScanPath). */
  path: string;
  recursive: boolean;
  maxFiles: number;
  /** Aborting rejects the scan with the signal's reason, at the next entry. */
  signal?: AbortSignal;
  onProgress?: (progress: ScanProgressInfo) => void;
  /** Least time between two progress reports, unless `progressEveryEntries` entries came first. Default 100. */
  progressIntervalMs?: number;
  /** Entries after which progress is reported whatever the time. Default 500. */
  progressEveryEntries?: number;
}

/** Entries read from a directory before their details are fetched together. */
const BATCH_SIZE = 64;

type Outcome =
  | { kind: "file"; file: ScannedFileInfo }
  | { kind: "directory"; path: string }
  | { kind: "warning"; warning: string }
  | { kind: "skip" };

/** Reports progress at most every `intervalMs`, or every `everyEntries` entries. */
class ProgressReporter {
  private lastAt = performance.now();
  private lastScanned = 0;

  constructor(
    private readonly onProgress: ((progress: ScanProgressInfo) => void) | undefined,
    private readonly intervalMs: number,
    private readonly everyEntries: number,
  ) {}

  update(progress: ScanProgressInfo): void {
    if (this.onProgress === undefined) return;
    const now = performance.now();
    if (progress.scanned - this.lastScanned < this.everyEntries && now - this.lastAt < this.intervalMs) return;
    this.report(progress, now);
  }

  /** The final report, unless the last one already said the same. */
  flush(progress: ScanProgressInfo): void {
    if (this.onProgress !== undefined && progress.scanned !== this.lastScanned) this.report(progress, performance.now());
  }

  private report(progress: ScanProgressInfo, now: number): void {
    this.lastAt = now;
    this.lastScanned = progress.scanned;
    this.onProgress?.({ ...progress });
  }
}

async function readBatch(dir: Dir): Promise<Dirent[]> {
  const batch: Dirent[] = [];
  for (let entry = await dir.read(); entry !== null; entry = batch.length < BATCH_SIZE ? await dir.read() : null) batch.push(entry);
  return batch;
}

async function fileInfo(absolute: string, shown: string): Promise<ScannedFileInfo> {
  const info = await lstat(absolute);
  return { path: shown, size: info.size, modified: info.mtime, extension: extname(absolute).toLowerCase() };
}

/** What a symbolic link is: a file inside the root (listed), or a warning. */
async function inspectLink(root: string, absolute: string, shown: string): Promise<Outcome> {
  let target: string;
  try {
    target = await realpath(absolute);
  } catch (err) {
    const code = errorCode(err);
    return { kind: "warning", warning: code === "ENOENT" ? brokenSymlinkWarning(shown) : unreadableWarning(code, shown) };
  }
  if (!isInside(root, target)) return { kind: "warning", warning: symlinkOutsideWarning(shown) };
  const info = await stat(target);
  if (info.isDirectory()) return { kind: "warning", warning: symlinkDirectoryWarning(shown) };
  if (!info.isFile()) return { kind: "skip" };
  return { kind: "file", file: { path: shown, size: info.size, modified: info.mtime, extension: extname(absolute).toLowerCase() } };
}

async function inspect(root: string, directory: string, entry: Dirent): Promise<Outcome> {
  const absolute = join(directory, entry.name);
  const shown = shownPath(root, absolute);
  try {
    if (entry.isDirectory()) return { kind: "directory", path: absolute };
    if (entry.isFile()) return { kind: "file", file: await fileInfo(absolute, shown) };
    if (entry.isSymbolicLink()) return await inspectLink(root, absolute, shown);
    if (entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice()) return { kind: "skip" };
    // A file system that does not report entry types: ask.
    const info = await lstat(absolute);
    if (info.isDirectory()) return { kind: "directory", path: absolute };
    if (info.isSymbolicLink()) return await inspectLink(root, absolute, shown);
    if (info.isFile()) return { kind: "file", file: await fileInfo(absolute, shown) };
    return { kind: "skip" };
  } catch (err) {
    return { kind: "warning", warning: unreadableWarning(errorCode(err), shown) };
  }
}

/** Directories listed at once: libuv's default thread pool has four threads. */
const DIRECTORIES_IN_FLIGHT = 4;

/** One scan's state, shared by the directory workers (one JavaScript thread: no locks needed). */
class DirectoryScan {
  private readonly reporter: ProgressReporter;
  private readonly warnings = new WarningList();
  private readonly files: ScannedFileInfo[] = [];
  private readonly progress: ScanProgressInfo;
  private totalSize = 0;
  private truncated = false;
  /** Directories still to list; taken from the end, so the walk stays mostly depth first and the list short. */
  private readonly pending: string[];
  private active = 0;
  private failure: { error: unknown } | undefined;
  private wakeUps: (() => void)[] = [];

  constructor(private readonly options: ScanOptions) {
    this.reporter = new ProgressReporter(options.onProgress, options.progressIntervalMs ?? 100, options.progressEveryEntries ?? 500);
    this.progress = { scanned: 0, total: 0, currentPath: shownPath(options.root, options.path) };
    this.pending = [options.path];
  }

  async run(): Promise<ScanResult> {
    this.options.signal?.throwIfAborted();
    await Promise.all(Array.from({ length: DIRECTORIES_IN_FLIGHT }, () => this.worker()));
    if (this.failure !== undefined) throw this.failure.error;
    this.reporter.flush(this.progress);
    const files = this.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { files, count: files.length, totalSize: this.totalSize, warnings: this.warnings.list(), truncated: this.truncated };
  }

  private get stopped(): boolean {
    return this.truncated || this.failure !== undefined;
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const directory = this.pending.pop();
      if (directory === undefined) {
        if (this.active === 0) break;
        // Another worker is listing a directory that may hold more.
        await new Promise<void>((wake) => this.wakeUps.push(wake));
        continue;
      }
      this.active++;
      try {
        await this.list(directory);
      } catch (err) {
        this.failure ??= { error: err };
      } finally {
        this.active--;
        this.wakeAll();
      }
    }
    this.wakeAll();
  }

  private wakeAll(): void {
    const wakeUps = this.wakeUps;
    this.wakeUps = [];
    for (const wake of wakeUps) wake();
  }

  /** Lists one directory, batch by batch. */
  private async list(directory: string): Promise<void> {
    const { root, signal } = this.options;
    let dir: Dir;
    try {
      dir = await opendir(directory, { bufferSize: BATCH_SIZE });
    } catch (err) {
      const code = errorCode(err);
      if (directory !== this.options.path) {
        this.warnings.add(unreadableWarning(code, shownPath(root, directory)));
        return;
      }
      const message = `Failed to scan directory: ${unreadableWarning(code, shownPath(root, directory))}`;
      const reason = code === "ENOENT" ? "not_found" : code === "EACCES" || code === "EPERM" ? "permission_denied" : "invalid";
      throw new ScanRequestError("path", message, reason, { cause: err });
    }
    try {
      while (!this.stopped) {
        let batch: Dirent[];
        try {
          batch = await readBatch(dir);
        } catch (err) {
          this.warnings.add(unreadableWarning(errorCode(err), shownPath(root, directory)));
          return;
        }
        if (batch.length === 0) return;
        signal?.throwIfAborted();
        this.progress.total += batch.length;
        const outcomes = await Promise.all(batch.map((entry) => inspect(root, directory, entry)));
        for (const [i, outcome] of outcomes.entries()) {
          signal?.throwIfAborted();
          if (this.stopped) return;
          this.record(outcome, shownPath(root, join(directory, (batch[i] as Dirent).name)));
        }
      }
    } finally {
      await dir.close();
    }
  }

  private record(outcome: Outcome, shown: string): void {
    if (outcome.kind === "file" && this.files.length >= this.options.maxFiles) {
      this.truncated = true;
      this.warnings.addAlways(fileLimitWarning(this.options.maxFiles));
      return;
    }
    this.progress.scanned++;
    this.progress.currentPath = shown;
    if (outcome.kind === "file") {
      this.files.push(outcome.file);
      this.totalSize += outcome.file.size;
    } else if (outcome.kind === "directory") {
      if (this.options.recursive) {
        this.pending.push(outcome.path);
        this.wakeAll();
      }
    } else if (outcome.kind === "warning") {
      this.warnings.add(outcome.warning);
    }
    this.reporter.update(this.progress);
  }
}

/**
 * Scans `path` (recursively or not) and resolves with its files, sorted by
 * path. When the tree holds more than `maxFiles` files, which ones fill the
 * limit depends on the order the file system lists them in. Rejects with
 * the abort reason when `signal` aborts, and with a
 * {@link ScanRequestError} when the directory itself cannot be read;
 * anything below it that cannot be read is a warning.
 */
export function scanDirectory(options: ScanOptions): Promise<ScanResult> {
  return new DirectoryScan(options).run();
}
