/**
 * Load generator for the end-to-end scenario: opens `count` `ws` clients on
 * `<url>` (the gateway's /ws/scraping), prints `READY <open>` once they are
 * all open, counts the frames each receives (by type) without keeping them,
 * and on a line `STOP` on stdin (or stdin closing, or 10 minutes) closes
 * them all and prints `WATCHERS <json>` (frames by type, bytes, and the CPU
 * seconds spent receiving since READY, and the fewest item_previews any one
 * client got). It prints `DONE` once every client has had a job_complete,
 * so the runner stops it only when they have all read to the end. Run in its own process, under a
 * raised file-descriptor limit, so the clients' cost is not the runner's:
 *   tsx bench/crawl-compare/watchers.ts <ws url> <count>
 */
import { createInterface } from "node:readline";
import WebSocket from "ws";

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!url?.startsWith("ws://127.0.0.1:") || !Number.isInteger(count) || count <= 0) throw new Error(`usage: <ws://127.0.0.1:port/ws/scraping> <count>; got ${process.argv.slice(2).join(" ")}`);

const sockets: WebSocket[] = [];
const frames: Record<string, number> = {};
let bytes = 0;
let errors = 0;
let closedEarly = 0;
let completed = 0;
const previews: number[] = [];

function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url!, { perMessageDeflate: false });
    const index = sockets.push(socket) - 1;
    previews[index] = 0;
    socket.on("error", (error) => {
      errors++;
      reject(error);
    });
    socket.on("close", () => closedEarly++);
    socket.on("message", (data: Buffer) => {
      bytes += data.length;
      // The type is near the start of every seed-000 frame; slicing avoids parsing every payload 1,000 times over.
      const type = /"type":"([a-z_]+)"/.exec(data.toString("latin1", 0, 64))?.[1] ?? "other";
      frames[type] = (frames[type] ?? 0) + 1;
      if (type === "item_preview") previews[index]!++;
      else if (type === "job_complete" && ++completed === count) process.stdout.write("DONE\n");
    });
    socket.once("open", () => resolve());
  });
}

// Open in batches so the gateway's accept queue is not the thing measured.
for (let i = 0; i < count; i += 100) await Promise.all(Array.from({ length: Math.min(100, count - i) }, open));
/** CPU from here on is the cost of receiving the crawl's events, the part that competes with the crawl for cores. */
const cpuAtReady = process.cpuUsage();
process.stdout.write(`READY ${sockets.filter((s) => s.readyState === WebSocket.OPEN).length}\n`);

let stopped = false;
const stop = (): void => {
  if (stopped) return;
  stopped = true;
  const stillOpen = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  const perClient: Record<string, number> = {};
  for (const [type, n] of Object.entries(frames)) perClient[type] = n / count;
  const cpu = process.cpuUsage(cpuAtReady);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const minPreviews = Math.min(...previews);
  process.stdout.write(`WATCHERS ${JSON.stringify({ clients: count, stillOpen, closedEarly, errors, bytes, frames, perClient, cpuSeconds, minPreviews })}\n`);
  for (const socket of sockets) socket.terminate();
  process.exit(0);
};
createInterface({ input: process.stdin })
  .on("line", (line) => {
    if (line.trim() === "STOP") stop();
  })
  .on("close", stop);
setTimeout(stop, 600_000).unref();
