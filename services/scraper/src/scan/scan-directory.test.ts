import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, realpath, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanDirectory, type ScanOptions, type ScanProgressInfo } from "./scan-directory.js";
import { ScanRequestError } from "./scan-error.js";

let base: string;
let root: string;
const MODIFIED = new Date("2024-01-15T10:00:00Z");

async function file(path: string, bytes: number): Promise<void> {
  await writeFile(join(root, path), "x".repeat(bytes));
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), "trawl-scan-")));
  // Readable by an unprivileged user too (see the permission test).
  await chmod(base, 0o755);
  root = join(base, "root");
  await mkdir(join(root, "docs", "deep"), { recursive: true });
  await mkdir(join(root, "empty"));
  await mkdir(join(base, "outside"));
  await file("Report.PDF", 10);
  await file("README", 4);
  await file(".bashrc", 2);
  await file("docs/a.txt", 3);
  await file("docs/b.tar.gz", 5);
  await file("docs/deep/c.md", 7);
  await utimes(join(root, "Report.PDF"), MODIFIED, MODIFIED);
  await writeFile(join(base, "outside", "secret.txt"), "secret");
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const scan = (overrides: Partial<ScanOptions> = {}) => scanDirectory({ root, path: root, recursive: true, maxFiles: 1000, ...overrides });

