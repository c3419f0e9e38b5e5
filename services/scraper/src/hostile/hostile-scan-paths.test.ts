/**
 * Hostile scan paths, through the real path a StartJob scan takes:
 * resolveScanRequest (the gRPC handler's validation) against a real temp
 * directory tree with symbolic links out of the root, then — for the
 * requests it accepts — scanDirectory over that tree. A refusal must name
 * the field and say why; an accepted scan must never list anything outside
 * the root, whatever links and names it meets.
 *
 * SCAN_PATH_CORPUS and SCAN_TREE_CORPUS are the data tables; their sizes are
 * in the suites' names (for RELIABILITY.md's "hostile inputs tried").
 */
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanDirectory } from "../scan/scan-directory.js";
import { ScanRequestError, type ScanErrorReason } from "../scan/scan-error.js";
import { resolveScanRequest } from "../scan/scan-request.js";

let base: string;
let root: string;
let outside: string;
const MAX_FILES = 50;

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), "trawl-hostile-scan-")));
  root = join(base, "root");
  outside = join(base, "outside");
  await mkdir(join(root, "docs", "sub"), { recursive: true });
  await mkdir(join(root, "many"), { recursive: true });
  await mkdir(join(root, "links"), { recursive: true });
  await mkdir(join(root, "names"), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, "secret.txt"), "secret");
  await writeFile(join(root, "docs", "a.txt"), "a");
  await writeFile(join(root, "file.txt"), "x");
  for (let i = 0; i < MAX_FILES * 4; i++) await writeFile(join(root, "many", `f${i}.txt`), "");
  // Links out of the root, to a file and a directory, absolute and relative; a loop; a dangling link.
  await symlink(outside, join(root, "escape-dir"));
  await symlink(join(outside, "secret.txt"), join(root, "links", "secret-file"));
  await symlink("../../outside", join(root, "links", "relative-escape"));
  await symlink("/etc/passwd", join(root, "links", "passwd"));
  await symlink("/", join(root, "links", "slash"));
  await symlink(join(root, "links"), join(root, "links", "loop"));
  await symlink(join(root, "links", "chain-b"), join(root, "links", "chain-a"));
  await symlink(join(outside, "secret.txt"), join(root, "links", "chain-b"));
  await symlink(join(root, "nowhere"), join(root, "links", "dangling"));
  await symlink(join(root, "docs", "a.txt"), join(root, "links", "inside-file"));
  // Hostile names inside the root.
  for (const name of ["..file", "...", " space ", "new\nline", "tab\there", "\u202eexe.txt", "%2e%2e", "back\\slash", "ünïcödé", "a".repeat(255)]) {
    await writeFile(join(root, "names", name), "n");
  }
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

type Expected = { accepted: true } | { field: "path" | "max_files"; reason: ScanErrorReason; message: RegExp };

const refused = (reason: ScanErrorReason, message: RegExp, field: "path" | "max_files" = "path"): Expected => ({ field, reason, message });
const accepted: Expected = { accepted: true };
const outsideRoots = refused("outside_roots", /outside the configured scan roots|escapes the scan root/);

/** A requested path (ROOT and OUTSIDE are filled in) and max_files, with what must come of it. */
export const SCAN_PATH_CORPUS: readonly { name: string; path: string; maxFiles?: number; expected: Expected }[] = [
  { name: "`..`", path: "..", expected: outsideRoots },
  { name: "`../..`", path: "../..", expected: outsideRoots },
  { name: "`..` after a real directory", path: "docs/../..", expected: outsideRoots },
  { name: "`..` to the sibling directory", path: "../outside", expected: outsideRoots },
  { name: "backslashed `..` (a name on POSIX)", path: "..\\..\\outside", expected: refused("not_found", /Directory not found/) },
  { name: "`..` with a trailing slash", path: "../", expected: outsideRoots },
  { name: "an absolute path outside", path: "/etc", expected: outsideRoots },
  { name: "the file system root", path: "/", expected: outsideRoots },
  { name: "an absolute path to the sibling", path: "OUTSIDE", expected: outsideRoots },
  { name: "a root-prefixed sibling name", path: "ROOT-evil", expected: outsideRoots },
  { name: "an absolute path climbing out with `..`", path: "ROOT/docs/../../outside", expected: outsideRoots },
  { name: "a doubled slash", path: "//etc", expected: outsideRoots },
  { name: "a symlink to a directory outside", path: "escape-dir", expected: refused("outside_roots", /through a symbolic link/) },
  { name: "a relative symlink out of the root", path: "links/relative-escape", expected: refused("outside_roots", /through a symbolic link/) },
  { name: "a symlink to /", path: "links/slash", expected: refused("outside_roots", /through a symbolic link/) },
  { name: "a path through a symlink out", path: "escape-dir/..", expected: accepted },
  { name: "a symlink to a file outside", path: "links/secret-file", expected: refused("outside_roots", /through a symbolic link/) },
  { name: "a symlink loop", path: "links/loop/loop/loop", expected: accepted },
  { name: "a dangling symlink", path: "links/dangling", expected: refused("not_found", /Directory not found/) },
  { name: "a file, not a directory", path: "file.txt", expected: refused("not_directory", /Not a directory/) },
  { name: "a path through a file", path: "file.txt/x", expected: refused("not_directory", /Not a directory/) },
  { name: "a NUL byte", path: "docs\0/../../etc", expected: refused("invalid", /NUL bytes/) },
  { name: "a NUL byte at the end", path: "docs\0", expected: refused("invalid", /NUL bytes/) },
  { name: "an empty path", path: "", expected: refused("invalid", /path is required/) },
  { name: "only spaces", path: "   ", expected: refused("invalid", /path is required/) },
  { name: "a 10 KB path (echoed cut to 200 characters)", path: "a/".repeat(5_000), expected: refused("not_found", /^Directory not found: (a\/){100}…$/) },
  { name: "a 300-character name", path: "x".repeat(300), expected: refused("invalid", /ENAMETOOLONG/) },
  { name: "URL-encoded `..` (a name, not a climb)", path: "%2e%2e/%2e%2e", expected: refused("not_found", /Directory not found/) },
  { name: "a newline", path: "docs\n/../..", expected: outsideRoots },
  { name: "a right-to-left override", path: "\u202edocs", expected: refused("not_found", /Directory not found/) },
  { name: "`.` repeated", path: "./././docs/./.", expected: accepted },
  { name: "a negative file limit", path: "docs", maxFiles: -1, expected: refused("invalid", /whole number/, "max_files") },
  { name: "a fractional file limit", path: "docs", maxFiles: 1.5, expected: refused("invalid", /whole number/, "max_files") },
  { name: "a file limit over SCAN_MAX_FILES", path: "docs", maxFiles: MAX_FILES + 1, expected: refused("invalid", /at most 50/, "max_files") },
  { name: "the largest uint32 file limit", path: "docs", maxFiles: 2 ** 32 - 1, expected: refused("invalid", /at most 50/, "max_files") },
];

