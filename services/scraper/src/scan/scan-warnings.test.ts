import { describe, expect, it } from "vitest";
import { fileLimitWarning, unreadableWarning, WarningList } from "./scan-warnings.js";

describe("unreadableWarning", () => {
  it.each([
    ["EACCES", "Permission denied: /documents/private"],
    ["EPERM", "Permission denied: /documents/private"],
    ["ENOENT", "Removed during the scan: /documents/private"],
    ["ELOOP", "Too many levels of symbolic links: /documents/private"],
    ["EIO", "Could not read (EIO): /documents/private"],
    [undefined, "Could not read (unknown error): /documents/private"],
  ])("%s → %s", (code, warning) => {
    expect(unreadableWarning(code, "/documents/private")).toBe(warning);
  });
});

describe("WarningList", () => {
  it("keeps the first warnings and counts the rest, always keeping a stop reason last", () => {
    const list = new WarningList(2);
    for (let i = 0; i < 5; i++) list.add(`w${i}`);
    list.addAlways(fileLimitWarning(10));
    expect(list.list()).toEqual(["w0", "w1", "…and 3 more warnings", "File limit of 10 reached"]);
  });

  it("is empty when nothing went wrong", () => {
    expect(new WarningList().list()).toEqual([]);
  });
});
