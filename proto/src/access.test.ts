import { describe, expect, it } from "vitest";
import { AccessConfigError, bearerToken, canSeeTenant, checkExposure, isLoopbackHost, OPEN_PRINCIPAL, parseAccessTokens, Role, roleAllows, TokenRegistry } from "./access.js";

const T1 = "acme-read-0123456789";
const T2 = "acme-ctl-0123456789ab";
const T3 = "root-admin-0123456789";

describe("API tokens", () => {
  it("reads inline entries and a JSON file, and authenticates each token as its tenant and role", () => {
    const tokens = parseAccessTokens(`acme:read:${T1}, acme:control:${T2}`, JSON.stringify([{ tenant: "ops", role: "admin", token: T3 }]));
    const registry = new TokenRegistry(tokens);
    expect(registry.enabled).toBe(true);
    expect(registry.authenticate(T1)).toMatchObject({ tenant: "acme", role: Role.READ });
    expect(registry.authenticate(T2)).toMatchObject({ tenant: "acme", role: Role.CONTROL });
    expect(registry.authenticate(T3)).toMatchObject({ tenant: "ops", role: Role.ADMIN });
    expect(registry.authenticate(T3)?.tokenId).toMatch(/^[0-9a-f]{8}$/);
    expect(registry.authenticate(`${T1}x`)).toBeUndefined();
    expect(registry.authenticate("")).toBeUndefined();
    expect(registry.authenticate(undefined)).toBeUndefined();
    expect(registry.authenticate("x".repeat(10_000))).toBeUndefined();
  });

  it("is open (every caller an admin of the default tenant) when no token is configured", () => {
    const registry = new TokenRegistry(parseAccessTokens(undefined));
    expect(registry.enabled).toBe(false);
    expect(registry.authenticate(undefined)).toBe(OPEN_PRINCIPAL);
  });

  it.each([
    ["acme:read", "AUTH_TOKENS", "not tenant:role:token"],
    [`ACME:read:${T1}`, "AUTH_TOKENS", "tenant"],
    [`acme:owner:${T1}`, "AUTH_TOKENS", "role"],
    ["acme:read:short", "AUTH_TOKENS", "token"],
    [`acme:read:${T1}/x`, "AUTH_TOKENS", "token"],
    [`acme:read:${T1},ops:admin:${T1}`, "AUTH_TOKENS", "twice"],
  ])("refuses AUTH_TOKENS=%j naming %s", (inline, variable, detail) => {
    const error = (() => {
      try {
        parseAccessTokens(inline);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(AccessConfigError);
    expect((error as AccessConfigError).variable).toBe(variable);
    expect((error as Error).message).toContain(detail);
  });

  it.each([["{"], ['{"tenant":"a"}'], ['[{"tenant":"a","role":"read"}]'], ["[42]"]])("refuses the token file %j naming AUTH_TOKENS_FILE", (text) => {
    expect(() => parseAccessTokens(undefined, text)).toThrow(/AUTH_TOKENS_FILE/);
  });

  it("ranks roles and scopes tenants", () => {
    expect(roleAllows(Role.ADMIN, Role.CONTROL)).toBe(true);
    expect(roleAllows(Role.CONTROL, Role.CONTROL)).toBe(true);
    expect(roleAllows(Role.READ, Role.CONTROL)).toBe(false);
    expect(roleAllows(Role.CONTROL, Role.ADMIN)).toBe(false);
    expect(canSeeTenant({ tenant: "acme", role: Role.CONTROL, tokenId: "x" }, "acme")).toBe(true);
    expect(canSeeTenant({ tenant: "acme", role: Role.CONTROL, tokenId: "x" }, "other")).toBe(false);
    expect(canSeeTenant({ tenant: "ops", role: Role.ADMIN, tokenId: "x" }, "other")).toBe(true);
  });

  it("takes the token of a Bearer header only", () => {
    expect(bearerToken(`Bearer ${T1}`)).toBe(T1);
    expect(bearerToken(`bearer  ${T1}`)).toBe(T1);
    expect(bearerToken(`Basic ${T1}`)).toBeUndefined();
    expect(bearerToken("Bearer")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it("serves open only on loopback unless explicitly allowed", () => {
    const open = new TokenRegistry([]);
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) {
      expect(isLoopbackHost(host)).toBe(true);
      expect(checkExposure(open, host, "GATEWAY_HOST", false)).toMatch(/loopback/);
    }
    for (const host of ["0.0.0.0", "::", "10.0.0.2", "example.com", "128.0.0.1"]) {
      expect(isLoopbackHost(host)).toBe(false);
      expect(() => checkExposure(open, host, "GATEWAY_HOST", false)).toThrow(/AUTH_TOKENS.*GATEWAY_HOST=/);
      expect(checkExposure(open, host, "GATEWAY_HOST", true)).toMatch(/WITHOUT authentication/);
    }
    expect(checkExposure(new TokenRegistry(parseAccessTokens(`a:read:${T1}`)), "0.0.0.0", "GATEWAY_HOST", false)).toMatch(/authentication on/);
  });
});
