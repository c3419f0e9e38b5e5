/**
 * Baseline (b): a Socket.IO 4 server broadcasting every message to one
 * room that each client joins on connect — what most Node teams would build.
 * Usage: baseline-socketio-server.ts <scraper address>
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { watchScraper } from "./event-source.js";

const http = createServer();
const io = new Server(http, { transports: ["websocket"], perMessageDeflate: false, serveClient: false });
io.on("connection", (socket) => {
  void socket.join("jobs");
});
watchScraper(process.argv[2]!, (message) => {
  io.to("jobs").emit(message.type, message);
});
http.listen(0, "127.0.0.1", () => process.send?.({ type: "ready", url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}` }));
process.on("disconnect", () => process.exit(0));
