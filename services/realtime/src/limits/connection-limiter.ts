/**
 * Bounds on upgraded connections (every WebSocket: raw endpoints, tRPC,
 * Socket.IO): in total (WS_MAX_CONNECTIONS) and from one client address
 * (WS_MAX_CONNECTIONS_PER_IP). A socket is counted from its upgrade request
 * until it closes. Over a bound the upgrade is refused before any WebSocket
 * exists: HTTP 503 for the total, 429 for one address, with Retry-After.
 */
import type { Duplex } from "node:stream";

export type ConnectionLimit = "connections" | "connections_per_ip";

export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(
    readonly maxConnections: number,
    readonly maxPerIp: number,
  ) {}

  get open(): number {
    return this.total;
  }

  /**
   * Counts a connection from `ip`; or, over a bound, returns which one. The
   * caller calls `release(ip)` when the socket closes (one 'close' listener
   * per socket does all its bookkeeping: listeners are a good part of what an
   * idle connection costs).
   */
  admit(ip: string): ConnectionLimit | undefined {
    if (this.total >= this.maxConnections) return "connections";
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= this.maxPerIp) return "connections_per_ip";
    this.total++;
    this.perIp.set(ip, fromIp + 1);
    return undefined;
  }

  release(ip: string): void {
    this.total--;
    const left = (this.perIp.get(ip) ?? 1) - 1;
    if (left > 0) this.perIp.set(ip, left);
    else this.perIp.delete(ip);
  }
}

/** Answers a refused upgrade on the raw socket: 503 (gateway full) or 429 (this address has too many). */
export function refuseUpgrade(socket: Duplex, limit: ConnectionLimit, max: number): void {
  const [status, reason] = limit === "connections" ? [503, "Service Unavailable"] : [429, "Too Many Requests"];
  const message = limit === "connections" ? `the gateway has its ${max} connections (WS_MAX_CONNECTIONS); try again later` : `this address has ${max} open connections (WS_MAX_CONNECTIONS_PER_IP)`;
  const body = JSON.stringify({ error: limit === "connections" ? "unavailable" : "too_many_requests", field: "connection", message });
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nRetry-After: 5\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
