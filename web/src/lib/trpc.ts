/**
 * The one connection the dashboard holds to the gateway: tRPC over a
 * WebSocket at `/trpc` on the page's own origin. Reconnection (with
 * exponential backoff) and resuming tracked subscriptions from their last
 * event id are the tRPC client's; this module only builds it.
 */
import { createTRPCClient, createWSClient, wsLink, type TRPCClient, type TRPCWebSocketClient } from "@trpc/client";
import type { AppRouter } from "@trawl/realtime";

export type Api = TRPCClient<AppRouter>;

export interface GatewayConnection {
  readonly api: Api;
  readonly socket: TRPCWebSocketClient;
}

/** `ws(s)://<host>/trpc` for the page at `location`. */
export function trpcSocketUrl(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/trpc`;
}

/** `token` (when the gateway requires one) goes as `connectionParams.token` on every (re)connection. */
export function connectGateway(url: string, token?: string): GatewayConnection {
  const socket = createWSClient(token === undefined ? { url } : { url, connectionParams: { token } });
  const api = createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });
  return { api, socket };
}
