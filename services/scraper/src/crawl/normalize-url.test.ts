import { describe, expect, it } from "vitest";
import { dedupeKey, hostKey, inScope, normalizeUrl, originPrefix } from "./normalize-url.js";

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

  it.each([
    ["drops utm_* parameters", "http://e.com/a?utm_source=x&utm_medium=y&utm_campaign=z", "http://e.com/a"],
    ["keeps the other parameters, in their order", "http://e.com/a?b=2&utm_source=x&a=1", "http://e.com/a?b=2&a=1"],
    ["drops gclid", "http://e.com/?gclid=abc&q=1", "http://e.com/?q=1"],
    ["drops fbclid", "http://e.com/?fbclid=abc", "http://e.com/"],
    ["drops msclkid", "http://e.com/?msclkid=1", "http://e.com/"],
    ["drops mc_cid and mc_eid", "http://e.com/?mc_cid=1&mc_eid=2&id=7", "http://e.com/?id=7"],
    ["drops _ga", "http://e.com/?_ga=2.1.3&x=1", "http://e.com/?x=1"],
    ["drops yclid", "http://e.com/?yclid=9", "http://e.com/"],
    ["drops igshid", "http://e.com/p?igshid=9", "http://e.com/p"],
    ["drops ref_src", "http://e.com/p?ref_src=twsrc", "http://e.com/p"],
    ["matches tracking names case-insensitively", "http://e.com/?UTM_Source=x&q=1", "http://e.com/?q=1"],
    ["drops a tracking name without a value", "http://e.com/?utm_source&q", "http://e.com/?q"],
    ["drops an escaped tracking name", "http://e.com/?utm%5Fsource=x&q=1", "http://e.com/?q=1"],
    ["keeps look-alikes", "http://e.com/?utmost=1&gclid_x=2&ref=3", "http://e.com/?utmost=1&gclid_x=2&ref=3"],
    ["keeps values byte for byte", "http://e.com/?q=a+b%20c&utm_term=x&z=%C3%A9", "http://e.com/?q=a+b%20c&z=%C3%A9"],
    ["keeps empty parameters", "http://e.com/?a=1&&b=2", "http://e.com/?a=1&&b=2"],
    ["drops tracking and fragment together", "http://e.com/a?utm_source=x#top", "http://e.com/a"],
  ])("%s", (_name, href, expected) => {
    expect(normalizeUrl(href)).toBe(expected);
  });

  it.each([
    ["decimal", "http://2130706433/"],
    ["hex", "http://0x7f000001/"],
    ["octal", "http://0177.0.0.1/"],
    ["short", "http://127.1/"],
  ])("canonicalises a %s IPv4 host", (_name, href) => {
    expect(normalizeUrl(href)).toBe("http://127.0.0.1/");
  });

  it("canonicalises an IPv4-mapped IPv6 host", () => {
    expect(normalizeUrl("http://[::ffff:127.0.0.1]/")).toBe("http://[::ffff:7f00:1]/");
  });
});

describe("dedupeKey", () => {
  it.each([
    ["/path/ and /path are one page", "http://e.com/path/", "http://e.com/path"],
    ["a path without a trailing slash is its own key", "http://e.com/path", "http://e.com/path"],
    ["the root keeps its slash", "http://e.com/", "http://e.com/"],
    ["the query is kept", "http://e.com/a/?q=1/", "http://e.com/a?q=1/"],
    ["only one slash is removed", "http://e.com/a//", "http://e.com/a/"],
    ["a port is kept", "http://e.com:8080/a/", "http://e.com:8080/a"],
    ["an IPv6 host is kept", "http://[::1]:8080/a/", "http://[::1]:8080/a"],
  ])("%s", (_name, url, expected) => {
    expect(dedupeKey(url)).toBe(expected);
  });
});

describe("hostKey", () => {
  it.each([
    ["http://e.com/a", "e.com"],
    ["https://e.com:8443/a", "e.com:8443"],
    ["http://127.0.0.1:3000/", "127.0.0.1:3000"],
  ])("%s → %s", (url, expected) => {
    expect(hostKey(url)).toBe(expected);
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
