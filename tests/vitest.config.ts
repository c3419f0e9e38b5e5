import { defineConfig } from "vitest/config";

/**
 * End-to-end suites boot real processes on a shared, slow machine: generous
 * bounds, one file at a time (each file owns its own scraper + gateway).
 */
export default defineConfig({
  test: {
    include: ["fixture/**/*.test.ts", "e2e/**/*.test.ts", "browser/**/*.test.ts"],
    setupFiles: ["support/cleanup.ts"],
    testTimeout: 120_000,
    hookTimeout: 90_000,
    teardownTimeout: 30_000,
    fileParallelism: false,
    pool: "forks",
  },
});
