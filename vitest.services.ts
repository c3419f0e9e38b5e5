/**
 * Vitest settings shared by the services' unit suites (each package's
 * vitest.config.ts re-exports them). Their tests start real servers, sockets
 * and databases on a shared 2-core machine: a time bound here only catches a
 * hang, it is no speed check (benchmarks measure speed), so it is generous.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