describe("scanDirectory", () => {
  it("lists every file of the tree, relative to the root, with size, modified time and extension", async () => {
    const result = await scan();
    expect(result.files.map((f) => [f.path, f.size, f.extension])).toEqual([
      ["/.bashrc", 2, ""],
      ["/README", 4, ""],
      ["/Report.PDF", 10, ".pdf"],
      ["/docs/a.txt", 3, ".txt"],
      ["/docs/b.tar.gz", 5, ".gz"],
      ["/docs/deep/c.md", 7, ".md"],
    ]);
    expect(result.files.find((f) => f.path === "/Report.PDF")?.modified).toEqual(MODIFIED);
    expect(result).toMatchObject({ count: 6, totalSize: 31, warnings: [], truncated: false });
  });

  it("lists only the top level when not recursive", async () => {
    const result = await scan({ recursive: false });
    expect(result.files.map((f) => f.path)).toEqual(["/.bashrc", "/README", "/Report.PDF"]);
    expect(result.totalSize).toBe(16);
  });

  it("shows the files of a subdirectory relative to the root", async () => {
    const result = await scan({ path: join(root, "docs") });
    expect(result.files.map((f) => f.path)).toEqual(["/docs/a.txt", "/docs/b.tar.gz", "/docs/deep/c.md"]);
  });

  it("never shows a server path", async () => {
    const result = await scan();
    expect(JSON.stringify(result)).not.toContain(base);
  });

  describe("symbolic links", () => {
    let linked: string;

    beforeAll(async () => {
      linked = join(base, "linked");
      await mkdir(join(linked, "sub"), { recursive: true });
      await writeFile(join(linked, "real.txt"), "12345");
      await symlink(join(base, "outside", "secret.txt"), join(linked, "out-file"));
      await symlink(join(base, "outside"), join(linked, "out-dir"));
      await symlink(join(linked, "real.txt"), join(linked, "in-file"));
      await symlink(join(linked, "sub"), join(linked, "in-dir"));
      // A loop: followed, it would never end.
      await symlink("..", join(linked, "sub", "loop"));
      await symlink(join(linked, "nowhere"), join(linked, "broken"));
    });

    it("lists links to files inside the root, skips the others with a warning, never follows into directories", async () => {
      const result = await scanDirectory({ root: linked, path: linked, recursive: true, maxFiles: 100 });
      expect(result.files.map((f) => [f.path, f.size])).toEqual([
        ["/in-file", 5],
        ["/real.txt", 5],
      ]);
      expect([...result.warnings].sort()).toEqual([
        "Skipped broken symlink: /broken",
        "Skipped symlink outside root: /out-dir",
        "Skipped symlink outside root: /out-file",
        "Skipped symlink to a directory: /in-dir",
        "Skipped symlink to a directory: /sub/loop",
      ]);
    });
  });

  it("skips special files such as FIFOs", async () => {
    const special = join(base, "special");
    await mkdir(special);
    execFileSync("mkfifo", [join(special, "pipe")]);
    await writeFile(join(special, "plain.txt"), "p");
    const result = await scanDirectory({ root: special, path: special, recursive: true, maxFiles: 10 });
    expect(result.files.map((f) => f.path)).toEqual(["/plain.txt"]);
    expect(result.warnings).toEqual([]);
  });

  describe("file limit", () => {
    it("stops at max_files with a warning", async () => {
      const result = await scan({ maxFiles: 2 });
      expect(result.count).toBe(2);
      expect(result.files).toHaveLength(2);
      expect(result.truncated).toBe(true);
      expect(result.warnings).toEqual(["File limit of 2 reached"]);
      expect(result.totalSize).toBe(result.files.reduce((sum, f) => sum + f.size, 0));
    });

    it("does not warn when the tree holds exactly max_files files", async () => {
      const result = await scan({ maxFiles: 6 });
      expect(result).toMatchObject({ count: 6, truncated: false, warnings: [] });
    });
  });

  describe("a large directory", () => {
    let large: string;

    beforeAll(async () => {
      large = join(base, "large");
      await mkdir(join(large, "nested"), { recursive: true });
      await Promise.all(Array.from({ length: 1200 }, (_, i) => writeFile(join(large, i < 200 ? "nested" : ".", `f${String(i).padStart(4, "0")}.log`), "")));
    });

    it("reads it in batches and counts every entry", async () => {
      const reports: ScanProgressInfo[] = [];
      const result = await scanDirectory({ root: large, path: large, recursive: true, maxFiles: 5000, progressIntervalMs: 1e9, onProgress: (p) => reports.push(p) });
      expect(result.count).toBe(1200);
      // 1,201 entries (the files and "nested"): a report every 500 entries, then the final one.
      expect(reports.map((r) => r.scanned)).toEqual([500, 1000, 1201]);
      expect(reports.at(-1)).toMatchObject({ scanned: 1201, total: 1201 });
    });
  });

  describe("progress", () => {
    it("reports scanned, total so far and the current path, growing, ending complete", async () => {
      const reports: ScanProgressInfo[] = [];
      await scan({ progressEveryEntries: 1, progressIntervalMs: 1e9, onProgress: (p) => reports.push(p) });
      // 6 files and 3 directories.
      expect(reports).toHaveLength(9);
      expect(reports.map((r) => r.scanned)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const [i, report] of reports.entries()) {
        expect(report.total).toBeGreaterThanOrEqual(report.scanned);
        expect(report.total).toBeGreaterThanOrEqual(reports[i - 1]?.total ?? 0);
        expect(report.currentPath).toMatch(/^\/[^/]/);
        expect(report.currentPath).not.toContain(base);
      }
      expect(reports.at(-1)).toMatchObject({ scanned: 9, total: 9 });
    });

    it("reports every N entries when time has not run out", async () => {
      const reports: ScanProgressInfo[] = [];
      await scan({ progressEveryEntries: 4, progressIntervalMs: 1e9, onProgress: (p) => reports.push(p) });
      expect(reports.map((r) => r.scanned)).toEqual([4, 8, 9]);
    });
  });

  describe("cancel", () => {
    it("rejects with the abort reason mid-scan", async () => {
      const controller = new AbortController();
      const reason = new Error("cancelled by request");
      let reports = 0;
      const scanning = scan({
        signal: controller.signal,
        progressEveryEntries: 1,
        progressIntervalMs: 1e9,
        onProgress: () => {
          reports++;
          controller.abort(reason);
        },
      });
      await expect(scanning).rejects.toBe(reason);
      expect(reports, "the scan stopped at the entry after the abort").toBe(1);
    });

    it("does not start when already aborted", async () => {
      const controller = new AbortController();
      controller.abort(new Error("too late"));
      await expect(scan({ signal: controller.signal })).rejects.toThrow("too late");
    });
  });

  it("fails with a ScanRequestError when the directory has gone", async () => {
    const gone = join(base, "gone");
    await mkdir(gone);
    await rm(gone, { recursive: true });
    const error = await scanDirectory({ root: base, path: gone, recursive: true, maxFiles: 10 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ScanRequestError);
    expect(error).toMatchObject({ field: "path", reason: "not_found", message: "Failed to scan directory: Removed during the scan: /gone" });
  });

  /**
   * A real EACCES. Root reads every directory whatever its mode, so when the
   * tests run as root the scan runs with the effective user dropped to
   * "nobody" (65534) and restored afterwards; as any other user it runs as is.
   */
  it("reports an unreadable directory as a warning and lists the rest", async () => {
    const locked = join(root, "locked");
    await mkdir(locked);
    await writeFile(join(locked, "private.txt"), "no");
    await chmod(locked, 0o000);
    try {
      const result = await withoutPrivileges(() => scan());
      expect(result.warnings).toEqual(["Permission denied: /locked"]);
      expect(result.files.map((f) => f.path)).not.toContain("/locked/private.txt");
      expect(result.count).toBe(6);
    } finally {
      await chmod(locked, 0o755);
      await rm(locked, { recursive: true });
    }
  });
});

async function withoutPrivileges<T>(run: () => Promise<T>): Promise<T> {
  if (process.getuid?.() !== 0) return run();
  const { seteuid, setegid } = process;
  if (seteuid === undefined || setegid === undefined) throw new Error("running as root on a platform without seteuid");
  // seteuid changes the whole process: only safe where this test file has its process to itself.
  if (!isMainThread) throw new Error("the permission test drops root privileges and needs vitest's forks pool");
  const nobody = 65_534;
  setegid(nobody);
  seteuid(nobody);
  try {
    return await run();
  } finally {
    seteuid(0);
    setegid(0);
  }
}
