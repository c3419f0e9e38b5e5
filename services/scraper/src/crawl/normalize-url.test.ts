import { describe, expect, it } from "vitest";
import { inScope, normalizeUrl, originPrefix } from "./normalize-url.js";

describe("normalizeUrl", () => {
  const base = "http://Example.COM:80/dir/page.html?x=1";
  it.each([
    ["resolves a relative path", "other.html", "http://example.com/dir/other.html"],
    ["resolves a root-relative path", "/a/b", "http://example.com/a/b"],
    ["resolves dot segments", "../up", "http://example.com/up"],
    ["drops the fragment", "/a#section", "http://example.com/a"],
    ["a bare fragment is the page itself", "#top", "http://example.com/dir/page.html?x=1"],
    ["keeps the query string as it is", "/s?b=2&a=1", "http://example.com/s?b=2&a=1"],
    ["lower-cases scheme and host", "HTTPS://WWW.Example.org/Path", "https://www.example.org/Path"],
    ["drops the default http port", "http://example.org:80/", "http://example.org/"],
    ["drops the default https port", "https://example.org:443/x", "https://example.org/x"],
    ["keeps a non-default port", "http://example.org:8080/x", "http://example.org:8080/x"],
    ["adds the root path", "http://example.org", "http://example.org/"],
    ["trims surrounding whitespace", "  /spaced  ", "http://example.com/spaced"],
    ["resolves protocol-relative URLs", "//cdn.example.net/a", "http://cdn.example.net/a"],
  ])("%s", (_name, href, expected) => {
    expect(normalizeUrl(href, base)).toBe(expected);
  });

  it.each([
    ["mailto links", "mailto:someone@example.com"],
    ["javascript links", "javascript:void(0)"],
    ["ftp links", "ftp://example.com/file"],
    ["data URLs", "data:text/html,hi"],
    ["unparseable URLs", "http://exa mple.com/"],
  ])("rejects %s", (_name, href) => {
    expect(normalizeUrl(href, base)).toBeUndefined();
  });

  it("rejects a relative reference without a base", () => {
    expect(normalizeUrl("/relative")).toBeUndefined();
  });
});

describe("scope", () => {
  const prefix = originPrefix("http://example.com:8080/start");
  it.each([
    ["http://example.com:8080/a", true],
    ["http://example.com:8080/", true],
    ["http://example.com/a", false],
    ["https://example.com:8080/a", false],
    ["http://example.com:80800/a", false],
    ["http://example.com.evil:8080/a", false],
  ])("%s in scope: %s", (url, expected) => {
    expect(inScope(url, prefix)).toBe(expected);
  });
});
