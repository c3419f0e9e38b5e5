/**
 * The API token the dashboard presents when the gateway requires one
 * (AUTH_TOKENS). Opened once as `/?token=<token>` — a link an operator hands
 * out — the token is kept in this browser's localStorage and taken off the
 * address bar; the header's "Token" button replaces or forgets it. It goes to
 * the gateway as the tRPC connection's `connectionParams.token`, and as
 * `?token=` on export links (downloads cannot carry headers).
 */
export const TOKEN_KEY = "trawl.token";

interface Place {
  readonly search: string;
  readonly pathname: string;
  readonly hash: string;
}

/** Reads the token from `?token=` (storing it and removing it from the address) or from storage. */
export function loadToken(place: Place, storage: Pick<Storage, "getItem" | "setItem">, replaceUrl: (url: string) => void): string | undefined {
  const params = new URLSearchParams(place.search);
  const fromUrl = params.get("token");
  if (fromUrl !== null && fromUrl !== "") {
    storage.setItem(TOKEN_KEY, fromUrl);
    params.delete("token");
    const search = params.toString();
    replaceUrl(`${place.pathname}${search === "" ? "" : `?${search}`}${place.hash}`);
    return fromUrl;
  }
  const stored = storage.getItem(TOKEN_KEY);
  return stored === null || stored === "" ? undefined : stored;
}

/** Stores `token`, or forgets the stored one when it is empty. */
export function saveToken(token: string, storage: Pick<Storage, "setItem" | "removeItem">): void {
  if (token.trim() === "") storage.removeItem(TOKEN_KEY);
  else storage.setItem(TOKEN_KEY, token.trim());
}

/** `path` with the token as a query parameter (for links the browser follows itself). */
export function withToken(path: string, token: string | undefined): string {
  if (token === undefined) return path;
  return `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

/** The token this browser keeps (undefined outside a browser or when none is stored). */
export function storedToken(): string | undefined {
  const value = typeof localStorage === "undefined" ? null : localStorage.getItem(TOKEN_KEY);
  return value === null || value === "" ? undefined : value;
}
