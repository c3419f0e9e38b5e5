/** Unit tests of the dashboard's pure modules and its runes state, on Svelte's client runtime. */
import { defineConfig, mergeConfig } from "vitest/config";
import viteConfig from "./vite.config.js";

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      include: ["src/**/*.test.ts"],
      environment: "./src/test-support/svelte-client-environment.ts",
    },
  }),
);
