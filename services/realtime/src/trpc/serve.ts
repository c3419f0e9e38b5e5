/**
 * The tRPC edge's transports: HTTP (queries, mutations and SSE
 * subscriptions) as express middleware at `/trpc`, and a WebSocket endpoint
 * at `/trpc` on a `noServer` WebSocketServer that the gateway's upgrade
 * routing hands requests to.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import { CloseCode } from "../ws/close-codes.js";
import { bearerToken, Role } from "@trawl/proto";
import type { GatewayAccess } from "../auth/gateway-access.js";
import { MessageRate } from "../limits/message-rate.js";
import type { TrpcContext } from "./init.js";
import { watchEncoder } from "./event-bus.js";
import { appRouter } from "./router.js";

export const TRPC_PATH = "/trpc";

export interface TrpcEdge {
  /** Mount at `/trpc` on the express app. */
  readonly http: RequestHandler;
  /** Accepts an upgrade already routed to `/trpc`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every tRPC WebSocket with 1001. */
  close(): void;
  /** Open tRPC WebSockets (the connections gauge of /metrics). */
  readonly connectionCount: number;
}

export interface TrpcEdgeOptions {
  maxPayloadBytes: number;
  heartbeatMs: number;
  logger: Logger;
  access?: GatewayAccess;
  /** Subscriptions one connection may hold at once (WS_MAX_SUBSCRIPTIONS); more are TOO_MANY_REQUESTS. */
  maxSubscriptions?: number;
  /** Messages a WebSocket client may send per second (WS_MAX_MESSAGES_PER_SECOND); more closes it 1008. */
  maxMessagesPerSecond?: number;
  /** Told when a limit is hit ("message_rate", "subscriptions"). */
  onLimit?: (limit: string) => void;
}

export function createTrpcEdge(context: TrpcContext, options: TrpcEdgeOptions): TrpcEdge {
  const { logger, access } = options;
  /**
   * The caller's token: `connectionParams.token` (the WebSocket link's, or the
   * SSE link's — browsers cannot set headers there), else `Authorization: Bearer`.
   */
  const contextFor =
    (edge: "trpc" | undefined) =>
    ({ req, res, info }: { req: IncomingMessage; res: unknown; info: { connectionParams: Record<string, string | undefined> | null } }): TrpcContext => {
      // One slot counter per connection (WebSocket) or request (HTTP / SSE).
      const subscriptions = { active: 0, max: options.maxSubscriptions ?? Number.POSITIVE_INFINITY, ...(options.onLimit === undefined ? {} : { onLimit: options.onLimit }) };
      const base: TrpcContext = res instanceof WebSocket ? { ...context, subscriptions, socket: res } : { ...context, subscriptions };
      if (access === undefined) return base;
      const fromParams = info.connectionParams?.token;
      const token = typeof fromParams === "string" && fromParams !== "" ? fromParams : bearerToken(req.headers.authorization);
      return { ...base, access, principal: access.check(token, Role.READ, edge) };
    };
  // Refusals over HTTP are counted by the REST app from the 401/403 it sends; over the WebSocket, here.
  const createContext = contextFor("trpc");
  const onError = ({ error, path }: { error: { code: string; message: string }; path?: string | undefined }): void => {
    if (error.code === "INTERNAL_SERVER_ERROR") logger.error({ path, err: error.message }, "trpc call failed");
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes, perMessageDeflate: false });
  wss.on("connection", (ws) => {
    ws.on("error", (error) => logger.debug({ err: error.message }, "trpc socket error"));
    const limit = options.maxMessagesPerSecond;
    if (limit === undefined) return;
    let rate: MessageRate | undefined;
    ws.on("message", () => {
      rate ??= new MessageRate(limit);
      if (rate.take() || ws.readyState !== ws.OPEN) return;
      options.onLimit?.("message_rate");
      ws.close(CloseCode.POLICY_VIOLATION, "message rate limit exceeded (WS_MAX_MESSAGES_PER_SECOND)");
    });
  });
  // The encoder lets an `events.watch` subscription learn its JSON-RPC id, to go direct (event-bus.ts).
  applyWSSHandler({ wss, router: appRouter, createContext, onError, experimental_encoder: watchEncoder, keepAlive: { enabled: true, pingMs: options.heartbeatMs, pongWaitMs: options.heartbeatMs } });

  return {
    http: createExpressMiddleware({ router: appRouter, createContext: contextFor(undefined), onError }),
    handleUpgrade(request, socket, head) {
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
    },
    close() {
      for (const ws of wss.clients) ws.close(CloseCode.GOING_AWAY, "server shutting down");
      wss.close();
    },
    get connectionCount() {
      return wss.clients.size;
    },
  };
}
