/**
 * Builds the dashboard into `dist/`, which the gateway serves at `/`. In
 * development, `vite` proxies the gateway's endpoints so the app can use
 * same-origin URLs (`/trpc`, `/api`, `/health`) exactly as in production.
 */
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

const gateway = process.env.TRAWL_GATEWAY ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
  },
  server: {
    proxy: {
      "/trpc": { target: gateway, ws: true },
      "/api": { target: gateway },
      "/health": { target: gateway },
    },
  },
  preview: {
    proxy: {
      "/trpc": { target: gateway, ws: true },
      "/api": { target: gateway },
      "/health": { target: gateway },
    },
  },
});
