/**
 * A Vitest environment for unit tests of runes code: Node globals, but
 * modules transformed for Vite's client environment, so `.svelte.ts` files
 * are compiled for (and `svelte` resolves to) the browser runtime with real
 * `$state` proxies rather than the server build, where `$state(x)` is `x`.
 */
import type { Environment } from "vitest/environments";

export default {
  name: "svelte-client",
  viteEnvironment: "client",
  setup() {
    return { teardown() {} };
  },
} satisfies Environment;
