import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveScanPath } from "./resolve-scan-path.js";
import { ScanRequestError } from "./scan-error.js";
import { resolveScanRequest } from "./scan-request.js";

let base: string;
let root1: string;
let root2: string;

beforeAll(async () => {
  // The real path: on some systems the temp directory itself is reached through a link.
  base = await realpath(await mkdtemp(join(tmpdir(), "trawl-scan-path-")));
  root1 = join(base, "root1");
  root2 = join(base, "root2");
  await mkdir(join(root1, "docs", "sub"), { recursive: true });
  await mkdir(join(root2, "media"), { recursive: true });
  await mkdir(join(base, "outside", "secret"), { recursive: true });
  await mkdir(join(base, "root1-evil"));
  await writeFile(join(root1, "file.txt"), "x");
  await symlink(join(root1, "docs"), join(root1, "inner-link"));
  await symlink(join(base, "outside"), join(root1, "escape-link"));
  await symlink(root1, join(base, "root-link"));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("resolveScanPath", () => {
  it.each<[string, () => string, () => { root: string; directory: string; shown: string }]>([
    ["a path relative to the first root", () => "docs", () => ({ root: root1, directory: join(root1, "docs"), shown: "/docs" })],
    ["the first root itself", () => ".", () => ({ root: root1, directory: root1, shown: "/" })],
    ["a trailing slash", () => "docs/", () => ({ root: root1, directory: join(root1, "docs"), shown: "/docs" })],
    ["`..` that stays inside the root", () => "docs/sub/..", () => ({ root: root1, directory: join(root1, "docs"), shown: "/docs" })],
    ["an absolute path inside the second root", () => join(root2, "media"), () => ({ root: root2, directory: join(root2, "media"), shown: "/media" })],
    ["a symbolic link to a directory inside the root", () => "inner-link", () => ({ root: root1, directory: join(root1, "docs"), shown: "/docs" })],
  ])("accepts %s", async (_name, requested, expected) => {
    expect(await resolveScanPath(requested(), [root1, root2])).toEqual(expected());
  });

  it("accepts roots configured through a symbolic link, showing paths from the real root", async () => {
    expect(await resolveScanPath("docs/sub", [join(base, "root-link")])).toEqual({ root: root1, directory: join(root1, "docs", "sub"), shown: "/docs/sub" });
  });

  it.each<[string, () => string, RegExp, ScanRequestError["reason"]]>([
    ["an empty path", () => "", /^path is required$/, "invalid"],
    ["a blank path", () => "   ", /^path is required$/, "invalid"],
    ["a NUL byte", () => "docs\0/sub", /NUL bytes/, "invalid"],
    ["`..` out of the root", () => "../outside", /^path escapes the scan root: \.\.\/outside$/, "outside_roots"],
    ["`..` out of the root, deeper", () => "docs/../../outside/secret", /escapes the scan root/, "outside_roots"],
    ["an absolute path climbing out with `..`", () => `${root1}/../outside`, /escapes the scan root/, "outside_roots"],
    ["an absolute path elsewhere", () => join(base, "outside"), /outside the configured scan roots/, "outside_roots"],
    ["a system directory", () => "/etc", /outside the configured scan roots: \/etc$/, "outside_roots"],
    ["a sibling whose name starts with the root's", () => join(base, "root1-evil"), /outside the configured scan roots/, "outside_roots"],
    ["a symbolic link out of the root", () => "escape-link", /outside the configured scan roots through a symbolic link/, "outside_roots"],
    ["a path below a link out of the root", () => "escape-link/secret", /through a symbolic link/, "outside_roots"],
    ["a missing directory", () => "missing", /^Directory not found: missing$/, "not_found"],
    ["a file", () => "file.txt", /^Not a directory: file\.txt$/, "not_directory"],
    ["a path through a file", () => "file.txt/below", /^Not a directory/, "not_directory"],
  ])("refuses %s", async (_name, requested, message, reason) => {
    const error = await resolveScanPath(requested(), [root1, root2]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ScanRequestError);
    expect(error).toMatchObject({ field: "path", reason });
    expect((error as Error).message).toMatch(message);
  });

  it("refuses every scan when no roots are configured", async () => {
    await expect(resolveScanPath("docs", [])).rejects.toMatchObject({ field: "path", reason: "no_roots", message: "no scan roots configured (SCAN_ROOTS)" });
  });

  it("ignores a configured root that does not exist", async () => {
    expect(await resolveScanPath(join(root2, "media"), [join(base, "gone"), root2])).toMatchObject({ root: root2, shown: "/media" });
  });
});

describe("resolveScanRequest", () => {
  const config = () => ({ roots: [root1], maxFiles: 100 });

  it("uses the configured file limit for 0 and keeps a lower one", async () => {
    expect(await resolveScanRequest({ path: "docs", recursive: true, maxFiles: 0 }, config())).toMatchObject({ directory: join(root1, "docs"), recursive: true, maxFiles: 100 });
    expect(await resolveScanRequest({ path: "docs", recursive: false, maxFiles: 7 }, config())).toMatchObject({ recursive: false, maxFiles: 7 });
  });

  it.each([101, -1, 1.5])("refuses max_files %d", async (maxFiles) => {
    await expect(resolveScanRequest({ path: "docs", recursive: true, maxFiles }, config())).rejects.toMatchObject({ field: "max_files", reason: "invalid" });
  });

  it("refuses a bad path with field path", async () => {
    await expect(resolveScanRequest({ path: "../x", recursive: true, maxFiles: 0 }, config())).rejects.toMatchObject({ field: "path", reason: "outside_roots" });
  });
});
