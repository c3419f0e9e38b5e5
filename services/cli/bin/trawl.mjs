#!/usr/bin/env node
// The `trawl` command's entry point. It is committed (not built) so npm links
// the bin on a fresh install, before anything is compiled; it runs the
// compiled CLI, or says how to build it.
import { existsSync } from "node:fs";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("trawl: the CLI is not built yet; run `npm run build` (or `npm start`) in the Trawl checkout first\n");
  process.exit(2);
}
await import(main.href);