describe(`hostile scan paths (${SCAN_PATH_CORPUS.length} inputs)`, () => {
  it.each(SCAN_PATH_CORPUS)("$name", async ({ path, maxFiles, expected }) => {
    const requested = path.replaceAll("ROOT", root).replaceAll("OUTSIDE", outside);
    const attempt = resolveScanRequest({ path: requested, recursive: true, maxFiles: maxFiles ?? 0 }, { roots: [root], maxFiles: MAX_FILES });
    if ("accepted" in expected) {
      const plan = await attempt;
      expect(plan.root).toBe(root);
      expect(plan.directory.startsWith(root)).toBe(true);
      return;
    }
    const err = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScanRequestError);
    expect(err).toMatchObject({ field: expected.field, reason: expected.reason, message: expect.stringMatching(expected.message) });
  });
});

/** What a recursive scan of the whole root must show of each hostile entry. */
export const SCAN_TREE_CORPUS: readonly { name: string; shown: string; listed: boolean; warning?: RegExp }[] = [
  { name: "a symlink to a directory outside", shown: "/escape-dir", listed: false, warning: /Skipped symlink outside root: \/escape-dir/ },
  { name: "a symlink to a file outside", shown: "/links/secret-file", listed: false, warning: /Skipped symlink outside root: \/links\/secret-file/ },
  { name: "a relative symlink out", shown: "/links/relative-escape", listed: false, warning: /Skipped symlink outside root: \/links\/relative-escape/ },
  { name: "a symlink to /etc/passwd", shown: "/links/passwd", listed: false, warning: /Skipped symlink outside root: \/links\/passwd/ },
  { name: "a symlink to /", shown: "/links/slash", listed: false, warning: /Skipped symlink outside root: \/links\/slash/ },
  { name: "a symlink loop", shown: "/links/loop", listed: false, warning: /Skipped symlink to a directory: \/links\/loop/ },
  { name: "a chain of links ending outside", shown: "/links/chain-a", listed: false, warning: /Skipped symlink outside root: \/links\/chain-a/ },
  { name: "a dangling symlink", shown: "/links/dangling", listed: false, warning: /Skipped broken symlink: \/links\/dangling/ },
  { name: "a symlink to a file inside", shown: "/links/inside-file", listed: true },
  { name: "a name starting with `..`", shown: "/names/..file", listed: true },
  { name: "a name of three dots", shown: "/names/...", listed: true },
  { name: "a name with a newline", shown: "/names/new\nline", listed: true },
  { name: "a name with a right-to-left override", shown: "/names/\u202eexe.txt", listed: true },
  { name: "a backslash in a name", shown: "/names/back\\slash", listed: true },
  { name: "a 255-byte name", shown: `/names/${"a".repeat(255)}`, listed: true },
];

describe(`hostile scan trees (${SCAN_TREE_CORPUS.length} entries, and the file limit)`, () => {
  let result: Awaited<ReturnType<typeof scanDirectory>>;
  let limited: Awaited<ReturnType<typeof scanDirectory>>;

  beforeAll(async () => {
    result = await scanDirectory({ root, path: root, recursive: true, maxFiles: 10_000 });
    limited = await scanDirectory({ root, path: root, recursive: true, maxFiles: MAX_FILES });
  });

  it.each(SCAN_TREE_CORPUS)("$name", ({ shown, listed, warning }) => {
    expect(result.files.some((file) => file.path === shown)).toBe(listed);
    if (warning !== undefined) expect(result.warnings).toEqual(expect.arrayContaining([expect.stringMatching(warning)]));
  });

  it("lists nothing from outside the root: no secret, no /etc", () => {
    expect(result.files.map((file) => file.path)).not.toContain("/links/secret-file");
    expect(result.files.filter((file) => file.size === "secret".length)).toEqual([]);
  });

  it(`stops at the file limit (${MAX_FILES}) in a tree of ${MAX_FILES * 4 + 20} files, saying so`, () => {
    expect(limited.count).toBe(MAX_FILES);
    expect(limited.truncated).toBe(true);
    expect(limited.warnings).toContain(`File limit of ${MAX_FILES} reached`);
  });
});
