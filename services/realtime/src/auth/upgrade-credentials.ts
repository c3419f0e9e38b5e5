/**
 * Where a raw WebSocket client may put its API token: `?token=` on the URL
 * (any client), `Authorization: Bearer` (clients that can set headers), or —
 * for browsers, which can set neither headers nor hide query strings from
 * logs — the subprotocol list `["bearer", "<token>"]`
 * (`new WebSocket(url, ["bearer", token])`). The server then answers with the
 * `bearer` subprotocol, never echoing the token.
 */
import type { IncomingMessage } from "node:http";
import { bearerToken } from "@trawl/proto";

export const BEARER_SUBPROTOCOL = "bearer";

export interface UpgradeCredentials {
  /** The token presented, if any. */
  readonly token: string | undefined;
  /** The subprotocol to select in the 101 answer ("bearer" when the token came that way). */
  readonly protocol: string | undefined;
}

export function upgradeCredentials(request: IncomingMessage): UpgradeCredentials {
  const protocols = (request.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const at = protocols.indexOf(BEARER_SUBPROTOCOL);
  if (at >= 0 && protocols[at + 1] !== undefined) return { token: protocols[at + 1], protocol: BEARER_SUBPROTOCOL };
  const header = bearerToken(request.headers.authorization);
  if (header !== undefined) return { token: header, protocol: undefined };
  const query = queryToken(request.url);
  return { token: query, protocol: undefined };
}

function queryToken(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const at = url.indexOf("?");
  if (at < 0) return undefined;
  const token = new URLSearchParams(url.slice(at + 1)).get("token");
  return token === null || token === "" ? undefined : token;
}
