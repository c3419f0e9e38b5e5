#!/usr/bin/env node
// `npm start`: runs the embedded default deployment — one scraper process and
// one gateway process — in the foreground. The scraper starts first; the
// gateway is pointed at the address the scraper actually bound. Either child
// exiting stops the other; SIGINT/SIGTERM are forwarded so both shut down
// gracefully (WebSockets closed with 1001, running jobs cancelled cleanly).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const children = new Set();
let stopping = false;

function run(name, script, env, readyMsg) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.add(child);
    let ready = false;
    createInterface({ input: child.stdout }).on("line", (line) => {
      process.stdout.write(`${name.padEnd(8)}| ${line}\n`);
      if (ready) return;
      try {
        const entry = JSON.parse(line);
        if (entry.msg === readyMsg) {
          ready = true;
          resolve(entry);
        }
      } catch {
        // Not a JSON log line (a runtime warning, say): already echoed above.
      }
    });
    child.on("exit", (code, signal) => {
      children.delete(child);
      if (!ready) reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})`));
      if (!stopping) {
        process.stderr.write(`${name} exited (code ${code}, signal ${signal}); stopping Trawl\n`);
        stop(code === 0 ? 1 : (code ?? 1));
      }
    });
  });
}

function stop(exitCode) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  const force = setTimeout(() => {
    for (const child of children) child.kill("SIGKILL");
  }, 10_000);
  force.unref();
  const wait = setInterval(() => {
    if (children.size === 0) {
      clearInterval(wait);
      process.exit(exitCode);
    }
  }, 50);
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

try {
  // The laptop demo may crawl a site served on this machine; the scraper's own
  // default refuses loopback and private addresses (see the README).
  const scraper = await run(
    "scraper",
    "services/scraper/dist/main.js",
    { CRAWL_ALLOW_ADDRESSES: process.env.CRAWL_ALLOW_ADDRESSES ?? "127.0.0.1" },
    "scraper listening",
  );
  const gateway = await run(
    "gateway",
    "services/realtime/dist/main.js",
    { SCRAPER_ADDRESSES: process.env.SCRAPER_ADDRESSES ?? scraper.address },
    "gateway listening",
  );
  const lines = [
    ["dashboard", `${gateway.url}/`],
    ["REST, WebSocket, tRPC", gateway.url],
    ["scraper (gRPC)", scraper.address],
    ["terminal client", "npx trawl --help"],
  ];
  process.stdout.write(
    `\nTrawl is running.\n${lines.map(([label, value]) => `  ${`${label}:`.padEnd(24)}${value}\n`).join("")}` +
      `  try: curl -X POST ${gateway.url}/api/scrape -H 'content-type: application/json' -d '{"url":"https://example.com/","depth":1}'\n\n`,
  );
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  stop(1);
}
