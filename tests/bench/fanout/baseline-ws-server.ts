/**
 * Baseline (a): a bare `ws` server — the platform's limit. Each message is
 * serialized once (JSON.stringify → one Buffer) and written to every open
 * socket with ws.send, nothing else. Usage: baseline-ws-server.ts <scraper address>
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { watchScraper } from "./event-source.js";

const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, path: "/ws/scraping", perMessageDeflate: false, clientTracking: false });
const sockets = new Set<WebSocket>();
wss.on("connection", (ws) => {
  sockets.add(ws);
  ws.on("error", () => undefined);
  ws.on("close", () => sockets.delete(ws));
});
const TEXT = { binary: false } as const;
watchScraper(process.argv[2]!, (message) => {
  const frame = Buffer.from(JSON.stringify(message));
  for (const ws of sockets) ws.send(frame, TEXT);
});
http.listen(0, "127.0.0.1", () => process.send?.({ type: "ready", url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}` }));
process.on("disconnect", () => process.exit(0));
