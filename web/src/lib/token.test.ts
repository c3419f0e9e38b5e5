import { describe, expect, it } from "vitest";
import { loadToken, saveToken, TOKEN_KEY, withToken } from "./token.js";

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    removeItem: (key: string) => void data.delete(key),
  };
}

describe("the dashboard's API token", () => {
  it("takes ?token= from the address, stores it and removes it from the address, keeping the rest", () => {
    const storage = memoryStorage();
    const replaced: string[] = [];
    const token = loadToken({ search: "?token=abc-123&x=1", pathname: "/", hash: "#/jobs" }, storage, (url) => replaced.push(url));
    expect(token).toBe("abc-123");
    expect(storage.data.get(TOKEN_KEY)).toBe("abc-123");
    expect(replaced).toEqual(["/?x=1#/jobs"]);
  });

  it("falls back to the stored token, and to none", () => {
    const replaced: string[] = [];
    expect(loadToken({ search: "", pathname: "/", hash: "" }, memoryStorage({ [TOKEN_KEY]: "kept" }), (url) => replaced.push(url))).toBe("kept");
    expect(loadToken({ search: "?token=", pathname: "/", hash: "" }, memoryStorage(), (url) => replaced.push(url))).toBeUndefined();
    expect(replaced).toEqual([]);
  });

  it("saves or forgets, and adds the token to links", () => {
    const storage = memoryStorage({ [TOKEN_KEY]: "old" });
    saveToken(" new ", storage);
    expect(storage.data.get(TOKEN_KEY)).toBe("new");
    saveToken("", storage);
    expect(storage.data.has(TOKEN_KEY)).toBe(false);
    expect(withToken("/api/jobs/j/export?format=csv", "t k")).toBe("/api/jobs/j/export?format=csv&token=t%20k");
    expect(withToken("/x", undefined)).toBe("/x");
  });
});
