/**
 * Test support: real HTTP servers on 127.0.0.1 port 0 for the crawl tests.
 * Excluded from the build.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Site {
  /** "http://127.0.0.1:<port>" */
  origin: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** Serves `route` for every request until closed. */
export async function startSite(route: Route): Promise<Site> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    route(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A site of HTML pages given as path → body; anything else is a 404. */
export function htmlPages(pages: Record<string, string>): Route {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const body = pages[path];
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/html" }).end("<h1>not found</h1>");
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
  };
}

/** A page whose body is one link per `href`. */
export function linkPage(title: string, hrefs: string[]): string {
  return `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>${hrefs.map((h) => `<a href="${h}">${h}</a>`).join(" ")}</body></html>`;
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
